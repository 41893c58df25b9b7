import { describe, expect, it } from "vitest";
import { RunConfig, type RunEvent } from "../protocol";
import { wilson } from "../stats";
import { roundsCsv, samplesCsv } from "./export";
import { runViewOf } from "./fold";
import { bestRound, bestRoundInfo, certifiedCurve, roundRows } from "./selectors";

const T = "2026-11-24T10:00:00.000Z";
const config = RunConfig.parse({ data: { dataset: "synthetic", testSize: 200 }, verification: { mode: "bab", samples: 10, attackSamples: 100 } });

const finished = (round: number, verified: number, sparsity: boolean): RunEvent => ({
  type: "round_finished", seq: 0, time: T, round, remainingRatio: 0.5 ** round, remainingChannelRatio: 1,
  ...(sparsity ? { sparsity: { scope: { remaining: 100 / 2 ** round, total: 100 }, all: { remaining: 100 / 2 ** round + 50, total: 150 }, channels: null } } : {}),
  standardAccuracy: 0.9, adversarialAccuracy: 0.6, verifiedAccuracy: verified / 10, verified, falsified: 10 - verified, unknown: 0, misclassified: 0,
  samples: 10, meanVerifySeconds: 1, unstableRatio: 0.1, instability: 1, seconds: 1, layers: [],
});

function events(withFinished: boolean, sparsity = true): { id: number; event: RunEvent }[] {
  const list: RunEvent[] = [
    { type: "started", seq: 0, time: T, runId: "run_0123456789abcdef", config: config as unknown as Record<string, unknown>, device: "cpu", torchVersion: "2", resumed: false },
    finished(0, 7, sparsity), finished(1, 9, sparsity), finished(2, 9, sparsity),
    { type: "sample_verified", seq: 0, time: T, round: 1, index: 0, label: 1, predicted: 1, status: "verified", decidedBy: "bab", seconds: 1, marginLower: -0.0216, finalMarginLower: 0.004, domains: 7 },
  ];
  if (withFinished) list.push({ type: "finished", seq: 0, time: T, bestRound: 2, bestVerifiedAccuracy: 0.9, bestRoundRule: "most verified", indistinguishableRounds: [0, 1, 2], rounds: 3, seconds: 3 });
  return list.map((event, i) => ({ id: i + 1, event }));
}

describe("the run page's intervals, sparsity and best round", () => {
  it("gives every accuracy its Wilson interval over the right count", () => {
    const [r0] = roundRows(runViewOf(events(false)));
    expect([r0.verifiedLo, r0.verifiedHi]).toEqual([wilson(7, 10)!.lo, wilson(7, 10)!.hi]);
    // Standard and PGD accuracy: the first min(testSize 200, attackSamples 100) images.
    expect(r0.evaluationImages).toBe(100);
    expect([r0.standardLo, r0.standardHi]).toEqual([wilson(90, 100)!.lo, wilson(90, 100)!.hi]);
    expect(certifiedCurve(runViewOf(events(false)))[0].verifiedCi).toEqual([wilson(7, 10)!.lo, wilson(7, 10)!.hi]);
  });

  it("reads both sparsity definitions, empty when not recorded", () => {
    const rows = roundRows(runViewOf(events(false)));
    expect(rows[1].remainingRatio).toBe(0.5);
    expect(rows[1].remainingOfAllWeights).toBeCloseTo(100 / 150, 12);
    expect(roundRows(runViewOf(events(false, false)))[1].remainingOfAllWeights).toBeNull();
    const csv = roundsCsv(runViewOf(events(false, false))).split("\n");
    expect(csv[0]).toContain("remainingOfAllWeights");
    expect(csv[2].split(",")[17]).toBe(""); // not recorded: an empty cell
  });

  it("takes the best round from the engine once finished; the leader so far (earliest on ties) before", () => {
    const running = runViewOf(events(false));
    expect(bestRound(running)!.round).toBe(1);
    expect(bestRoundInfo(running)).toMatchObject({ round: 1, source: "so far", indistinguishable: null });
    const done = runViewOf(events(true));
    expect(bestRound(done)!.round).toBe(2); // the engine's word, whatever a page would pick
    expect(bestRoundInfo(done)).toMatchObject({ round: 2, source: "engine", rule: "most verified", indistinguishable: [0, 1, 2] });
  });

  it("exports the bound at which branch and bound closed next to the root bound", () => {
    const [head, row] = samplesCsv(runViewOf(events(false))).trim().split("\n");
    expect(head.split(",").slice(-3)).toEqual(["marginLower", "domains", "finalMarginLower"]);
    expect(row.split(",").slice(-3)).toEqual(["-0.0216", "7", "0.004"]);
  });
});
