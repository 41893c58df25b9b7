import { TRPCError } from "@trpc/server";
import { afterEach, describe, expect, it } from "vitest";
import type { RunEvent } from "@/lib/protocol";
import { callerFor, SMOKE_CONFIG, testServices, waitForStatus } from "../testing";

let services: ReturnType<typeof testServices>;
afterEach(async () => services?.cleanup());

async function collect(iterable: AsyncIterable<unknown>, limit = Infinity) {
  const out: { id: string; data: RunEvent }[] = [];
  for await (const item of iterable) {
    // In-process, tracked() yields its envelope [id, data, symbol]; over HTTP it is { id, data }.
    const [id, data] = item as [string, RunEvent];
    out.push({ id, data });
    if (out.length >= limit) break;
  }
  return out;
}

describe("runs router with the real engine", () => {
  it("runs a slice to the end and stores every event in order", async () => {
    services = testServices();
    const caller = callerFor(services);
    const { id, created } = await caller.runs.create({ config: SMOKE_CONFIG });
    expect(created).toBe(true);
    const run = await waitForStatus(services, id, ["finished", "failed"]);
    expect(run.error).toBeNull();
    expect(run.status).toBe("finished");
    expect(run.progress).toBe(1);

    const events = services.runs.eventsAfter(id).map((e) => e.event);
    const types = events.map((e) => e.type);
    expect(types[0]).toBe("status"); // queued
    expect(types).toContain("started");
    const epochs = events.filter((e) => e.type === "epoch");
    expect(epochs.map((e) => (e.type === "epoch" ? e.epoch : 0))).toEqual([1, 2, 3]);
    expect(types.indexOf("finished")).toBeGreaterThan(types.lastIndexOf("epoch"));
    expect(events.at(-1)).toMatchObject({ type: "status", status: "finished" });

    // The same settings again are the same run: nothing new is queued.
    const again = await caller.runs.create({ config: SMOKE_CONFIG });
    expect(again).toEqual({ id, created: false, resumed: false });
    expect((await caller.runs.list()).length).toBe(1);
  });

  it("replays stored events after lastEventId, then ends with the run", async () => {
    services = testServices();
    const caller = callerFor(services);
    const { id } = await caller.runs.create({ config: SMOKE_CONFIG });
    // Subscribe while the run is live: the stream must end by itself with the terminal status.
    const received = await collect(await caller.runs.events({ id }));
    // Progress events are streamed but not stored (each under the last stored event's id).
    const all = received.filter((e) => e.data.type !== "progress");
    expect(all.at(-1)!.data).toMatchObject({ type: "status", status: "finished" });
    const ids = all.map((e) => Number(e.id));
    expect(ids).toEqual([...ids].sort((a, b) => a - b));
    expect(new Set(ids).size).toBe(ids.length);
    const stored = services.runs.eventsAfter(id).map((e) => String(e.id));
    expect(all.map((e) => e.id)).toEqual(stored);

    // A client that saw the first half resumes with exactly the second half.
    const half = all[Math.floor(all.length / 2)];
    const rest = (await collect(await caller.runs.events({ id, lastEventId: half.id }))).filter((e) => e.data.type !== "progress");
    expect(rest.map((e) => e.id)).toEqual(all.slice(Math.floor(all.length / 2) + 1).map((e) => e.id));
  });

  it("rejects invalid configurations with field-level messages", async () => {
    services = testServices();
    const caller = callerFor(services);
    const bad = { ...SMOKE_CONFIG, training: { epochs: 0 }, model: { arch: "resnet" } };
    const error = await caller.runs.create({ config: bad as never }).catch((e) => e);
    expect(error).toBeInstanceOf(TRPCError);
    expect(error.code).toBe("BAD_REQUEST");
    const paths = error.cause.issues.map((i: { path: (string | number)[] }) => i.path.join("."));
    expect(paths).toEqual(expect.arrayContaining(["config.training.epochs", "config.model.arch"]));
    expect(await caller.runs.list()).toEqual([]);
  });

  it("marks a run failed with the engine's reason when the engine cannot do it", async () => {
    services = testServices({ CERTPRUNE_DATA: "/nonexistent-datasets" });
    const caller = callerFor(services);
    const { id } = await caller.runs.create({ config: { ...SMOKE_CONFIG, data: { dataset: "cifar10" } } });
    const run = await waitForStatus(services, id, ["finished", "failed"]);
    expect(run.status).toBe("failed");
    expect(run.error).toMatch(/CIFAR-10/i);
    const failed = services.runs.eventsAfter(id).map((e) => e.event).find((e) => e.type === "failed");
    expect(failed).toBeDefined();
  });

  it("cancels a running run within 5 seconds", async () => {
    services = testServices();
    const caller = callerFor(services);
    const { id } = await caller.runs.create({ config: { ...SMOKE_CONFIG, training: { ...SMOKE_CONFIG.training, epochs: 500 } } });
    await waitForStatus(services, id, ["running"]);
    // Let the engine get going (past its imports) before cancelling.
    const deadline = Date.now() + 60_000;
    while (!services.runs.eventsAfter(id).some((e) => e.event.type === "epoch") && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 100));
    }
    const t0 = Date.now();
    const run = await caller.runs.cancel({ id });
    expect(Date.now() - t0).toBeLessThan(5000);
    expect(run.status).toBe("cancelled");
    await expect(caller.runs.cancel({ id })).rejects.toThrow(/ended/);
  });
});
