/** The recorder: an engine event and the summary it changes land together, in order. */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { DEFAULT_CONFIG, type EngineEvent } from "@/lib/protocol";
import { EventBus } from "../events/bus";
import { openDatabase } from "../store/db";
import { RunStore } from "../store/runs";
import { RunRecorder } from "./recorder";

let dir: string | null = null;
afterEach(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
  dir = null;
});

function setUp() {
  dir = mkdtempSync(path.join(tmpdir(), "certprune-recorder-"));
  const store = new RunStore(openDatabase(dir));
  const bus = new EventBus();
  const recorder = new RunRecorder(store, bus);
  store.insert({ id: "run_a", label: "a", config: DEFAULT_CONFIG });
  return { store, bus, recorder };
}

const time = new Date(0).toISOString();
const roundFinished = (round: number, verifiedAccuracy: number): EngineEvent => ({
  type: "round_finished", seq: round + 10, time, round, remainingRatio: 0.8 ** round, remainingChannelRatio: 1,
  standardAccuracy: 0.8, adversarialAccuracy: 0.6, verifiedAccuracy, verified: 5, falsified: 3, unknown: 0,
  misclassified: 2, samples: 10, meanVerifySeconds: 0.1, unstableRatio: 0.2, instability: 1.5, seconds: 3, layers: [],
});

describe("RunRecorder.engineEvent", () => {
  it("stores the event, folds it into the summary, and publishes it with its stored id", async () => {
    const { store, bus, recorder } = setUp();
    const seen: number[] = [];
    const sub = bus.subscribe("run_a");
    recorder.engineEvent("run_a", roundFinished(0, 0.5));
    recorder.engineEvent("run_a", roundFinished(1, 0.7));
    recorder.engineEvent("run_a", roundFinished(2, 0.6));
    for await (const e of sub) {
      seen.push(e.id);
      if (seen.length === 3) break;
    }
    sub.close();
    expect(seen).toEqual(store.eventsAfter("run_a").map((e) => e.id));
    const summary = store.get("run_a")!.summary;
    expect(summary).toMatchObject({ bestRound: 1, bestVerifiedAccuracy: 0.7, lastStandardAccuracy: 0.8 });
  });

  it("leaves the summary and progress alone for events that do not change them", () => {
    const { store, recorder } = setUp();
    recorder.engineEvent("run_a", roundFinished(0, 0.5));
    const before = store.get("run_a")!;
    recorder.engineEvent("run_a", { type: "log", seq: 11, time, level: "info", message: "hello" });
    const after = store.get("run_a")!;
    expect(after.summary).toEqual(before.summary);
    expect(after.progress).toBe(before.progress);
    expect(store.eventsAfter("run_a").map((e) => e.event.type)).toEqual(["round_finished", "log"]);
  });

  it("drops the events of a run deleted meanwhile, without error", () => {
    const { store, recorder } = setUp();
    store.delete("run_a");
    expect(() => recorder.engineEvent("run_a", roundFinished(0, 0.5))).not.toThrow();
    expect(store.eventsAfter("run_a")).toEqual([]);
  });
});
