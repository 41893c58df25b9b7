/** Bundle downloads start a bounded number of engine exports at once (CERTPRUNE_MAX_EXPORTS). */
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { GET as bundle } from "@/app/runs/[id]/bundle/route";
import { researcher, SMOKE_CONFIG, testServices } from "../testing";
import { Slots } from "./slots";

let services: ReturnType<typeof testServices>;
let scratch: string;
const KEY = Symbol.for("certprune.services");
afterEach(async () => {
  delete (globalThis as Record<symbol, unknown>)[KEY];
  await services?.cleanup();
  if (scratch) rmSync(scratch, { recursive: true, force: true });
});

describe("Slots", () => {
  it("hands out at most `size` slots; releasing one twice frees it once", () => {
    const slots = new Slots(2);
    const a = slots.tryTake()!;
    const b = slots.tryTake()!;
    expect(slots.tryTake()).toBeNull();
    a();
    a();
    expect(slots.inUse).toBe(1);
    expect(slots.tryTake()).not.toBeNull();
    expect(slots.tryTake()).toBeNull();
    b();
  });
});

describe("bundle downloads", () => {
  it("run one export at a time with CERTPRUNE_MAX_EXPORTS=1: a second request at once gets 503, a later one works", async () => {
    scratch = mkdtempSync(path.join(os.tmpdir(), "certprune-exports-"));
    // A stand-in engine whose export takes a second and writes a model.
    const engine = path.join(scratch, "engine");
    writeFileSync(engine, `#!/bin/sh\nwhile [ "$1" != "--out" ]; do shift; done\nsleep 1\necho onnx > "$2/model.onnx"\n`);
    chmodSync(engine, 0o755);
    services = testServices({ CERTPRUNE_MAX_EXPORTS: "1", CERTPRUNE_ENGINE: engine });
    (globalThis as Record<symbol, unknown>)[KEY] = services;
    const owner = researcher(services, "alice");
    const cookie = `certprune_session=${services.accounts.createSession(owner.id).token}`;
    const run = services.runs.insert({ id: "run_00000000000000aa", label: "x", config: SMOKE_CONFIG as never, owner });
    services.runs.markEnded(run.id, "finished", null);
    mkdirSync(path.join(services.runner.runDir(run.id), "round_0"), { recursive: true });
    writeFileSync(path.join(services.runner.runDir(run.id), "round_0", "checkpoint.pt"), "");

    const get = () => bundle(new Request(`http://127.0.0.1/runs/${run.id}/bundle?round=0`, { headers: { cookie } }), { params: Promise.resolve({ id: run.id }) });
    const [first, second] = await Promise.all([get(), get()]);
    expect([first.status, second.status].sort()).toEqual([200, 503]);
    const busy = first.status === 503 ? first : second;
    expect(busy.headers.get("retry-after")).toBe("30");
    expect(await busy.text()).toMatch(/already exporting 1 bundle; try again/);
    await (first.status === 200 ? first : second).arrayBuffer();
    expect(services.exports.inUse).toBe(0);
    expect((await get()).status).toBe(200);
  });
});
