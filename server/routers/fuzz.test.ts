/**
 * Property-based fuzzing of every tRPC query and mutation through the HTTP entry (as the
 * browser reaches it): inputs are valid examples with fields replaced by arbitrary JSON,
 * keys added (Object's own names among them) or dropped, plus whole bodies of arbitrary
 * JSON or text. For every call: no 5xx, no INTERNAL_SERVER_ERROR; and when a call is
 * refused, no engine was started and nothing was written (database rows, run folders,
 * uploads). Bounded to finish in seconds.
 */
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { POST as upload } from "@/app/api/models/upload/route";
import { GET as trpcGet, POST as trpcPost } from "@/app/api/trpc/[trpc]/route";
import { seedRun } from "@/tests/fixtures/syntheticRuns";
import { ShareStore } from "../store/shares";
import { researcher, testServices } from "../testing";

const KEY = Symbol.for("certprune.services");
let services: ReturnType<typeof testServices>;
let dataRoot: string;
let cookie: string;
let launches = 0;
let examples: Record<string, { kind: "query" | "mutation"; example: unknown; runs: number }>;

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** Object's own property names: where a careless `out[key]` breaks. */
const PROTO_KEYS = ["__proto__", "constructor", "toString", "valueOf", "hasOwnProperty", "prototype"];
const nasty = fc.oneof(
  fc.jsonValue() as fc.Arbitrary<Json>,
  fc.constantFrom<Json>("", "../../../etc/passwd", "/etc/hostname", "a\u0000b", "%E0%A4%A", "run_0000000000000000", "x".repeat(5000), -1, 0, 1e308, -1e308, 2 ** 53, 0.5, true, [], {}),
);

/** An own, enumerable property even for "__proto__" (plain assignment would set the prototype). */
function put(target: Record<string, Json>, key: string, value: Json): Record<string, Json> {
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
  return target;
}

/** Arbitrary variations of `example`: each field kept, mutated, replaced or dropped; keys added. */
function around(example: Json, depth = 0): fc.Arbitrary<Json> {
  if (Array.isArray(example)) {
    const item = example.length ? around(example[0], depth + 1) : nasty;
    return fc.oneof({ weight: 3, arbitrary: fc.array(item, { maxLength: 6 }) }, { weight: 1, arbitrary: nasty });
  }
  if (example !== null && typeof example === "object") {
    const keys = Object.keys(example);
    const fields = fc.tuple(
      ...keys.map((k) =>
        fc.oneof(
          { weight: 4, arbitrary: fc.constant(example[k]) },
          { weight: 3, arbitrary: around(example[k], depth + 1) },
          { weight: 1, arbitrary: fc.constant(undefined) },
        ),
      ),
    );
    const extra = fc.array(fc.tuple(fc.oneof(fc.constantFrom(...PROTO_KEYS), fc.string({ maxLength: 8 })), nasty), { maxLength: depth === 0 ? 2 : 1 });
    const built = fc.tuple(fields, extra).map(([values, added]) => {
      const out: Record<string, Json> = {};
      keys.forEach((k, i) => values[i] !== undefined && put(out, k, values[i] as Json));
      for (const [k, v] of added) put(out, k, v);
      return out as Json;
    });
    return fc.oneof({ weight: 5, arbitrary: built }, { weight: 1, arbitrary: nasty });
  }
  if (typeof example === "number") return fc.oneof(fc.constant(example), fc.integer({ min: -5, max: 2000 }), fc.double(), nasty);
  if (typeof example === "string") return fc.oneof(fc.constant(example), fc.string({ maxLength: 40 }), nasty);
  return fc.oneof(fc.constant(example), nasty);
}

/** What a refused call must leave as it was. */
function snapshot() {
  const count = (table: string) => (services.db.prepare(`SELECT COUNT(*) AS n FROM ${table}`).get() as { n: number }).n;
  const listing = (dir: string): string[] => {
    try {
      return readdirSync(dir, { recursive: true }).map(String).sort();
    } catch {
      return [];
    }
  };
  return {
    rows: ["runs", "events", "shares", "users", "sessions", "audits"].map((t) => `${t}=${count(t)}`),
    runState: services.db.prepare(`SELECT id, status, sweep_id, priority, owner_id FROM runs ORDER BY id`).all(),
    shareState: services.db.prepare(`SELECT id, revoked_at FROM shares ORDER BY id`).all(),
    files: listing(services.settings.dataDir).filter((f) => !f.startsWith("certprune.db")),
  };
}

async function call(procedure: string, kind: "query" | "mutation", body: string) {
  const url = `http://127.0.0.1:3000/api/trpc/${procedure}`;
  const res =
    kind === "mutation"
      ? await trpcPost(new Request(url, { method: "POST", headers: { cookie, "content-type": "application/json" }, body }))
      : await trpcGet(new Request(`${url}?input=${encodeURIComponent(body)}`, { headers: { cookie } }));
  const text = await res.text();
  return { status: res.status, text };
}

beforeAll(() => {
  dataRoot = mkdtempSync(path.join(os.tmpdir(), "certprune-fuzz-roots-"));
  services = testServices({ CERTPRUNE_DATA_ROOTS: dataRoot, CERTPRUNE_ENGINE: "/nonexistent/engine" });
  (globalThis as Record<symbol, unknown>)[KEY] = services;
  // No engine starts in this test: a launch is counted instead (none may follow a refused call).
  vi.spyOn(services.runner as unknown as { launch(): void }, "launch").mockImplementation(() => void launches++);
  const tester = researcher(services, "tester");
  cookie = `certprune_session=${services.accounts.createSession(tester.id).token}`;
  const runId = seedRun(services.runs, { method: "IMP", rounds: 1, samples: 3 });
  const other = seedRun(services.runs, { method: "Random", rounds: 1, samples: 3 });
  const { share, token } = new ShareStore(services.db).create({ kind: "run", runIds: [runId], state: {}, title: "t", ownerId: tester.id });
  const config = {
    data: { dataset: "synthetic", root: null, trainSize: 64, testSize: 32, augment: false },
    model: { arch: "mlp", widths: [16], onnx: null },
    training: { regime: "natural", epochs: 2, batchSize: 32, lr: 0.01, eps: null, epsStart: 1, epsLength: 0, regularizer: "none" },
    pruning: { method: "random", rounds: 1, rate: 0.2, scope: "conv-linear" },
    verification: { mode: "none", eps: null, samples: 0, timeout: 10 },
    seed: 3,
    device: "cpu",
  };
  examples = {
    "auth.signIn": { kind: "mutation", example: { name: "tester", password: "not the password" }, runs: 30 },
    "auth.setup": { kind: "mutation", example: { name: "ada", password: "analytical engine" }, runs: 60 },
    "auth.me": { kind: "query", example: {}, runs: 40 },
    "runs.create": { kind: "mutation", example: { config, label: "fuzz", priority: 1 }, runs: 300 },
    "runs.createSweep": { kind: "mutation", example: { base: config, methods: ["IMP", "Random"], seeds: [0, 1], priority: 0 }, runs: 150 },
    "runs.cancel": { kind: "mutation", example: { id: runId }, runs: 60 },
    "runs.retry": { kind: "mutation", example: { id: other }, runs: 60 },
    "runs.delete": { kind: "mutation", example: { id: "run_00000000000000ff" }, runs: 60 },
    "runs.get": { kind: "query", example: { id: runId }, runs: 60 },
    "runs.list": { kind: "query", example: { limit: 10, sweepId: "sweep_0000000000000000" }, runs: 60 },
    "runs.annotate": { kind: "mutation", example: { id: runId, name: "fuzzed", tags: ["a", "b-2"], notes: "n" }, runs: 100 },
    "queue.view": { kind: "query", example: {}, runs: 30 },
    "queue.forLaunch": { kind: "query", example: { priority: 3 }, runs: 40 },
    "results.compare": { kind: "query", example: { runIds: [runId, other] }, runs: 60 },
    "results.overview": { kind: "query", example: {}, runs: 30 },
    "shares.create": { kind: "mutation", example: { kind: "comparison", runIds: [runId, other], state: { metric: "standard", hidden: [], layer: "fc1", onlyDiff: false }, title: "t" }, runs: 150 },
    "shares.list": { kind: "query", example: {}, runs: 30 },
    "shares.revoke": { kind: "mutation", example: { id: "shr_0000000000000000" }, runs: 60 },
    "shares.view": { kind: "query", example: { token }, runs: 60 },
    "shares.status": { kind: "query", example: { token }, runs: 60 },
    "models.inspect": { kind: "query", example: { runId, round: 0, token: null }, runs: 60 },
    "models.audit": { kind: "query", example: { runId, round: 0, token }, runs: 60 },
    "models.audits": { kind: "query", example: { runId, token }, runs: 60 },
  };
  void share;
});

afterAll(async () => {
  delete (globalThis as Record<symbol, unknown>)[KEY];
  await services?.cleanup();
  rmSync(dataRoot, { recursive: true, force: true });
});

describe("fuzzed tRPC inputs", () => {
  it("never answer 5xx, and a refused call starts no engine and writes nothing", async () => {
    const seen = new Map<string, Set<number>>();
    for (const [procedure, { kind, example, runs }] of Object.entries(examples)) {
      const bodies = fc.oneof(
        { weight: 8, arbitrary: around(example as Json).map((input) => JSON.stringify(input) ?? "") },
        { weight: 1, arbitrary: fc.jsonValue().map((v) => JSON.stringify(v)) },
        { weight: 1, arbitrary: fc.string({ maxLength: 50 }) },
      );
      await fc.assert(
        fc.asyncProperty(bodies, async (body) => {
          const before = snapshot();
          const launchesBefore = launches;
          const { status, text } = await call(procedure, kind, body);
          (seen.get(procedure) ?? seen.set(procedure, new Set()).get(procedure)!).add(status);
          expect([procedure, body.slice(0, 300), status, text.includes("INTERNAL_SERVER_ERROR")]).toEqual([procedure, body.slice(0, 300), expect.any(Number), false]);
          expect(status).toBeLessThan(500);
          if (status >= 400) {
            expect(launches).toBe(launchesBefore);
            expect(snapshot()).toEqual(before);
          }
        }),
        { numRuns: runs, seed: Number(process.env.FUZZ_SEED ?? 20261202), endOnFailure: true },
      );
    }
    // The fuzzing reached past validation: valid calls were made, and refused ones.
    expect([...seen.get("runs.create")!].sort()).toEqual(expect.arrayContaining([200, 400]));
    expect(launches).toBeGreaterThan(0);
  }, 60_000);

  it("never answer 5xx to fuzzed model uploads, and store nothing for a refused one", async () => {
    const field = fc.oneof(fc.constantFrom("", "mnist", "fashion-mnist", "cifar10", "bab", "crown", "0.1", "1", "-1", "NaN", "1e309", "__proto__"), fc.string({ maxLength: 12 }));
    const file = fc.oneof(fc.constant(null), fc.uint8Array({ maxLength: 64 }), fc.constant(new TextEncoder().encode("not an onnx file")));
    const forms = fc.record({ file, dataset: field, eps: field, samples: field, mode: field, timeout: field, extra: fc.option(fc.tuple(fc.constantFrom(...PROTO_KEYS), field)) });
    await fc.assert(
      fc.asyncProperty(forms, async ({ file: bytes, extra, ...fields }) => {
        const form = new FormData();
        if (bytes) form.set("model", new File([bytes], "m.onnx"));
        for (const [k, v] of Object.entries(fields)) form.set(k, v);
        if (extra) form.set(extra[0], extra[1]);
        const before = snapshot();
        const res = await upload(new Request("http://127.0.0.1:3000/api/models/upload", { method: "POST", headers: { cookie }, body: form }));
        expect([res.status, await res.text()]).toEqual([expect.any(Number), expect.not.stringContaining("INTERNAL_SERVER_ERROR")]);
        expect(res.status).toBeLessThan(500);
        if (res.status >= 400) expect(snapshot()).toEqual(before);
      }),
      { numRuns: 40, seed: Number(process.env.FUZZ_SEED ?? 20261202), endOnFailure: true },
    );
  }, 60_000);
});
