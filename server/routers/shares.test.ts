import { createHash, randomBytes } from "node:crypto";
import { createRequire } from "node:module";
import { afterEach, describe, expect, it } from "vitest";
import type { RunEvent } from "@/lib/protocol";
import { seedRun } from "@/tests/fixtures/syntheticRuns";
import { shareForPage } from "../http/sharePage";
import { callerFor, researcher, testServices } from "../testing";

let services: ReturnType<typeof testServices>;
afterEach(async () => services?.cleanup());

function seeded() {
  services = testServices();
  const imp = seedRun(services.runs, { method: "IMP", rounds: 2, samples: 10 });
  const random = seedRun(services.runs, { method: "Random", rounds: 2, samples: 10 });
  const other = seedRun(services.runs, { method: "SNIP", rounds: 2, samples: 10 });
  return { imp, random, other };
}

const code = (promise: Promise<unknown>) => promise.then(() => "resolved", (e: { code?: string }) => e.code);

describe("share links", () => {
  it("open a comparison without signing in, showing only the runs they name and the saved view", async () => {
    const { imp, random, other } = seeded();
    const owner = callerFor(services, "alice");
    const state = { metric: "standard" as const, hidden: ["Random"], layer: "conv2", onlyDiff: false };
    const created = await owner.shares.create({ kind: "comparison", runIds: [imp, random], state });
    expect(created.token).toMatch(/^[A-Za-z0-9_-]{43}$/); // 32 random bytes
    expect(created.path).toBe(`/share/${created.token}`);
    expect(created.share.title).toBe("IMP vs Random");

    const visitor = callerFor(services, null);
    const view = await visitor.shares.view({ token: created.token });
    expect(view.kind).toBe("comparison");
    expect(view.state).toEqual(state);
    expect(view.comparison!.runs.map((r) => r.id)).toEqual([imp, random]);
    expect(JSON.stringify(view)).not.toContain(other);
    expect(view.comparison!.runs[0].rounds).toHaveLength(3);
    expect((await owner.shares.list())[0]).toMatchObject({ id: created.share.id, views: 1 });
  });

  it("store only a hash of the token", async () => {
    const { imp } = seeded();
    const { token, share } = await callerFor(services, "alice").shares.create({ kind: "run", runId: imp });
    const rows = services.db.prepare(`SELECT * FROM shares`).all() as Record<string, unknown>[];
    expect(JSON.stringify(rows)).not.toContain(token);
    expect(rows[0].token_hash).toBe(createHash("sha256").update(token).digest("hex"));
    expect(rows[0].id).toBe(share.id);
  });

  it("refuse forged, guessed, altered and revoked tokens", async () => {
    const { imp } = seeded();
    const alice = callerFor(services, "alice");
    const visitor = callerFor(services, null);
    const { token, share } = await alice.shares.create({ kind: "run", runId: imp });
    const altered = token.slice(0, -1) + (token.endsWith("A") ? "B" : "A");
    for (const forged of [randomBytes(32).toString("base64url"), altered, share.id, token.slice(0, 20), `${token}x`, "../../etc/passwd", "", createHash("sha256").update(token).digest("hex")]) {
      await expect(visitor.shares.view({ token: forged })).rejects.toMatchObject({ code: "NOT_FOUND" });
    }
    expect((await visitor.shares.view({ token })).run!.id).toBe(imp);

    // Only its maker can revoke it; then it is refused, with a message that says so.
    expect(await code(callerFor(services, "mallory").shares.revoke({ id: share.id }))).toBe("FORBIDDEN");
    expect(await code(visitor.shares.revoke({ id: share.id }))).toBe("UNAUTHORIZED");
    expect((await visitor.shares.view({ token })).run!.id).toBe(imp);
    const revoked = await alice.shares.revoke({ id: share.id });
    expect(revoked.revokedAt).not.toBeNull();
    await expect(visitor.shares.view({ token })).rejects.toThrow(/revoked/);
    await expect(visitor.shares.view({ token })).rejects.toMatchObject({ code: "FORBIDDEN" });
    const events = await visitor.shares.runEvents({ token });
    await expect(events[Symbol.asyncIterator]().next()).rejects.toMatchObject({ code: "FORBIDDEN" });
  });

  it("answer the share page with 404 for an unknown link and 403 once revoked; an open page learns of it without counting views", async () => {
    // Next.js sets this from next.config.js's experimental.authInterrupts, which forbidden() needs.
    const nextConfig = createRequire(import.meta.url)("../../next.config.js") as { experimental?: { authInterrupts?: boolean } };
    expect(nextConfig.experimental?.authInterrupts).toBe(true);
    process.env.__NEXT_EXPERIMENTAL_AUTH_INTERRUPTS = "true";
    const { imp } = seeded();
    const alice = callerFor(services, "alice");
    const visitor = callerFor(services, null);
    const { token, share } = await alice.shares.create({ kind: "run", runId: imp });
    const digest = (fn: () => unknown) => {
      try {
        fn();
        return "rendered";
      } catch (error) {
        return (error as { digest?: string }).digest;
      }
    };
    expect(digest(() => shareForPage(services, token))).toBe("rendered");
    expect(await visitor.shares.status({ token })).toEqual({ open: true });
    expect(digest(() => shareForPage(services, randomBytes(32).toString("base64url")))).toBe("NEXT_HTTP_ERROR_FALLBACK;404");
    await alice.shares.revoke({ id: share.id });
    expect(digest(() => shareForPage(services, token))).toBe("NEXT_HTTP_ERROR_FALLBACK;403");
    expect(await code(visitor.shares.status({ token }))).toBe("FORBIDDEN");
    expect((await alice.shares.list())[0].views).toBe(0);
  });

  it("let a link's visitor read the audit and the models of the runs it names, read-only, until it is revoked", async () => {
    const { imp, random } = seeded();
    const alice = callerFor(services, "alice");
    const visitor = callerFor(services, null);
    const { token, share } = await alice.shares.create({ kind: "run", runId: imp, state: { round: 1, layer: "fc1" } });
    // Seeded runs have no files: the audit says so, and the inspector finds no model; neither refuses the visitor.
    const audit = await visitor.models.audit({ runId: imp, round: 1, token });
    expect(audit).toMatchObject({ state: "unavailable", round: 1 });
    expect(await code(visitor.models.inspect({ runId: imp, round: 1, token }))).toBe("NOT_FOUND");
    expect((await visitor.models.audits({ runId: imp, token })).map((a) => a.round)).toEqual([0, 1, 2]);
    // Not another run, not without the token, and nothing that writes.
    expect(await code(visitor.models.audit({ runId: random, round: 1, token }))).toBe("FORBIDDEN");
    expect(await code(visitor.models.inspect({ runId: random, round: 1, token }))).toBe("FORBIDDEN");
    expect(await code(visitor.models.audit({ runId: imp, round: 1 }))).toBe("UNAUTHORIZED");
    expect(await code(visitor.runs.cancel({ id: imp }))).toBe("UNAUTHORIZED");
    // The saved view (round, layer) comes with the link.
    expect((await visitor.shares.view({ token })).state).toEqual({ round: 1, layer: "fc1" });

    await alice.shares.revoke({ id: share.id });
    expect(await code(visitor.models.audit({ runId: imp, round: 1, token }))).toBe("FORBIDDEN");
    expect(await code(visitor.models.audits({ runId: imp, token }))).toBe("FORBIDDEN");
    expect(await code(visitor.models.inspect({ runId: imp, round: 1, token }))).toBe("FORBIDDEN");
  });

  it("need a signed-in researcher to create or list, and list only one's own", async () => {
    const { imp, random } = seeded();
    const visitor = callerFor(services, null);
    expect(await code(visitor.shares.create({ kind: "run", runId: imp }))).toBe("UNAUTHORIZED");
    expect(await code(visitor.shares.list())).toBe("UNAUTHORIZED");
    await callerFor(services, "alice").shares.create({ kind: "run", runId: imp });
    await callerFor(services, "bob").shares.create({ kind: "run", runId: random });
    const bobs = await callerFor(services, "bob").shares.list();
    expect(bobs.map((s) => s.runIds)).toEqual([[random]]);
    expect(JSON.stringify(bobs)).not.toMatch(/token/i);
    expect(services.db.prepare(`SELECT COUNT(*) AS n FROM shares`).get()).toEqual({ n: 2 });
  });

  it("let only a run's owner share it, alone or in a comparison", async () => {
    const { imp, random, other } = seeded();
    const alice = researcher(services, "alice");
    services.db.prepare(`UPDATE runs SET owner = 'alice', owner_id = ? WHERE id IN (?, ?)`).run(alice.id, imp, random);
    const mallory = callerFor(services, "mallory");
    const refused = await mallory.shares.create({ kind: "run", runId: imp }).catch((e) => e);
    expect(refused.code).toBe("FORBIDDEN");
    expect(refused.message).toMatch(new RegExp(`only a run's owner can share it: ${imp} \\(launched by alice\\)`));
    expect(await code(mallory.shares.create({ kind: "comparison", runIds: [other, random] }))).toBe("FORBIDDEN");
    expect(services.db.prepare(`SELECT COUNT(*) AS n FROM shares`).get()).toEqual({ n: 0 });
    // The owner can; a run from before accounts (no owner) anyone can.
    expect((await callerFor(services, "alice").shares.create({ kind: "comparison", runIds: [imp, random, other] })).share.runIds).toEqual([imp, random, other]);
    expect((await mallory.shares.create({ kind: "run", runId: other })).share.runIds).toEqual([other]);
    // A visitor does not learn who launched a shared run.
    const { token } = await callerFor(services, "alice").shares.create({ kind: "run", runId: imp });
    const view = await callerFor(services, null).shares.view({ token });
    expect(Object.keys(view.run!).filter((k) => /owner|worker/i.test(k))).toEqual([]);
  });

  it("refuse to share runs that do not exist, and bad view state, creating nothing", async () => {
    const { imp } = seeded();
    const alice = callerFor(services, "alice");
    await expect(alice.shares.create({ kind: "comparison", runIds: [imp, "run_00000000000000ff"] })).rejects.toThrow(/no run run_00000000000000ff/);
    const bad = await alice.shares.create({ kind: "comparison", runIds: [imp], state: { metric: "loss" } as never }).catch((e) => e);
    expect(bad.code).toBe("BAD_REQUEST");
    expect(bad.cause.issues[0].path).toEqual(["state", "metric"]);
    expect(services.db.prepare(`SELECT COUNT(*) AS n FROM shares`).get()).toEqual({ n: 0 });
  });

  it("stream a shared run's events, and end the stream when the link is revoked", async () => {
    services = testServices();
    const id = seedRun(services.runs, { method: "IMP", rounds: 3, samples: 5, stopAfter: 1 }); // still running
    const other = seedRun(services.runs, { method: "SNIP", rounds: 1, samples: 5 });
    const alice = callerFor(services, "alice");
    const { token, share } = await alice.shares.create({ kind: "run", runId: id });
    const stream = await callerFor(services, null).shares.runEvents({ token });
    const seen: RunEvent[] = [];
    const stored = services.runs.eventsAfter(id);
    const done = (async () => {
      for await (const item of stream) {
        const [, data] = item as unknown as [string, RunEvent];
        seen.push(data);
        if (seen.length === stored.length) {
          // Caught up with the stored events: one arrives live...
          services.bus.publish(services.runs.appendEvent(id, { type: "log", seq: 99, time: new Date().toISOString(), level: "info", message: "live one" }));
        } else if (seen.length === stored.length + 1) {
          // ...then the link is revoked, and the next event is not sent.
          await alice.shares.revoke({ id: share.id });
          services.bus.publish(services.runs.appendEvent(id, { type: "log", seq: 100, time: new Date().toISOString(), level: "info", message: "after revoke" }));
        }
      }
    })();
    await done;
    expect(seen.map((e) => e.type)).toEqual([...stored.map((e) => e.event.type), "log"]);
    expect(seen.at(-1)).toMatchObject({ message: "live one" });
    expect(JSON.stringify(seen)).not.toContain(other);
  });
});
