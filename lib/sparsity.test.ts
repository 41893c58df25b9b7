import { describe, expect, it } from "vitest";
import { evaluationImages, withInterval } from "./accuracy";
import { RunConfig } from "./protocol";
import { basesOf, remainingLabel, remainingOf, remainingText } from "./sparsity";
import { wilson } from "./stats";

describe("sparsity: one definition", () => {
  const recorded = { remainingRatio: 0.64, sparsity: { scope: { remaining: 64, total: 100 }, all: { remaining: 163_207, total: 166_248 }, channels: null } };
  const old = { remainingRatio: 0.64 };

  it("reads each basis from the round's counts, and falls back only for the scope", () => {
    expect(remainingOf(recorded, "scope")).toBeCloseTo(0.64, 12);
    expect(remainingOf(recorded, "all")).toBeCloseTo(163_207 / 166_248, 12);
    expect(remainingOf(recorded, "channels")).toBeNull();
    expect(remainingOf(old, "scope")).toBe(0.64);
    expect(remainingOf(old, "all")).toBeNull();
    expect(basesOf([old])).toEqual(["scope"]);
    expect(basesOf([old, recorded])).toEqual(["scope", "all"]);
  });

  it("labels every fraction with what it counts, as a percentage", () => {
    expect(remainingLabel(recorded, "scope")).toBe("64.0% of pruned layers");
    expect(remainingLabel(recorded, "all")).toBe("98.2% of all weights");
    expect(remainingLabel(old, "all")).toBe("of all weights: not recorded");
    expect(remainingText(null)).toBe("not recorded");
  });
});

describe("accuracy intervals", () => {
  it("counts the images the engine measured accuracy on", () => {
    expect(evaluationImages(RunConfig.parse({ data: { dataset: "synthetic" } }))).toBe(500);
    expect(evaluationImages(RunConfig.parse({ data: { dataset: "cifar10" } }))).toBe(1000); // attackSamples
    expect(evaluationImages(RunConfig.parse({ data: { dataset: "cifar10", testSize: 300 } }))).toBe(300);
    expect(evaluationImages(RunConfig.parse({ data: { dataset: "cifar10" }, verification: { mode: "none" } }))).toBe(10_000);
    expect(withInterval(0.7, wilson(7, 10))).toBe("70.0% [39.7, 89.2]");
  });
});
