import { TRPCError } from "@trpc/server";
import { afterEach, describe, expect, it } from "vitest";
import { runIdOf } from "@/lib/protocol/runId";
import { verifyPassword } from "../auth/password";
import { callerFor, researcher, SMOKE_CONFIG, testServices } from "../testing";
import { createCallerFactory, createContext } from "../trpc";
import { appRouter } from "./_app";

let services: ReturnType<typeof testServices>;
afterEach(async () => services?.cleanup());

/** A caller as a browser would be: whatever cookie it carries, and the cookies it is sent back. */
function browserCaller(cookie?: string) {
  const headers = new Headers(cookie ? { cookie } : {});
  const resHeaders = new Headers();
  const ctx = createContext({ req: new Request("http://127.0.0.1/api/trpc", { headers }), resHeaders }, services);
  return { caller: createCallerFactory(appRouter)(ctx), resHeaders };
}

const codeOf = (promise: Promise<unknown>) => promise.then(() => "OK", (e: TRPCError) => e.code);

describe("accounts and sessions", () => {
  it("creates the first account through setup once, then signs in and out with an http-only cookie", async () => {
    services = testServices();
    const anonymous = browserCaller();
    expect(await anonymous.caller.auth.me()).toEqual({ user: null, needsSetup: true });

    const setup = browserCaller();
    expect(await setup.caller.auth.setup({ name: "ada", password: "analytical engine" })).toEqual({ user: { name: "ada" } });
    const setCookie = setup.resHeaders.get("set-cookie")!;
    expect(setCookie).toMatch(/^certprune_session=[A-Za-z0-9_-]{43}; /);
    expect(setCookie).toMatch(/HttpOnly/);
    expect(setCookie).toMatch(/SameSite=Lax/);
    const cookie = setCookie.split(";")[0];
    expect(await browserCaller(cookie).caller.auth.me()).toEqual({ user: { name: "ada" }, needsSetup: false });

    // Setup is refused once an account exists, and creates nothing.
    expect(await codeOf(browserCaller().caller.auth.setup({ name: "mallory", password: "take over now" }))).toBe("FORBIDDEN");
    expect(services.accounts.list().map((u) => u.name)).toEqual(["ada"]);

    // The password is stored as a salted scrypt hash, the session id only as a hash.
    const row = services.db.prepare(`SELECT password_hash FROM users`).get() as { password_hash: string };
    expect(row.password_hash).toMatch(/^scrypt\$15\$8\$1\$/);
    expect(row.password_hash).not.toContain("analytical");
    expect(await verifyPassword("analytical engine", row.password_hash)).toBe(true);
    const token = cookie.split("=")[1];
    expect(JSON.stringify(services.db.prepare(`SELECT * FROM sessions`).all())).not.toContain(token);

    const out = browserCaller(cookie);
    await out.caller.auth.signOut();
    expect(out.resHeaders.get("set-cookie")).toMatch(/Max-Age=0/);
    expect((await browserCaller(cookie).caller.auth.me()).user).toBeNull(); // the old cookie no longer works
  });

  it("refuses sign-ins for a name after 10 failures, even with the right password, and not other names", async () => {
    services = testServices();
    await browserCaller().caller.auth.setup({ name: "ada", password: "analytical engine" });
    await services.accounts.add("grace", "compiler 1952");
    for (let i = 0; i < 10; i++) {
      expect(await codeOf(browserCaller().caller.auth.signIn({ name: "ada", password: `guess number ${i}` }))).toBe("UNAUTHORIZED");
    }
    const refused = await browserCaller().caller.auth.signIn({ name: "ada", password: "analytical engine" }).catch((e) => e);
    expect(refused.code).toBe("TOO_MANY_REQUESTS");
    expect(refused.message).toMatch(/too many failed sign-ins for this name: try again in 15 minutes/);
    expect(await browserCaller().caller.auth.signIn({ name: "grace", password: "compiler 1952" })).toEqual({ user: { name: "grace" } });
  });

  it("signs in with the right password only, with one message for a wrong name or password", async () => {
    services = testServices();
    await services.accounts.add("grace", "compiler 1952");
    const wrongPassword = await browserCaller().caller.auth.signIn({ name: "grace", password: "compiler 1953" }).catch((e) => e);
    const wrongName = await browserCaller().caller.auth.signIn({ name: "gracie", password: "compiler 1952" }).catch((e) => e);
    expect(wrongPassword.code).toBe("UNAUTHORIZED");
    expect(wrongName.code).toBe("UNAUTHORIZED");
    expect(wrongName.message).toBe(wrongPassword.message);

    const ok = browserCaller();
    expect(await ok.caller.auth.signIn({ name: "grace", password: "compiler 1952" })).toEqual({ user: { name: "grace" } });
    const cookie = ok.resHeaders.get("set-cookie")!.split(";")[0];
    expect(await browserCaller(cookie).caller.runs.list()).toEqual([]);
    // A guessed or forged session id signs nobody in.
    expect(await codeOf(browserCaller("certprune_session=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA").caller.runs.list())).toBe("UNAUTHORIZED");
    // A new password ends existing sessions.
    await services.accounts.setPassword("grace", "compiler 1959 cobol");
    expect(await codeOf(browserCaller(cookie).caller.runs.list())).toBe("UNAUTHORIZED");
  });

  it("rejects weak or malformed account details field by field", async () => {
    services = testServices();
    const error = await browserCaller().caller.auth.setup({ name: "../root", password: "short" }).catch((e) => e);
    expect(error.code).toBe("BAD_REQUEST");
    const paths = error.cause.issues.map((i: { path: string[] }) => i.path.join("."));
    expect(paths).toEqual(expect.arrayContaining(["name", "password"]));
    expect(services.accounts.count()).toBe(0);
  });
});

describe("who may do what to runs", () => {
  it("refuses every runs procedure to an anonymous visitor", async () => {
    services = testServices();
    const run = services.runs.insert({ id: "run_00000000000000aa", label: "x", config: SMOKE_CONFIG as never, owner: "alice" });
    const anonymous = callerFor(services, null);
    const calls: [string, () => Promise<unknown>][] = [
      ["create", () => anonymous.runs.create({ config: SMOKE_CONFIG })],
      ["createSweep", () => anonymous.runs.createSweep({ base: SMOKE_CONFIG, methods: ["IMP"], seeds: [0] })],
      ["cancel", () => anonymous.runs.cancel({ id: run.id })],
      ["retry", () => anonymous.runs.retry({ id: run.id })],
      ["delete", () => anonymous.runs.delete({ id: run.id })],
      ["list", () => anonymous.runs.list()],
      ["get", () => anonymous.runs.get({ id: run.id })],
      ["events", () => anonymous.runs.events({ id: run.id })],
    ];
    for (const [name, call] of calls) expect([name, await codeOf(call())]).toEqual([name, "UNAUTHORIZED"]);
    expect(services.runs.list().map((r) => [r.id, r.status])).toEqual([[run.id, "queued"]]);
  });

  it("lets any researcher see a run but only its owner cancel, retry or delete it", async () => {
    services = testServices();
    const queued = services.runs.insert({ id: "run_00000000000000aa", label: "queued", config: SMOKE_CONFIG as never, owner: "alice" });
    const failed = services.runs.insert({ id: runIdOf(SMOKE_CONFIG), label: "failed", config: SMOKE_CONFIG as never, owner: "alice" });
    services.runs.markEnded(failed.id, "failed", "test");
    researcher(services, "alice");
    const bob = callerFor(services, "bob");
    expect((await bob.runs.get({ id: queued.id })).owner).toBe("alice");
    expect((await bob.runs.list()).length).toBe(2);
    for (const [name, call] of [
      ["cancel", () => bob.runs.cancel({ id: queued.id })],
      ["retry", () => bob.runs.retry({ id: failed.id })],
      ["delete", () => bob.runs.delete({ id: failed.id })],
    ] as const) {
      const error = await call().catch((e) => e);
      expect([name, error.code]).toEqual([name, "FORBIDDEN"]);
      expect(error.message).toMatch(/launched by alice/);
    }
    expect(services.runs.get(queued.id)!.status).toBe("queued");
    expect(services.runs.get(failed.id)!.status).toBe("failed");
    // Launching the same settings as alice's failed run does not resume it for bob.
    expect(await bob.runs.create({ config: SMOKE_CONFIG })).toEqual({ id: failed.id, created: false, resumed: false });
    expect(services.runs.get(failed.id)!.status).toBe("failed");

    // Alice can.
    const alice = callerFor(services, "alice");
    expect((await alice.runs.cancel({ id: queued.id })).status).toBe("cancelled");
    await alice.runs.delete({ id: queued.id });
    expect(services.runs.get(queued.id)).toBeNull();
    expect(services.runs.eventsAfter(queued.id)).toEqual([]);
  });
});
