/** Progress within an epoch and a live ETA from the engine's (unstored) progress events. */
import { describe, expect, it } from "vitest";
import { RunConfig, type RunEvent } from "../protocol";
import { foldRunEvents, runViewOf, type StoredRunEvent } from "./fold";
import { runEta, runViewProgress } from "./progress";

const T = "2026-11-24T10:00:00.000Z";
const config = RunConfig.parse({
  data: { dataset: "synthetic" },
  model: { arch: "mlp", widths: [16] },
  training: { regime: "natural", epochs: 2 },
  pruning: { method: "none", rounds: 0 },
  verification: { mode: "none", samples: 0 },
});
const stored = (events: RunEvent[]): StoredRunEvent[] => events.map((event, i) => ({ id: i + 1, event }));
const progress = (done: number, epoch = 1, seconds = done): RunEvent =>
  ({ type: "progress", seq: 0, time: T, round: 0, phase: "train", epoch, done, total: 10, seconds });
const epoch = (e: number, seconds: number): RunEvent => ({
  type: "epoch", seq: 0, time: T, round: 0, epoch: e, epochs: 2, loss: 1, trainAccuracy: 0.5, testAccuracy: 0.4,
  robustAccuracy: null, eps: 0, lr: 0.01, seconds,
});

describe("live progress inside an epoch", () => {
  it("moves the progress and the ETA between epoch events, and drops progress the next epoch supersedes", () => {
    const start = runViewOf(stored([
      { type: "status", time: T, status: "running", error: null },
      { type: "round_started", seq: 0, time: T, round: 0, rounds: 1, remainingRatio: 1 },
    ]));
    expect(runEta(start, config)).toBeNull(); // nothing measured yet
    // Progress events come under the id of the last stored event, and are applied anyway.
    const quarter = foldRunEvents(start, [{ id: start.lastEventId, event: progress(3, 1, 6) }]);
    expect(quarter.progress).toMatchObject({ done: 3 });
    expect(quarter.lastEventId).toBe(start.lastEventId);
    // 3 of 10 batches in 6 s: an epoch takes ~20 s; 1.7 epochs are left.
    expect(runEta(quarter, config)!.seconds).toBeCloseTo(20 * 1.7, 6);
    expect(runViewProgress(quarter, config)).toBeCloseTo(0.3 / 2, 6);
    const later = foldRunEvents(quarter, [{ id: start.lastEventId, event: progress(8, 1, 16) }]);
    expect(runViewProgress(later, config)).toBeGreaterThan(runViewProgress(quarter, config));
    expect(runEta(later, config)!.seconds).toBeLessThan(runEta(quarter, config)!.seconds);
    // The epoch ends: its progress is superseded; the measured epoch time takes over.
    const ended = foldRunEvents(later, [{ id: start.lastEventId + 1, event: epoch(1, 20) }]);
    expect(ended.progress).toBeNull();
    expect(runViewProgress(ended, config)).toBeCloseTo(0.5, 6);
    expect(runEta(ended, config)!.seconds).toBeCloseTo(20, 6);
    const next = foldRunEvents(ended, [{ id: ended.lastEventId, event: progress(5, 2, 10) }]);
    expect(runEta(next, config)!.seconds).toBeCloseTo(10, 6);
    // A run that stops forgets its progress.
    const stopped = foldRunEvents(next, [{ id: next.lastEventId + 1, event: { type: "status", time: T, status: "cancelled", error: null } }]);
    expect(stopped.progress).toBeNull();
  });

  it("keeps a log line's round and phase, and copes with old log events without them", () => {
    const view = runViewOf(stored([
      { type: "log", seq: 0, time: T, level: "info", message: "old engine" },
      { type: "log", seq: 1, time: T, level: "info", message: "training 2 epochs", round: 0, phase: "train" },
    ]));
    expect(view.logs.map((l) => [l.round, l.phase])).toEqual([[null, null], [0, "train"]]);
  });
});
