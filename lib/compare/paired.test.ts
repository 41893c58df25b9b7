import { describe, expect, it } from "vitest";
import { toCsv } from "../csv";
import { RunConfig, type RunConfigInput } from "../protocol";
import { wilson } from "../stats";
import type { CompareRun, RoundResult } from "./api";
import { pairedRecords, roundsRecords, tableRecords } from "./export";
import { pairedComparisons } from "./paired";
import { aggregateSeries } from "./series";
import { tableRows } from "./tableOne";

/** A round of 10 samples whose verdicts are `verdicts` ("v" verified, "f" falsified). */
function round(k: number, verdicts: string, sparsity = true): RoundResult {
  const verified = [...verdicts].filter((c) => c === "v").length;
  const n = verdicts.length;
  const scope = Math.round(1000 * 0.8 ** k);
  return {
    round: k, remainingRatio: scope / 1000, remainingChannelRatio: 1, standardAccuracy: 0.9, adversarialAccuracy: 0.5,
    verifiedAccuracy: verified / n, verified, falsified: n - verified, unknown: 0, misclassified: 0, samples: n,
    meanVerifySeconds: 1, unstableRatio: null, instability: null, seconds: 1, layerRemaining: {},
    ...(sparsity ? { sparsity: { scope: { remaining: scope, total: 1000 }, all: { remaining: scope + 200, total: 1200 }, channels: null } } : {}),
  };
}

function run(id: string, method: "imp" | "random", seed: number, rounds: [number, string][], best: number, indistinguishable: number[] | null = null, sparsity = true): CompareRun {
  const config: RunConfigInput = { data: { dataset: "synthetic" }, pruning: { method }, verification: { samples: 10 }, seed };
  return {
    id, label: id, status: "finished", progress: 1, sweepId: null, config: RunConfig.parse(config),
    rounds: rounds.map(([k, v]) => round(k, v, sparsity)), sampleOutcomes: [],
    best: { round: best, verifiedAccuracy: null, rule: "most verified; earliest on ties", indistinguishable, source: "engine" },
    verdicts: rounds.filter(([k]) => k === 0 || k === best).map(([k, v]) => ({ round: k, verdicts: v })),
  };
}

// IMP: seed 0 goes from 2/10 (dense) to 7/10 at round 1; seed 1 from 3/10 to 8/10.
// Random: 2/10 and 3/10 at its best (round 0) on both seeds.
const runs = () => [
  run("i0", "imp", 0, [[0, "vvffffffff"], [1, "vvvvvvvfff"]], 1, [1]),
  run("i1", "imp", 1, [[0, "vvvfffffff"], [1, "vvvvvvvvff"]], 1, [1]),
  run("r0", "random", 0, [[0, "vvffffffff"], [1, "vfffffffff"]], 0, [0, 1]),
  run("r1", "random", 1, [[0, "vvvfffffff"], [1, "vvffffffff"]], 0, [0, 1]),
];

describe("intervals on the compare page", () => {
  it("a single seed gets the Wilson interval of its count; several seeds the t-interval of the mean", () => {
    const one = aggregateSeries([runs()[0]])[0];
    expect(one.best!.verifiedAccuracy!.ciKind).toBe("wilson");
    expect(one.best!.verifiedAccuracy!.ci).toEqual(wilson(7, 10));
    // Standard accuracy on the synthetic test set: min(500 test images, 1000 attack samples) = 500 images.
    expect(one.best!.standardAccuracy.ci).toEqual(wilson(450, 500));
    const [, imp] = aggregateSeries(runs());
    const v = imp.best!.verifiedAccuracy!;
    expect(v).toMatchObject({ n: 2, ciKind: "t" });
    expect(v.mean).toBeCloseTo(0.75, 12);
    // 0.75 ± 12.706 · 0.0707/√2, clipped to [0, 1]
    expect(v.ci!.lo).toBeCloseTo(0.75 - 12.7062 * 0.05, 3);
    expect(v.ci!.hi).toBe(1);
  });

  it("never shows a zero-width interval for seeds that agree: the Wilson interval of the mean count is the floor", () => {
    const same = [run("a", "imp", 0, [[0, "vvvvvvvfff"]], 0), run("b", "imp", 1, [[0, "vvvvvvvfff"]], 0)];
    const v = aggregateSeries(same)[0].best!.verifiedAccuracy!;
    expect(v).toMatchObject({ n: 2, std: 0, ciKind: "wilson" });
    expect(v.ci).toEqual(wilson(7, 10));
  });

  it("reads both sparsity definitions, and says 'not recorded' for old rounds", () => {
    const [, imp] = aggregateSeries(runs());
    const p1 = imp.points[1];
    expect(p1.remainingRatio.mean).toBeCloseTo(0.8, 12);
    expect(p1.remainingAll!.mean).toBeCloseTo(1000 / 1200, 12);
    expect(p1.remainingChannels).toBeNull();
    const [old] = aggregateSeries([run("o", "imp", 0, [[0, "vvffffffff"], [1, "vvvvvvvfff"]], 1, null, false)]);
    expect(old.points[1].remainingAll).toBeNull();
    const [record] = tableRecords(tableRows([old]));
    expect(record).toMatchObject({ remainingOfPrunedLayers: "0.8", remainingOfAllWeights: "", indistinguishableRounds: "not recorded" });
  });
});

describe("paired comparisons", () => {
  it("tests each method's best round against its dense round on the same samples, pooled over seeds", () => {
    const series = aggregateSeries(runs());
    const rows = pairedComparisons(series, runs());
    const imp = rows.find((r) => r.kind === "vs-dense" && r.a.startsWith("IMP"))!;
    expect(imp.a).toBe("IMP best (round 1)");
    // Per seed: 5 samples verified only at round 1, none only at round 0 -> McNemar p = 2/32.
    expect(imp.seeds.map((s) => s.paired.p)).toEqual([0.0625, 0.0625]);
    // Pooled: 10 discordant, all one way -> p = 2/1024.
    expect(imp.pooled).toMatchObject({ n: 20, onlyA: 10, onlyB: 0 });
    expect(imp.pooled!.p).toBeCloseTo(2 / 1024, 12);
    expect(imp.notSignificant).toBe(false);
    expect(imp.acrossSeeds).toMatchObject({ n: 2, wins: 2, losses: 0, signP: 0.5 });
    const random = rows.find((r) => r.kind === "vs-dense" && r.a.startsWith("Random"))!;
    expect(random.pooled!.p).toBe(1); // best is round 0 itself
    expect(random.notSignificant).toBe(true);
  });

  it("pairs methods by seed, and refuses to pair different verification samples", () => {
    const rows = pairedComparisons(aggregateSeries(runs()), runs());
    const between = rows.find((r) => r.kind === "methods")!;
    expect(between.a).toBe("Random best");
    expect(between.b).toBe("IMP best");
    expect(between.pooled).toMatchObject({ n: 20, onlyA: 0, onlyB: 10 });
    expect(between.pooled!.diff).toBeCloseTo(-0.5, 12);
    expect(pairedRecords(rows).find((r) => r.comparison === "methods")).toMatchObject({ significant: "significant", mcnemarP: String(Number((2 / 1024).toFixed(6))) });

    const other = runs();
    other[2].config = RunConfig.parse({ ...other[2].config, verification: { ...other[2].config.verification, samples: 20 } });
    other[3].config = RunConfig.parse({ ...other[3].config, verification: { ...other[3].config.verification, samples: 20 } });
    const refused = pairedComparisons(aggregateSeries(other), other).find((r) => r.kind === "methods");
    // Different sample counts make different series keys; whatever pairs, none of these seeds pair.
    expect(refused?.pooled ?? null).toBeNull();
    expect(refused?.reason).toMatch(/different verification samples/);
  });

  it("exports intervals, p-values and the not-significant mark to CSV", () => {
    const series = aggregateSeries(runs());
    const rounds = toCsv(roundsRecords(series));
    expect(rounds.split("\r\n")[0]).toContain("verifiedAccuracyLo,verifiedAccuracyHi,verifiedAccuracyCiKind");
    expect(rounds.split("\r\n")[0]).toContain("remainingOfPrunedLayers,remainingOfAllWeights,remainingOfChannels");
    const paired = toCsv(pairedRecords(pairedComparisons(series, runs())));
    expect(paired).toContain("not significant");
    expect(paired.split("\r\n")[0]).toContain("mcnemarP");
  });
});
