import { describe, expect, it } from "vitest";
import examples from "../../tests/fixtures/protocol-examples.json";
import { EngineEvent, RunConfig, type RunEvent, type RunStatus } from "../protocol";
import { resultsJson, roundsCsv, samplesCsv } from "./export";
import { emptyRunView, foldRunEvents, foldRunView, runViewOf, type StoredRunEvent } from "./fold";
import { measuredRates, runEta, runViewProgress } from "./progress";
import { certifiedCurve, histogramBins, roundRows, roundsWith, sampleCounts, sampleGrid } from "./selectors";

const T = "2026-11-24T10:00:00.000Z";
const config = RunConfig.parse({
  data: { dataset: "synthetic" },
  model: { arch: "mlp", widths: [16] },
  training: { regime: "natural", epochs: 2 },
  pruning: { method: "imp", rounds: 2 },
  verification: { mode: "crown", samples: 4, timeout: 2 },
});

const status = (s: RunStatus): RunEvent =>
  ({ type: "status", time: T, status: s, error: s === "failed" ? "boom" : null });
const roundStarted = (round: number, remainingRatio = 0.8 ** round): RunEvent =>
  ({ type: "round_started", seq: 0, time: T, round, rounds: 3, remainingRatio });
const epoch = (round: number, e: number, seconds = 2, loss = 1 / e): RunEvent => ({
  type: "epoch", seq: 0, time: T, round, epoch: e, epochs: 2, loss, trainAccuracy: 0.5, testAccuracy: 0.4,
  robustAccuracy: null, eps: 0.05, lr: 0.01, seconds,
});
const sample = (round: number, index: number, s: "verified" | "falsified" | "unknown" | "misclassified", seconds = 0.5): RunEvent => ({
  type: "sample_verified", seq: 0, time: T, round, index, label: 1, predicted: s === "misclassified" ? 2 : 1, status: s,
  decidedBy: s === "verified" ? "crown" : s === "falsified" ? "pgd" : s === "unknown" ? "timeout" : "clean",
  seconds, marginLower: s === "verified" ? 0.25 : null, domains: 1,
});
const roundFinished = (round: number, counts: [number, number, number, number], seconds = 10): RunEvent => ({
  type: "round_finished", seq: 0, time: T, round, remainingRatio: 0.8 ** round, remainingChannelRatio: 1,
  standardAccuracy: 0.9 - round * 0.01, adversarialAccuracy: 0.7, verifiedAccuracy: counts[0] / 4,
  verified: counts[0], falsified: counts[1], unknown: counts[2], misclassified: counts[3], samples: 4,
  meanVerifySeconds: 0.5, unstableRatio: 0.3 / (round + 1), instability: 2 / (round + 1), seconds,
  layers: [
    { name: "fc1", kind: "linear", weights: 4096, remainingWeights: Math.round(4096 * 0.8 ** round), channels: 16, remainingChannels: 16 },
    { name: "fc2", kind: "linear", weights: 160, remainingWeights: 160, channels: 10, remainingChannels: 10 },
  ],
});
const stability = (round: number, unstable: number): RunEvent => ({
  type: "stability", seq: 0, time: T, round, eps: 0.05,
  layers: [{
    name: "relu1", neurons: 16, ibp: { active: 8, inactive: 8 - unstable, unstable }, crown: { active: 9, inactive: 7, unstable: 0 },
    instability: unstable * 0.1,
    histograms: { lower: { edges: [-1, 0, 1], counts: [10, 6] }, upper: { edges: [-1, 0, 1], counts: [4, 12] }, instability: { edges: [0, 0.5, 1], counts: [unstable, 0] } },
  }],
});

/** A whole run of 3 rounds (dense + 2 pruned), 2 epochs and 4 samples each. */
function wholeRun(): StoredRunEvent[] {
  const events: RunEvent[] = [status("queued"), status("running")];
  const outcomes: ("verified" | "falsified" | "unknown" | "misclassified")[][] = [
    ["verified", "falsified", "unknown", "misclassified"],
    ["verified", "verified", "unknown", "misclassified"],
    ["verified", "verified", "verified", "misclassified"],
  ];
  for (let k = 0; k < 3; k++) {
    events.push(roundStarted(k), epoch(k, 1), epoch(k, 2), stability(k, 3 - k));
    outcomes[k].forEach((s, i) => events.push(sample(k, i, s)));
    const c = (s: string) => outcomes[k].filter((x) => x === s).length;
    events.push(roundFinished(k, [c("verified"), c("falsified"), c("unknown"), c("misclassified")]));
  }
  events.push({ type: "finished", seq: 0, time: T, bestRound: 2, bestVerifiedAccuracy: 0.75, rounds: 3, seconds: 30 }, status("finished"));
  return events.map((event, i) => ({ id: i + 1, event }));
}

describe("folding a run's events", () => {
  it("gives the same view one event at a time, in one batch, or in uneven batches with replays", () => {
    const events = wholeRun();
    const oneByOne = events.reduce((v, e) => foldRunView(v, e.id, e.event), emptyRunView);
    const whole = runViewOf(events);
    let batched = emptyRunView;
    for (let i = 0; i < events.length; i += 5) batched = foldRunEvents(batched, events.slice(Math.max(0, i - 3), i + 5)); // overlapping: replays
    expect(whole).toEqual(oneByOne);
    expect(batched).toEqual(oneByOne);
    expect(whole.roundResults.map((r) => r.round)).toEqual([0, 1, 2]);
    expect(whole.samples).toHaveLength(12);
    expect(whole.epochs).toHaveLength(6);
    expect(whole.status).toBe("finished");
  });

  it("accepts every valid example event of the shared fixtures", () => {
    const parsed = examples.validEvents.map((e, i) => ({ id: i + 1, event: EngineEvent.parse(e) as RunEvent }));
    const view = runViewOf(parsed);
    expect(view.roundResults).toHaveLength(1);
    expect(view.stability[0].layers[0].ibp.unstable).toBe(3);
    expect(view.failure?.reason).toBe("out of memory");
    expect(view.artifacts.map((a) => a.path)).toEqual(["round_0/checkpoint.pt"]);
  });

  it("never changes the view it was given (pure)", () => {
    const events = wholeRun();
    const half = runViewOf(events.slice(0, 12));
    const frozen = JSON.stringify(half);
    foldRunEvents(half, events.slice(12));
    expect(JSON.stringify(half)).toBe(frozen);
    expect(foldRunEvents(half, events.slice(0, 12))).toBe(half); // nothing new: same object
  });

  it("drops what an interrupted round reported when the resumed engine starts it again", () => {
    const first: RunEvent[] = [status("running"), roundStarted(0), epoch(0, 1), epoch(0, 2), sample(0, 0, "verified"), sample(0, 1, "unknown"),
      { type: "failed", seq: 0, time: T, reason: "killed", detail: null, phase: "verify" }, status("failed")];
    const resumed: RunEvent[] = [status("queued"), status("running"), roundStarted(0), epoch(0, 1, 3), sample(0, 0, "falsified")];
    const view = runViewOf([...first, ...resumed].map((event, i) => ({ id: i + 1, event })));
    expect(view.failure).toBeNull();
    expect(view.status).toBe("running");
    expect(view.epochs.map((e) => [e.epoch, e.seconds])).toEqual([[1, 3]]);
    expect(view.samples.map((s) => s.status)).toEqual(["falsified"]);
    expect(view.logs.at(-1)?.message).toBe("killed"); // the log keeps what happened
  });

  it("keeps one result per round when finished rounds are replayed on resume", () => {
    const events = wholeRun().slice(0, 20);
    const replay = [roundFinished(0, [1, 1, 1, 1])].map((event, i) => ({ id: 100 + i, event }));
    const view = runViewOf([...events, ...replay]);
    expect(view.roundResults.filter((r) => r.round === 0)).toHaveLength(1);
  });
});

describe("what the page draws", () => {
  it("has one sample cell per planned sample, pending until verified", () => {
    const events = wholeRun();
    const midRound1 = runViewOf(events.slice(0, events.findIndex((e) => e.event.type === "sample_verified" && e.event.round === 1) + 2));
    const cells = sampleGrid(midRound1, config, 1);
    expect(cells).toHaveLength(4);
    expect(sampleCounts(cells)).toEqual({ verified: 2, falsified: 0, unknown: 0, misclassified: 0, pending: 2 });
    const done = runViewOf(events);
    for (const r of done.roundResults) {
      const counts = sampleCounts(sampleGrid(done, config, r.round));
      expect(counts).toEqual({ verified: r.verified, falsified: r.falsified, unknown: r.unknown, misclassified: r.misclassified, pending: 0 });
    }
    expect(roundsWith(done, "samples")).toEqual([0, 1, 2]);
  });

  it("puts one point per finished round on the certified curve", () => {
    const events = wholeRun();
    const counts: number[] = [];
    let view = emptyRunView;
    for (const e of events) {
      view = foldRunEvents(view, [e]);
      if (e.event.type === "round_finished") counts.push(certifiedCurve(view).length);
    }
    expect(counts).toEqual([1, 2, 3]);
    expect(certifiedCurve(view).map((p) => p.verifiedAccuracy)).toEqual([0.25, 0.5, 0.75]);
    expect(certifiedCurve(view).map((p) => p.remainingRatio)).toEqual([1, 0.8, 0.8 ** 2]);
  });

  it("sums conv channels per round and reads histograms as bins", () => {
    const view = runViewOf(wholeRun());
    expect(roundRows(view)[0]).toMatchObject({ channels: 0, remainingChannels: 0, verified: 1, samples: 4 });
    expect(histogramBins(view.stability[0].layers[0].histograms.lower)).toEqual([{ from: -1, to: 0, count: 10 }, { from: 0, to: 1, count: 6 }]);
  });

  it("estimates the time left from the measured epoch, sample and round rates", () => {
    const events = wholeRun();
    // Round 0 finished (2 epochs x 2 s + 4 samples x 0.5 s + 4 s overhead = 10 s), round 1 after its first epoch.
    const at = events.findIndex((e) => e.event.type === "epoch" && e.event.round === 1 && e.event.epoch === 1);
    const view = runViewOf(events.slice(0, at + 1));
    expect(measuredRates(view)).toEqual({ epochSeconds: 2, sampleSeconds: 0.5, roundOverheadSeconds: 4 });
    // Round 1: 1 epoch + 4 samples + overhead; round 2: 2 epochs + 4 samples + overhead.
    expect(runEta(view, config)).toEqual({ seconds: 1 * 2 + 4 * 0.5 + 4 + (2 * 2 + 4 * 0.5 + 4), lowerBound: false });
    // Before any sample or round is measured the estimate is a lower bound.
    const early = runViewOf(events.slice(0, 4));
    expect(runEta(early, config)).toEqual({ seconds: 1 * 2 + 2 * 2 * 2, lowerBound: true });
    expect(runEta(runViewOf(events), config)).toBeNull(); // finished
    expect(runViewProgress(runViewOf(events), config)).toBe(1);
  });
});

describe("exports", () => {
  it("writes per-round and per-sample CSV with the numbers of the view", () => {
    const view = runViewOf(wholeRun());
    const rounds = roundsCsv(view).trim().split("\n").map((l) => l.split(","));
    expect(rounds[0]).toEqual(["round", "remainingRatio", "remainingChannelRatio", "channels", "remainingChannels", "standardAccuracy",
      "adversarialAccuracy", "verifiedAccuracy", "verified", "falsified", "unknown", "misclassified", "samples", "meanVerifySeconds",
      "unstableRatio", "instability", "seconds",
      "remainingOfAllWeights", "remainingOfChannels", "verifiedLo", "verifiedHi", "standardLo", "standardHi", "adversarialLo", "adversarialHi", "evaluationImages"]);
    expect(rounds).toHaveLength(4);
    expect(Number(rounds[2][7])).toBe(0.5);
    expect(Number(rounds[3][1])).toBeCloseTo(0.64, 12);
    const samples = samplesCsv(view).trim().split("\n").map((l) => l.split(","));
    expect(samples).toHaveLength(13);
    expect(samples[1]).toEqual(["0", "0", "1", "1", "verified", "crown", "0.5", "0.25", "1", ""]);
    expect(samples[2][7]).toBe(""); // a missing margin is an empty cell
  });

  it("quotes CSV cells that need it", () => {
    const events = wholeRun().map((e) => e.event.type === "sample_verified" && e.event.index === 0
      ? { ...e, event: { ...e.event, decidedBy: 'a,"b"' } as unknown as RunEvent } : e);
    expect(samplesCsv(runViewOf(events)).split("\n")[1]).toContain('"a,""b"""');
  });

  it("writes one JSON document with rounds, per-layer counts and samples", () => {
    const view = runViewOf(wholeRun());
    const doc = JSON.parse(resultsJson(view, { id: "run_0123456789abcdef", label: "IMP", config }));
    expect(doc.bestRound).toBe(2);
    expect(doc.rounds.map((r: { verifiedAccuracy: number }) => r.verifiedAccuracy)).toEqual([0.25, 0.5, 0.75]);
    expect(doc.rounds[1].stability[0]).toEqual({ name: "relu1", neurons: 16, ibp: { active: 8, inactive: 6, unstable: 2 }, crown: { active: 9, inactive: 7, unstable: 0 }, instability: 0.2 });
    expect(doc.samples).toHaveLength(12);
    expect(doc.config.pruning.rounds).toBe(2);
  });
});
