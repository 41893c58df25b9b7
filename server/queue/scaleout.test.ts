/**
 * Multi-host mode with real parts: a redis-server, the dashboard's services in this
 * process (CERTPRUNE_QUEUE=bullmq), and two `certprune worker` processes sharing the run
 * folders, each spawning the real engine. One worker is SIGKILLed mid-run; the other
 * takes the run over and finishes it from its last finished phase.
 */
import { existsSync, statSync } from "node:fs";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { RunEvent } from "@/lib/protocol";
import { callerFor, testServices, TWO_ROUNDS, until, waitForStatus } from "../testing";
import { startRedis, startWorker, type Process } from "./testing";

const LOCK_MS = "2000";

let redis: Awaited<ReturnType<typeof startRedis>>;
let services: ReturnType<typeof testServices>;
let workers: Process[] = [];

beforeEach(async () => {
  redis = await startRedis();
  services = testServices({ CERTPRUNE_QUEUE: "bullmq", REDIS_URL: redis.url });
});
afterEach(async () => {
  await Promise.all(workers.map((w) => w.stop("SIGKILL")));
  workers = [];
  await services?.cleanup();
  await redis?.stop();
});

const workerEnv = (name: string) => ({
  CERTPRUNE_DATA_DIR: services.settings.dataDir,
  REDIS_URL: redis.url,
  CERTPRUNE_WORKER_NAME: name,
  CERTPRUNE_WORKER_LOCK_MS: LOCK_MS,
  CERTPRUNE_MAX_RUNS: "1",
});
const eventsOf = (id: string): RunEvent[] => services.runs.eventsAfter(id).map((e) => e.event);

describe("runs on several worker hosts (BullMQ)", () => {
  it("finishes a run on the second worker after the first is SIGKILLed mid-run", async () => {
    workers = [await startWorker(workerEnv("gpu-a")), await startWorker(workerEnv("gpu-b"))];
    const caller = callerFor(services);
    const { id } = await caller.runs.create({ config: TWO_ROUNDS });
    // A subscriber from the start, as a browser would be: it must see the stored stream exactly.
    const seen: string[] = [];
    const streaming = (async () => {
      for await (const item of await caller.runs.events({ id })) {
        // Progress events are streamed but not stored (each under the last stored event's id).
        const [eventId, data] = item as unknown as [string, { type: string }];
        if (data.type !== "progress") seen.push(eventId);
      }
    })();

    await until("an epoch of round 1", () => eventsOf(id).some((e) => e.type === "epoch" && e.round === 1));
    const first = services.runs.get(id)!.worker!;
    expect(["gpu-a", "gpu-b"]).toContain(first);
    const roundZero = path.join(services.settings.dataDir, "runs", id, "round_0", "metrics.json");
    const roundZeroWritten = statSync(roundZero).mtimeMs;
    const [victim, survivor] = first === "gpu-a" ? workers : [workers[1], workers[0]];
    await victim.stop("SIGKILL");

    const run = await waitForStatus(services, id, ["finished", "failed", "cancelled"], 150_000);
    expect(run.status).toBe("finished");
    expect(run.worker).toBe(first === "gpu-a" ? "gpu-b" : "gpu-a");
    const events = eventsOf(id);
    expect(events.some((e) => e.type === "log" && /took over/.test(e.message))).toBe(true);
    expect(events.filter((e) => e.type === "started").map((e) => e.type === "started" && e.resumed)).toEqual([false, true]);
    expect(statSync(roundZero).mtimeMs).toBe(roundZeroWritten); // round 0 was not trained again
    expect(events.filter((e) => e.type === "status").map((e) => e.type === "status" && e.status)).toEqual(["queued", "running", "finished"]);

    await streaming;
    expect(seen).toEqual(services.runs.eventsAfter(id).map((e) => String(e.id)));
    expect(survivor.output()).not.toMatch(/Error/);
  });

  it("hands a stopping worker's run (SIGTERM) to another worker without marking it failed", async () => {
    workers = [await startWorker(workerEnv("gpu-a")), await startWorker(workerEnv("gpu-b"))];
    const caller = callerFor(services);
    const { id } = await caller.runs.create({ config: TWO_ROUNDS });
    await until("an epoch of round 1", () => eventsOf(id).some((e) => e.type === "epoch" && e.round === 1));
    const first = services.runs.get(id)!.worker!;
    const holder = workers[first === "gpu-a" ? 0 : 1];
    await holder.stop("SIGTERM");
    expect(holder.child.exitCode).toBe(0); // it exits by itself
    const run = await waitForStatus(services, id, ["finished", "failed", "cancelled"], 150_000);
    expect([run.status, run.worker]).toEqual(["finished", first === "gpu-a" ? "gpu-b" : "gpu-a"]);
    expect(eventsOf(id).some((e) => e.type === "failed")).toBe(false);
  });

  it("shows the queue per host: each worker's running run, and what waits for a free worker", async () => {
    workers = [await startWorker(workerEnv("gpu-a")), await startWorker(workerEnv("gpu-b"))];
    const caller = callerFor(services);
    const long = (seed: number) => ({ ...TWO_ROUNDS, training: { ...TWO_ROUNDS.training, epochs: 500 }, seed });
    const a = await caller.runs.create({ config: long(0) });
    const b = await caller.runs.create({ config: long(1) });
    await until("both runs on a worker", () => [a.id, b.id].every((id) => services.runs.get(id)!.status === "running"));
    const waiting = await caller.runs.create({ config: long(2), label: "waits" });
    const view = await caller.queue.view();
    expect(view.mode).toBe("bullmq");
    expect(view.slots).toBe(2);
    // One run per host (each worker takes one at a time), every running run on exactly one host.
    expect(view.hosts.map((h) => h.worker).sort()).toEqual(["gpu-a", "gpu-b"]);
    expect(view.hosts.map((h) => h.runs.length)).toEqual([1, 1]);
    expect(view.hosts.flatMap((h) => h.runs).sort()).toEqual([a.id, b.id].sort());
    for (const r of view.running) expect(r.worker).toBe(services.runs.get(r.id)!.worker);
    expect(view.queued.map((q) => [q.id, q.position])).toEqual([[waiting.id, 1]]);
    // It starts when the first of the two hosts is free.
    expect(view.queued[0].startsInSeconds).toBeCloseTo(Math.min(...view.running.map((r) => r.remainingSeconds)), 6);
    for (const id of [waiting.id, a.id, b.id]) await caller.runs.cancel({ id });
  });

  it("cancels a run on a worker within 5 seconds, and a queued one at once", async () => {
    workers = [await startWorker(workerEnv("gpu-a"))];
    const caller = callerFor(services);
    const long = await caller.runs.create({ config: { ...TWO_ROUNDS, training: { ...TWO_ROUNDS.training, epochs: 500 } } });
    const queued = await caller.runs.create({ config: TWO_ROUNDS, priority: -1 });
    await until("an epoch", () => eventsOf(long.id).some((e) => e.type === "epoch"));
    expect(services.runs.get(queued.id)!.status).toBe("queued"); // one slot on the only worker

    let t0 = Date.now();
    expect((await caller.runs.cancel({ id: queued.id })).status).toBe("cancelled");
    expect(Date.now() - t0).toBeLessThan(1000);
    t0 = Date.now();
    expect((await caller.runs.cancel({ id: long.id })).status).toBe("cancelled");
    expect(Date.now() - t0).toBeLessThan(5000);
    expect(existsSync(path.join(services.settings.dataDir, "runs", long.id, "init.pt"))).toBe(true);

    // Retry it: a new job; the worker resumes it. Then delete it while it runs.
    await caller.runs.retry({ id: long.id });
    await until("the retried run on the worker", () => eventsOf(long.id).filter((e) => e.type === "started").length === 2);
    await caller.runs.delete({ id: long.id });
    expect(services.runs.get(long.id)).toBeNull();
    expect(existsSync(path.join(services.settings.dataDir, "runs", long.id))).toBe(false);
  });
});
