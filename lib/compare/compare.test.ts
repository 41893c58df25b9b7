import { describe, expect, it } from "vitest";
import { toCsv } from "../csv";
import { RunConfig, type RunConfigInput } from "../protocol";
import { compareQuery, parseCompareQuery } from "../viewState";
import type { CompareRun, RoundResult } from "./api";
import { tableRecords } from "./export";
import { aggregateSeries } from "./series";
import { settingsTable } from "./settings";
import { tableRows } from "./tableOne";

function round(k: number, ratio: number, verified: number | null, standard: number, seconds: number | null = 1): RoundResult {
  const samples = 10;
  const v = verified === null ? 0 : Math.round(verified * samples);
  return {
    round: k, remainingRatio: ratio, remainingChannelRatio: 1, standardAccuracy: standard, adversarialAccuracy: null,
    verifiedAccuracy: verified, verified: v, falsified: samples - v, unknown: 0, misclassified: 0, samples,
    meanVerifySeconds: seconds, unstableRatio: null, instability: null, seconds: 1,
    layerRemaining: { fc1: Math.round(100 * ratio) / 100 },
  };
}

/**
 * A finished run as results.compare reports it. Its best round plays the engine's part
 * (the most verified samples, the earliest round on ties) unless `best` names one.
 */
function run(id: string, config: RunConfigInput, rounds: RoundResult[], best?: number): CompareRun {
  const verified = rounds.filter((r) => r.verifiedAccuracy != null);
  const engineBest = best ?? verified.reduce<RoundResult | null>((b, r) => (!b || r.verified > b.verified ? r : b), null)?.round;
  return {
    id, label: id, status: "finished", progress: 1, sweepId: null, config: RunConfig.parse(config), rounds, sampleOutcomes: [],
    best: engineBest == null ? null : { round: engineBest, verifiedAccuracy: rounds.find((r) => r.round === engineBest)?.verifiedAccuracy ?? null, rule: "most verified; earliest on ties", indistinguishable: null, source: "engine" },
  };
}

const imp = (seed: number, epochs = 2): RunConfigInput => ({ pruning: { method: "imp" }, training: { epochs }, seed });
const random = (seed: number): RunConfigInput => ({ pruning: { method: "random" }, seed });

describe("aggregating runs into series", () => {
  it("groups seeds of the same settings and gives mean and sample std per round", () => {
    const series = aggregateSeries([
      run("a", imp(0), [round(0, 1, 0.5, 0.8), round(1, 0.8, 0.7, 0.9)]),
      run("b", imp(1), [round(0, 1, 0.7, 0.8), round(1, 0.8, 0.9, 0.7)]),
      run("c", random(0), [round(0, 1, 0.6, 0.8)]),
    ]);
    expect(series.map((s) => s.label)).toEqual(["Random", "IMP"]); // METHOD_LABELS order
    const impSeries = series[1];
    expect(impSeries.seeds).toEqual([0, 1]);
    expect(impSeries.runIds).toEqual(["a", "b"]);
    const r0 = impSeries.points[0];
    expect(r0.verifiedAccuracy!.mean).toBeCloseTo(0.6, 12);
    expect(r0.verifiedAccuracy!.std).toBeCloseTo(Math.SQRT2 * 0.1, 12); // (0.5, 0.7): n-1 in the denominator
    expect(r0.layers[0].remaining.mean).toBe(1);
    expect(impSeries.points[1].layers[0].remaining.mean).toBeCloseTo(0.8, 12);
    expect(impSeries.best!.round).toBe(1);
    expect(series[0].points[0].verifiedAccuracy!.std).toBe(0); // one seed
    expect(series[0].color).not.toBe(impSeries.color);
  });

  it("takes the engine's best round (never re-picks it), and reports changes against round 0", () => {
    // Rounds 1 and 2 tie: the engine's rule gives the earliest; before issue #15 the compare page took the sparser.
    const rounds = [round(0, 1, 0.4, 0.9, 2), round(1, 0.8, 0.6, 0.85, 1.5), round(2, 0.64, 0.6, 0.8, 1)];
    const [tied] = aggregateSeries([run("a", imp(0), rounds)]);
    expect(tied.best!.round).toBe(1);
    // Whatever the engine decided is what the page shows.
    const [s] = aggregateSeries([run("a", imp(0), rounds, 2)]);
    expect(s.best!.round).toBe(2);
    const [row] = tableRows([s]);
    expect(row.change.verified).toBeCloseTo(0.2, 12);
    expect(row.change.standard).toBeCloseTo(-0.1, 12);
    expect(row.change.seconds).toBeCloseTo(-1, 12);
    const [record] = tableRecords([row]);
    expect(record).toMatchObject({ series: "IMP", bestRound: 2, remainingRatio: "0.64", verifiedAccuracy: "0.6", verifiedChange: "0.2" });
  });

  it("tells apart series of the same method by the settings that differ", () => {
    const series = aggregateSeries([run("a", imp(0, 2), [round(0, 1, 0.5, 0.8)]), run("b", imp(0, 5), [round(0, 1, 0.5, 0.8)])]);
    expect(series.map((s) => s.label).sort()).toEqual(["IMP (epochs 2)", "IMP (epochs 5)"]);
  });

  it("sets one regime's curve beside another's: the same method under SABR and MTL-IBP, seeds grouped per regime", () => {
    const under = (regime: "sabr" | "mtl-ibp", seed: number): RunConfigInput => ({ pruning: { method: "imp" }, training: { regime }, seed });
    const series = aggregateSeries([
      run("s0", under("sabr", 0), [round(0, 1, 0.5, 0.8), round(1, 0.5, 0.6, 0.8)]),
      run("s1", under("sabr", 1), [round(0, 1, 0.7, 0.8), round(1, 0.5, 0.8, 0.8)]),
      run("m0", under("mtl-ibp", 0), [round(0, 1, 0.4, 0.8), round(1, 0.5, 0.4, 0.8)]),
    ]);
    expect(series.map((s) => s.label).sort()).toEqual(["IMP (regime mtl-ibp)", "IMP (regime sabr)"]);
    const sabr = series.find((s) => s.label === "IMP (regime sabr)")!;
    expect(sabr.runIds).toEqual(["s0", "s1"]);
    expect(sabr.points[1].verifiedAccuracy!.mean).toBeCloseTo(0.7, 12);
    expect(sabr.color).not.toBe(series.find((s) => s.label === "IMP (regime mtl-ibp)")!.color);
  });

  it("uses per-sample counts for a round still verifying, marked partial", () => {
    const r = run("a", { ...imp(0), verification: { samples: 10 } }, [round(0, 1, 0.5, 0.8)]);
    r.status = "running";
    r.sampleOutcomes = [{ round: 1, verified: 3, falsified: 1, unknown: 0, misclassified: 1 }];
    const [s] = aggregateSeries([r]);
    const live = s.points.find((p) => p.round === 1)!;
    expect(live.partial).toBe(true);
    expect(live.n).toBe(0); // not finished: not on the accuracy curves
    expect(live.outcomes).toEqual({ verified: 0.3, falsified: 0.1, unknown: 0, misclassified: 0.1 });
    expect(s.best!.round).toBe(0);
  });
});

describe("settings and exports", () => {
  it("marks the settings that differ between runs", () => {
    const rows = settingsTable([RunConfig.parse(imp(0)), RunConfig.parse(random(1))]);
    const differing = rows.filter((r) => r.differs).map((r) => r.path).sort();
    expect(differing).toEqual(["pruning.method", "seed", "training.epochs"]);
    expect(rows.find((r) => r.path === "pruning.method")!.values).toEqual(["imp", "random"]);
  });

  it("writes CSV that spreadsheets read back", () => {
    const csv = toCsv([{ a: 'say "hi", twice', b: 1.5, c: "=cmd()" }, { a: "line\nbreak", b: null, c: -2 }]);
    expect(csv).toBe('a,b,c\r\n"say ""hi"", twice",1.5,\'=cmd()\r\n"line\nbreak",,-2\r\n');
  });

  it("round-trips the compare view state through the URL", () => {
    const ids = ["run_0123456789abcdef", "run_fedcba9876543210"];
    const query = compareQuery(ids, { metric: "standard", hidden: ["IMP", "IMP+NRS"], layer: "conv2", onlyDiff: false });
    const parsed = parseCompareQuery(Object.fromEntries(new URLSearchParams(query)));
    expect(parsed).toEqual({ runIds: ids, state: { metric: "standard", hidden: ["IMP", "IMP+NRS"], layer: "conv2", onlyDiff: false } });
    expect(parseCompareQuery({ runs: "run_bad,../etc", metric: "nonsense" })).toEqual({
      runIds: [],
      state: { metric: "verified", hidden: [], layer: null, onlyDiff: true },
    });
  });
});
