/**
 * Run management through the router, as the run page and the runs table use it: names,
 * tags and notes (owner only, validated by field), the queue view with runs waiting, the
 * launch estimate calibrated on finished runs, and progress events kept only as the latest
 * per run yet streamed to subscribers.
 */
import { TRPCError } from "@trpc/server";
import { afterEach, describe, expect, it } from "vitest";
import type { EngineEvent, RunEvent } from "@/lib/protocol";
import { RunRecorder } from "../jobs/recorder";
import { resetCalibration } from "../jobs/calibration";
import { callerFor, SMOKE_CONFIG, testServices, waitForStatus } from "../testing";

let services: ReturnType<typeof testServices>;
afterEach(async () => services?.cleanup());

const issuePaths = (error: TRPCError) =>
  ((error.cause as unknown as { issues: { path: (string | number)[] }[] }).issues ?? []).map((i) => i.path.join("."));

async function refusal(promise: Promise<unknown>): Promise<TRPCError> {
  const error = await promise.then(() => null, (e) => e);
  expect(error).toBeInstanceOf(TRPCError);
  return error as TRPCError;
}

describe("names, tags and notes", () => {
  it("lets the owner rename, tag and annotate a run, and refuses others and bad input by field", async () => {
    services = testServices();
    const alice = callerFor(services, "alice");
    const bob = callerFor(services, "bob");
    const { id } = await alice.runs.create({ config: SMOKE_CONFIG });
    const run = await alice.runs.annotate({ id, name: "  baseline mlp ", tags: ["baseline", "mlp-16"], notes: "first try" });
    expect(run).toMatchObject({ id, label: "baseline mlp", tags: ["baseline", "mlp-16"], notes: "first try" });
    // Fields left out stay as they were.
    expect(await alice.runs.annotate({ id, notes: "second thoughts" })).toMatchObject({ label: "baseline mlp", tags: ["baseline", "mlp-16"], notes: "second thoughts" });
    expect((await alice.runs.list()).find((r) => r.id === id)).toMatchObject({ tags: ["baseline", "mlp-16"] });

    expect((await refusal(bob.runs.annotate({ id, tags: ["mine"] }))).code).toBe("FORBIDDEN");
    expect((await refusal(callerFor(services, null).runs.annotate({ id, notes: "x" }))).code).toBe("UNAUTHORIZED");

    const cases: [string, Record<string, unknown>, string][] = [
      ["empty name", { name: "   " }, "name"],
      ["long name", { name: "x".repeat(121) }, "name"],
      ["bad tag", { tags: ["ok", "no/slash"] }, "tags.1"],
      ["long tag", { tags: ["t".repeat(33)] }, "tags.0"],
      ["repeated tag", { tags: ["a", "a"] }, "tags"],
      ["too many tags", { tags: Array.from({ length: 21 }, (_, i) => `t${i}`) }, "tags"],
      ["long notes", { notes: "n".repeat(4001) }, "notes"],
      ["not a run id", { id: "run_xyz" }, "id"],
    ];
    for (const [what, patch, path] of cases) {
      const error = await refusal(alice.runs.annotate({ id, ...patch } as never));
      expect([what, error.code, issuePaths(error)]).toEqual([what, "BAD_REQUEST", expect.arrayContaining([path])]);
    }
    expect(await alice.runs.get({ id })).toMatchObject({ label: "baseline mlp", notes: "second thoughts" });
    expect((await refusal(alice.runs.annotate({ id: "run_0000000000000000", notes: "x" }))).code).toBe("NOT_FOUND");
  });
});

describe("queue view and calibrated estimate", () => {
  it("lists the running run and two queued ones in order, with start times that add up", async () => {
    services = testServices({ CERTPRUNE_MAX_RUNS: "1" });
    resetCalibration();
    const caller = callerFor(services);
    // A finished run first: the estimate calibrates itself on its measured speed.
    const { id: done } = await caller.runs.create({ config: SMOKE_CONFIG });
    await waitForStatus(services, done, ["finished"]);
    resetCalibration();
    const before = await caller.queue.forLaunch();
    expect(before.calibration.runs).toBe(1);
    expect(before.calibration.trainFactor).toBeGreaterThan(0);
    expect(before).toMatchObject({ runsAhead: 0, startsInSeconds: 0, slots: 1 });

    const long = { ...SMOKE_CONFIG, training: { ...SMOKE_CONFIG.training, epochs: 400 } };
    const a = await caller.runs.create({ config: long });
    await waitForStatus(services, a.id, ["running"]);
    const b = await caller.runs.create({ config: { ...long, seed: 1 }, label: "second" });
    const c = await caller.runs.create({ config: { ...long, seed: 2 }, label: "third", priority: 5 });
    const view = await caller.queue.view();
    expect(view.running.map((r) => r.id)).toEqual([a.id]);
    // The higher priority goes first.
    expect(view.queued.map((q) => [q.id, q.position])).toEqual([[c.id, 1], [b.id, 2]]);
    expect(view.queued[0].startsInSeconds).toBeCloseTo(view.running[0].remainingSeconds, 6);
    expect(view.queued[1].startsInSeconds).toBeCloseTo(view.queued[0].startsInSeconds + view.queued[0].remainingSeconds, 6);
    const launch = await caller.queue.forLaunch();
    expect(launch.runsAhead).toBe(3);
    expect(launch.startsInSeconds).toBeCloseTo(view.queued[1].startsInSeconds + view.queued[1].remainingSeconds, 0);
    expect((await caller.queue.forLaunch({ priority: 10 })).runsAhead).toBe(1);
    expect((await refusal(caller.queue.forLaunch({ priority: 1000 }))).code).toBe("BAD_REQUEST");
    for (const id of [b.id, c.id, a.id]) await caller.runs.cancel({ id });
    expect((await caller.queue.view()).queued).toEqual([]);
  });
});

describe("progress events", () => {
  it("keeps only the latest per running run, out of the store, and streams it to subscribers", async () => {
    services = testServices({ CERTPRUNE_MAX_RUNS: "1" });
    const caller = callerFor(services);
    const long = { ...SMOKE_CONFIG, training: { ...SMOKE_CONFIG.training, epochs: 1000 }, data: { dataset: "synthetic" as const, trainSize: 2000 } };
    const { id } = await caller.runs.create({ config: long });
    await waitForStatus(services, id, ["running"]);
    const recorder = new RunRecorder(services.runs, services.bus);
    const progress = (done: number): EngineEvent => ({
      type: "progress", seq: 0, time: new Date().toISOString(), round: 0, phase: "train", epoch: 1, done, total: 16, seconds: done / 10,
    });
    const stream = (await caller.runs.events({ id }))[Symbol.asyncIterator]();
    const seen: { id: string; data: RunEvent }[] = [];
    const next = async () => {
      const { value } = await stream.next();
      const [eventId, data] = value as unknown as [string, RunEvent];
      seen.push({ id: eventId, data });
      return data;
    };
    // Drain what is stored, then publish progress and expect it on the stream.
    const storedCount = services.runs.eventsAfter(id).length;
    for (let i = 0; i < storedCount; i++) await next();
    recorder.engineEvent(id, progress(3));
    recorder.engineEvent(id, progress(7));
    while (!seen.some((s) => s.data.type === "progress" && s.data.done === 7)) await next();
    expect(services.runs.eventsAfter(id).some((e) => e.event.type === ("progress" as never))).toBe(false);
    expect(services.bus.latestProgress(id)?.event).toMatchObject({ type: "progress", done: 7 });
    // Carried under the id of the last stored event, so a resuming client misses nothing stored.
    let lastStoredId = "0";
    for (const s of seen) {
      if (s.data.type === "progress") expect(s.id).toBe(lastStoredId);
      else lastStoredId = s.id;
    }
    await stream.return?.(undefined);
    await caller.runs.cancel({ id });
    expect(services.bus.latestProgress(id)).toBeNull();
  });
});
