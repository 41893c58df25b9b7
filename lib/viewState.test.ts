import { describe, expect, it } from "vitest";
import { DEFAULT_RUN_STATE, parseRunQuery, runQuery } from "./viewState";

describe("the run page's state in its URL", () => {
  it("round-trips the selected round and layer, leaving defaults out", () => {
    expect(runQuery(DEFAULT_RUN_STATE)).toBe("");
    expect(runQuery({ round: 3, layer: "conv2" })).toBe("round=3&layer=conv2");
    expect(runQuery({ round: 0, layer: null })).toBe("round=0");
    expect(parseRunQuery({ round: "3", layer: "conv2" })).toEqual({ round: 3, layer: "conv2" });
    expect(parseRunQuery(Object.fromEntries(new URLSearchParams(runQuery({ round: 12, layer: "fc 1/a" }))))).toEqual({ round: 12, layer: "fc 1/a" });
    expect(parseRunQuery({})).toEqual(DEFAULT_RUN_STATE);
  });

  it("falls back, value by value, to a share's saved state when the query is malformed", () => {
    const saved = { round: 2, layer: "fc1" };
    expect(parseRunQuery({}, saved)).toEqual(saved);
    expect(parseRunQuery({ round: "-1", layer: "conv2" }, saved)).toEqual({ round: 2, layer: "conv2" });
    expect(parseRunQuery({ round: "1e3" }, saved)).toEqual(saved);
    expect(parseRunQuery({ round: "5000" }, saved)).toEqual(saved);
    expect(parseRunQuery({ round: ["4", "5"], layer: "x".repeat(300) }, saved)).toEqual({ round: 4, layer: "fc1" });
  });
});

describe("the view states without zod", () => {
  it("have the defaults the share schemas give, and the schemas accept what the parsers return", async () => {
    const { CompareViewState, RunViewState } = await import("./viewStateSchema");
    const { DEFAULT_COMPARE_STATE, parseCompareQuery } = await import("./viewState");
    expect(CompareViewState.parse({})).toEqual(DEFAULT_COMPARE_STATE);
    expect(RunViewState.parse({})).toEqual(DEFAULT_RUN_STATE);
    const { state } = parseCompareQuery({ runs: "run_0123456789abcdef", metric: "unstable", hide: "IMP|Random", layer: "conv2", all: "1" });
    expect(state).toEqual({ metric: "unstable", hidden: ["IMP", "Random"], layer: "conv2", onlyDiff: false });
    expect(CompareViewState.parse(state)).toEqual(state);
    expect(parseCompareQuery({ metric: "bogus", layer: "x".repeat(300) }).state).toEqual(DEFAULT_COMPARE_STATE);
  });
});
