/**
 * The embedded queue with the real engine: priorities with one engine slot, an engine
 * killed mid-round, cancelling mid-round, retrying (resumes from the last finished
 * phase), deleting, and sweeps sharing their dense round.
 */
import { existsSync, mkdirSync, statSync, writeFileSync } from "node:fs";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { RunConfig, type RunEvent } from "@/lib/protocol";
import { runIdOf } from "@/lib/protocol/runId";
import { callerFor, researcher, SMOKE_CONFIG, testServices, TWO_ROUNDS, until, waitForStatus } from "../testing";
import type { JobRunner } from "./runner";

let services: ReturnType<typeof testServices>;
afterEach(async () => services?.cleanup());


const eventsOf = (id: string): RunEvent[] => services.runs.eventsAfter(id).map((e) => e.event);

/** Waits until the engine is training round 1 (round 0 is finished and on disk). */
const inRoundOne = (id: string) =>
  until("an epoch of round 1", () => eventsOf(id).some((e) => e.type === "epoch" && e.round === 1));

describe("the embedded queue", () => {
  it("runs one engine at a time with CERTPRUNE_MAX_RUNS=1, higher priority first", async () => {
    services = testServices({ CERTPRUNE_MAX_RUNS: "1" });
    const caller = callerFor(services);
    const first = await caller.runs.create({ config: SMOKE_CONFIG });
    const low = await caller.runs.create({ config: { ...SMOKE_CONFIG, seed: 1 }, priority: 0 });
    const high = await caller.runs.create({ config: { ...SMOKE_CONFIG, seed: 2 }, priority: 5 });
    expect(services.runs.get(first.id)!.status).toBe("running");
    expect(services.runs.get(low.id)!.status).toBe("queued");
    expect(services.runs.get(high.id)!.status).toBe("queued");
    for (const { id } of [first, low, high]) expect((await waitForStatus(services, id, ["finished", "failed"], 180_000)).status).toBe("finished");

    // Replay every status change in stored order: never two running at once; high before low.
    const all = [first, low, high]
      .flatMap(({ id }) => services.runs.eventsAfter(id).map((e) => ({ ...e, runId: id })))
      .sort((a, b) => a.id - b.id)
      .filter((e) => e.event.type === "status");
    let running = 0;
    const startOrder: string[] = [];
    for (const { runId, event } of all) {
      if (event.type !== "status") continue;
      if (event.status === "running") {
        running++;
        startOrder.push(runId);
      } else if (event.status !== "queued") running--;
      expect(running).toBeLessThanOrEqual(1);
    }
    expect(startOrder).toEqual([first.id, high.id, low.id]);
  });

  it("marks a run failed with the reason and stderr when its engine is killed mid-round; retry resumes it", async () => {
    services = testServices();
    const caller = callerFor(services);
    const { id } = await caller.runs.create({ config: TWO_ROUNDS });
    await inRoundOne(id);
    const runDir = services.runner.runDir(id);
    const roundZeroMetrics = path.join(runDir, "round_0", "metrics.json");
    const roundZeroWritten = statSync(roundZeroMetrics).mtimeMs;
    process.kill((services.runner as JobRunner).enginePid(id)!, "SIGKILL");

    const failed = await waitForStatus(services, id, ["failed", "finished"]);
    expect(failed.status).toBe("failed");
    expect(failed.error).toMatch(/killed \(SIGKILL/);
    const failure = eventsOf(id).find((e) => e.type === "failed");
    expect(failure?.type === "failed" && failure.detail).toMatch(/INFO/); // the engine's stderr tail
    // The finished round stays: its event and its files.
    expect(eventsOf(id).some((e) => e.type === "round_finished" && e.round === 0)).toBe(true);
    expect(existsSync(roundZeroMetrics)).toBe(true);
    expect(existsSync(path.join(runDir, "round_1", "metrics.json"))).toBe(false);

    const retried = await caller.runs.retry({ id });
    expect(["queued", "running"]).toContain(retried.status);
    expect((await waitForStatus(services, id, ["failed", "finished"])).status).toBe("finished");
    const started = eventsOf(id).filter((e) => e.type === "started");
    expect(started.map((e) => e.type === "started" && e.resumed)).toEqual([false, true]);
    expect(statSync(roundZeroMetrics).mtimeMs).toBe(roundZeroWritten); // round 0 was not trained again
    expect(existsSync(path.join(runDir, "round_1", "metrics.json"))).toBe(true);
  });

  it("cancels mid-round within 5 seconds, keeping finished rounds; deleting removes run, events and folder", async () => {
    services = testServices();
    const caller = callerFor(services);
    const { id } = await caller.runs.create({ config: TWO_ROUNDS });
    await inRoundOne(id);
    const t0 = Date.now();
    expect((await caller.runs.cancel({ id })).status).toBe("cancelled");
    expect(Date.now() - t0).toBeLessThan(5000);
    const runDir = services.runner.runDir(id);
    expect(existsSync(path.join(runDir, "round_0", "metrics.json"))).toBe(true);
    expect(eventsOf(id).filter((e) => e.type === "round_finished").length).toBe(1);
    await expect(caller.runs.retry({ id: "run_0000000000000000" })).rejects.toThrow(/no run/);

    // Retry, then delete it while it runs: the engine stops and nothing of the run is left.
    await caller.runs.retry({ id });
    await waitForStatus(services, id, ["running"]);
    const pid = await until("the engine", () => (services.runner as JobRunner).enginePid(id));
    expect(await caller.runs.delete({ id })).toEqual({ id, deleted: true });
    expect(services.runs.get(id)).toBeNull();
    expect(services.runs.eventsAfter(id)).toEqual([]);
    expect(existsSync(runDir)).toBe(false);
    expect(() => process.kill(pid, 0)).toThrow(); // the engine is gone
    expect(await caller.runs.list()).toEqual([]);
  });

  it("launches a sweep: one run per method and seed, sharing one dense round", async () => {
    services = testServices({ CERTPRUNE_MAX_RUNS: "1" });
    const caller = callerFor(services);
    const base = { ...TWO_ROUNDS, training: { ...TWO_ROUNDS.training, epochs: 3 } };
    const sweep = await caller.runs.createSweep({ base, methods: ["Random", "IMP"], seeds: [7] });
    expect(sweep.sweepId).toMatch(/^sweep_[0-9a-f]{16}$/);
    expect(sweep.runs.map((r) => [r.method, r.seed, r.created])).toEqual([["Random", 7, true], ["IMP", 7, true]]);
    const [random, imp] = sweep.runs;
    expect(services.runs.get(imp.id)!.config).toMatchObject({ seed: 7, pruning: { method: "imp" }, training: { regularizer: "none" } });

    for (const { id } of sweep.runs) expect((await waitForStatus(services, id, ["finished", "failed"])).status).toBe("finished");
    const listed = await caller.runs.list();
    expect(listed.map((r) => r.sweepId)).toEqual([sweep.sweepId, sweep.sweepId]);
    expect((await caller.runs.list({ sweepId: sweep.sweepId })).map((r) => r.id).sort()).toEqual([random.id, imp.id].sort());
    // The second run reused the first one's dense round from the sweep's folder.
    const reused = (id: string) => eventsOf(id).some((e) => e.type === "log" && /reusing the dense round/.test(e.message));
    expect([reused(random.id), reused(imp.id)]).toEqual([false, true]);
    expect(existsSync(path.join(services.settings.dataDir, "sweeps", sweep.sweepId))).toBe(true);

    // The same sweep again is the same sweep, and creates nothing.
    const again = await caller.runs.createSweep({ base, methods: ["IMP", "Random"], seeds: [7] });
    expect(again.sweepId).toBe(sweep.sweepId);
    expect(again.runs.every((r) => !r.created && !r.resumed)).toBe(true);
  });
});

describe("faults in one run's folder", () => {
  it("fails only the run whose folder cannot be written; the next run, by another researcher, still starts", async () => {
    services = testServices({ CERTPRUNE_MAX_RUNS: "1" });
    const alice = callerFor(services, "alice");
    const bob = callerFor(services, "bob");
    // A plain file where alice's run folder should be: as root, permission bits would not stop the write.
    const blocked = { ...SMOKE_CONFIG, seed: 41 };
    mkdirSync(path.join(services.settings.dataDir, "runs"), { recursive: true });
    writeFileSync(services.runner.runDir(runIdOf(blocked)), "in the way");

    const jammed = await alice.runs.create({ config: blocked });
    const failed = services.runs.get(jammed.id)!;
    expect(failed.status).toBe("failed");
    expect(failed.error).toMatch(/could not write the run's folder .*run_[0-9a-f]{16}.*(EEXIST|ENOTDIR).*retry the run/);
    // Retrying while the file is still there fails again, with the same reason, and answers normally.
    expect((await alice.runs.retry({ id: jammed.id })).status).toBe("failed");

    const next = await bob.runs.create({ config: { ...SMOKE_CONFIG, seed: 42 } });
    expect(next.created).toBe(true);
    expect((await waitForStatus(services, next.id, ["finished", "failed"])).status).toBe("finished");
    expect(services.runs.queued()).toEqual([]);
  });
});

describe("bounded and confined inputs", () => {
  it("refuses data folders outside the configured roots, with a field message, and launches nothing", async () => {
    services = testServices({ CERTPRUNE_DATA_ROOTS: "/usr/share/datasets" });
    const caller = callerFor(services);
    for (const root of ["../../../etc", "/etc", "/usr/share/datasets/../../../etc"]) {
      const error = await caller.runs.create({ config: { ...SMOKE_CONFIG, data: { dataset: "synthetic", root } } }).catch((e) => e);
      expect(error.code).toBe("BAD_REQUEST");
      expect(error.cause.issues[0].path).toEqual(["config", "data", "root"]);
      expect(error.message).toMatch(/outside the data folders this server may read \(\/usr\/share\/datasets\)/);
    }
    const sweepError = await caller.runs.createSweep({ base: { data: { root: "/root" } }, methods: ["IMP"], seeds: [0] }).catch((e) => e);
    expect(sweepError.cause.issues[0].path).toEqual(["base", "data", "root"]);
    expect(services.runs.list()).toEqual([]);
    // Inside a root is fine (the run itself then fails or succeeds on its own).
    const inside = await caller.runs.create({ config: { ...SMOKE_CONFIG, data: { dataset: "synthetic", root: "/usr/share/datasets/x" } } });
    expect(inside.created).toBe(true);
  });

  it("refuses a model.onnx outside the uploads and data folders without saying whether it exists; a stored one fails unread", async () => {
    services = testServices({ CERTPRUNE_DATA_ROOTS: "/usr/share/datasets" });
    const caller = callerFor(services);
    const onnxConfig = (onnx: string) => ({ ...SMOKE_CONFIG, model: { arch: "onnx" as const, onnx } });
    const refusals = [];
    for (const onnx of ["/etc/hostname", "/etc/no-such-file.onnx", `${services.settings.dataDir}/uploads/../certprune.db`, "relative.onnx"]) {
      const error = await caller.runs.create({ config: onnxConfig(onnx) }).catch((e) => e);
      expect([onnx, error.code, error.cause.issues[0].path]).toEqual([onnx, "BAD_REQUEST", ["config", "model", "onnx"]]);
      refusals.push(error.message);
    }
    expect(refusals[0]).toMatch(/config\.model\.onnx: model\.onnx may only name a model uploaded to this server/);
    expect(refusals[1]).toBe(refusals[0]); // a file that exists and one that does not: the same answer
    expect(refusals[2]).toBe(refusals[0]);
    expect(refusals[3]).toMatch(/absolute path/);
    const sweep = await caller.runs.createSweep({ base: onnxConfig("/etc/hostname"), methods: ["Dense"], seeds: [0] }).catch((e) => e);
    expect(sweep.cause.issues[0].path).toEqual(["base", "model", "onnx"]);
    expect(services.runs.list()).toEqual([]);

    // A run stored before the check (or written into the database by hand) fails before its engine starts.
    const stored = services.runs.insert({ id: "run_00000000000000ab", label: "old", config: RunConfig.parse(onnxConfig("/etc/hostname")), owner: researcher(services, "tester") });
    services.runner.schedule();
    const failed = services.runs.get(stored.id)!;
    expect([failed.status, failed.error]).toEqual(["failed", expect.stringMatching(/^model\.onnx: model\.onnx may only name/)]);
    expect(existsSync(services.runner.runDir(stored.id))).toBe(false);
  });

  it("refuses oversized inputs with messages that say the limit", async () => {
    services = testServices();
    const caller = callerFor(services);
    const messages = async (call: Promise<unknown>) => {
      const error = (await call.catch((e) => e)) as { code: string; cause: { issues: { path: (string | number)[]; message: string }[] } };
      expect(error.code).toBe("BAD_REQUEST");
      return error.cause.issues.map((i: { path: (string | number)[]; message: string }) => `${i.path.join(".")}: ${i.message}`);
    };
    expect(await messages(caller.runs.create({ config: SMOKE_CONFIG, label: "x".repeat(500) }))).toEqual([
      expect.stringMatching(/^label: .*120/),
    ]);
    expect(await messages(caller.runs.create({ config: { ...SMOKE_CONFIG, model: { arch: "mlp", widths: Array(100).fill(8) } } }))).toEqual([
      expect.stringMatching(/^config\.model\.widths: .*16/),
    ]);
    expect(await messages(caller.runs.create({ config: SMOKE_CONFIG, priority: 1e9 }))).toEqual([expect.stringMatching(/^priority: Priority is at most 100/)]);
    const seeds = Array.from({ length: 16 }, (_, i) => i);
    expect(await messages(caller.runs.createSweep({ base: SMOKE_CONFIG, methods: ["IMP", "Random", "SNIP", "HYDRA", "Taylor"], seeds }))).toEqual([
      expect.stringMatching(/^seeds: A sweep has at most 64 runs/),
    ]);
    expect(await messages(caller.runs.createSweep({ base: SMOKE_CONFIG, methods: ["IMP", "IMP"], seeds: [0] }))).toEqual([
      expect.stringMatching(/^methods: Each method once/),
    ]);
    expect(services.runs.list()).toEqual([]);
  });
});
