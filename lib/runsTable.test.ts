import { describe, expect, it } from "vitest";
import { DEFAULT_SETTINGS } from "./protocol/defaults";
import { durationOf, filterRuns, methodOf, NO_FILTERS, overviewRows, sortRuns, type OverviewRun } from "./runsTable";
import { DEFAULT_RUNS_TABLE_STATE, parseRunsTableQuery, runsTableQuery } from "./viewState";

function run(id: string, dataset: "synthetic" | "fashion-mnist", extra: Partial<OverviewRun> = {}): OverviewRun {
  return {
    id, label: id, status: "finished", progress: 1, sweepId: null, createdAt: Number(id.slice(-2)),
    config: { ...DEFAULT_SETTINGS, data: { ...DEFAULT_SETTINGS.data, dataset } },
    summary: {}, ...extra,
  };
}

describe("the runs table", () => {
  it("never groups runs of different datasets together", () => {
    const runs = [run("run_01", "synthetic"), run("run_02", "fashion-mnist"), run("run_03", "synthetic")];
    const groups = overviewRows(runs, "method", new Set()).filter((r) => r.kind === "group");
    expect(groups.map((g) => g.kind === "group" && [g.value, g.dataset, g.runs.map((r) => r.id)])).toEqual([
      ["IMP", "synthetic", ["run_01", "run_03"]],
      ["IMP", "fashion-mnist", ["run_02"]],
    ]);
    // Grouping by the dataset itself: one group per dataset.
    expect(overviewRows(runs, "data.dataset", new Set()).filter((r) => r.kind === "group")).toHaveLength(2);
  });

  it("searches tags and notes, filters by tag, and sorts by duration", () => {
    const runs = [
      run("run_01", "synthetic", { tags: ["baseline"], notes: "learning rate too high", startedAt: 0, finishedAt: 50_000 }),
      run("run_02", "synthetic", { tags: ["ablation"], startedAt: 0, finishedAt: 10_000 }),
      run("run_03", "synthetic", { status: "queued", startedAt: null, finishedAt: null }),
    ];
    expect(filterRuns(runs, { ...NO_FILTERS, search: "#baseline" }).map((r) => r.id)).toEqual(["run_01"]);
    expect(filterRuns(runs, { ...NO_FILTERS, search: "too high" }).map((r) => r.id)).toEqual(["run_01"]);
    expect(filterRuns(runs, { ...NO_FILTERS, tag: "ablation" }).map((r) => r.id)).toEqual(["run_02"]);
    expect(durationOf(runs[0])).toBe(50);
    expect(durationOf(runs[2])).toBeNull();
    expect(sortRuns(runs, { key: "duration", descending: true }).map((r) => r.id)).toEqual(["run_01", "run_02", "run_03"]);
  });

  it("labels an uploaded model's method as such", () => {
    const upload = run("run_04", "synthetic", { config: { ...DEFAULT_SETTINGS, model: { ...DEFAULT_SETTINGS.model, arch: "onnx", onnx: "/x.onnx" } } });
    expect(methodOf(upload)).toBe("uploaded model");
  });

  it("keeps filters, grouping, sort and hidden columns in the URL", () => {
    const known = { sortKeys: ["created", "verified"], groupKeys: ["sweep", "method"], columns: ["seed", "regime"] };
    expect(runsTableQuery(DEFAULT_RUNS_TABLE_STATE)).toBe("");
    const state = { ...DEFAULT_RUNS_TABLE_STATE, search: "imp #base", tag: "base", groupBy: "", sort: { key: "verified", descending: true }, hidden: ["seed"] };
    const query = runsTableQuery(state);
    expect(query).toBe("q=imp+%23base&tag=base&group=none&sort=verified.desc&hide=seed");
    expect(parseRunsTableQuery(Object.fromEntries(new URLSearchParams(query)), known)).toEqual(state);
    // Unknown values fall back to the defaults.
    expect(parseRunsTableQuery({ group: "nope", sort: "evil.desc", hide: "x,seed" }, known)).toEqual({ ...DEFAULT_RUNS_TABLE_STATE, hidden: ["seed"] });
  });
});
