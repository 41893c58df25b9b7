import { TRPCError } from "@trpc/server";
import { fetchRequestHandler } from "@trpc/server/adapters/fetch";
import { afterEach, describe, expect, it, vi } from "vitest";
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

  it("counts sign-ins sent at once: 5 parallel batches of 20 wrong guesses get 10 refusals by password, then only 429", async () => {
    services = testServices();
    await services.accounts.add("ada", "analytical engine");
    const batch = () => Promise.all(Array.from({ length: 20 }, (_, i) => codeOf(browserCaller().caller.auth.signIn({ name: "ada", password: `guess ${i}` }))));
    const codes = (await Promise.all(Array.from({ length: 5 }, batch))).flat();
    expect(codes.filter((c) => c === "UNAUTHORIZED").length).toBe(10);
    expect(codes.filter((c) => c === "TOO_MANY_REQUESTS").length).toBe(90);
    expect(await codeOf(browserCaller().caller.auth.signIn({ name: "ada", password: "analytical engine" }))).toBe("TOO_MANY_REQUESTS");
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
    const run = services.runs.insert({ id: "run_00000000000000aa", label: "x", config: SMOKE_CONFIG as never, owner: researcher(services, "alice") });
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
    const owner = researcher(services, "alice");
    const queued = services.runs.insert({ id: "run_00000000000000aa", label: "queued", config: SMOKE_CONFIG as never, owner });
    const failed = services.runs.insert({ id: runIdOf(SMOKE_CONFIG), label: "failed", config: SMOKE_CONFIG as never, owner });
    services.runs.markEnded(failed.id, "failed", "test");
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

    // Nor does bob's sweep with the settings of alice's run tag her run into his sweep.
    const sweep = await bob.runs.createSweep({ base: SMOKE_CONFIG, methods: ["Dense"], seeds: [0] });
    expect(sweep.runs).toEqual([{ method: "Dense", seed: 0, id: failed.id, created: false, resumed: false }]);
    expect(services.runs.get(failed.id)!.sweepId).toBeNull();

    // Alice can.
    const alice = callerFor(services, "alice");
    expect((await alice.runs.cancel({ id: queued.id })).status).toBe("cancelled");
    await alice.runs.delete({ id: queued.id });
    expect(services.runs.get(queued.id)).toBeNull();
    expect(services.runs.eventsAfter(queued.id)).toEqual([]);
  });
});

describe("runs belong to an account, not a name", () => {
  it("does not let a new account under a removed researcher's name change the old runs", async () => {
    services = testServices();
    const alice = researcher(services, "alice");
    const run = services.runs.insert({ id: "run_00000000000000aa", label: "x", config: SMOKE_CONFIG as never, owner: alice });
    services.runs.markEnded(run.id, "failed", "test");
    expect(services.accounts.remove("alice")).toBe(true);
    const newAlice = callerFor(services, "alice"); // a different account with the same name
    for (const [name, call] of [
      ["retry", () => newAlice.runs.retry({ id: run.id })],
      ["delete", () => newAlice.runs.delete({ id: run.id })],
      ["share", () => newAlice.shares.create({ kind: "run", runId: run.id })],
    ] as const) {
      expect([name, await codeOf(call())]).toEqual([name, "FORBIDDEN"]);
    }
    expect(services.runs.get(run.id)).toMatchObject({ status: "failed", owner: "alice", ownerId: alice.id });
  });

  it("gives runs stored by name the id of their owner's account, only if that account is older than the run", async () => {
    services = testServices();
    const { MIGRATIONS } = await import("../store/migrations");
    const ada = researcher(services, "ada");
    services.db.exec(`DROP INDEX runs_owner_id; ALTER TABLE runs DROP COLUMN owner_id`);
    const insert = services.db.prepare(`INSERT INTO runs (id, label, config, status, owner, created_at, queued_at) VALUES (?, 'x', '{}', 'failed', ?, ?, ?)`);
    insert.run("run_000000000000000a", "ada", ada.createdAt + 10, ada.createdAt + 10); // launched by today's ada
    insert.run("run_000000000000000b", "ada", ada.createdAt - 10, ada.createdAt - 10); // by an earlier ada
    insert.run("run_000000000000000c", "gone", ada.createdAt, ada.createdAt); // by a removed researcher
    services.db.exec(MIGRATIONS.find((m) => m.name === "007_run_owner_id")!.sql);
    const ids = services.db.prepare(`SELECT id, owner_id FROM runs ORDER BY id`).all();
    expect(ids).toEqual([
      { id: "run_000000000000000a", owner_id: ada.id },
      { id: "run_000000000000000b", owner_id: null },
      { id: "run_000000000000000c", owner_id: null },
    ]);
  });
});

describe("malformed requests answer 4xx, never 500", () => {
  /** One tRPC call over HTTP (the error formatter runs only there): status and parsed body. */
  async function post(procedure: string, body: unknown, cookie?: string) {
    const req = new Request(`http://127.0.0.1/api/trpc/${procedure}`, {
      method: "POST",
      body: typeof body === "string" ? body : JSON.stringify(body),
      headers: { "content-type": "application/json", ...(cookie ? { cookie } : {}) },
    });
    const res = await fetchRequestHandler({ endpoint: "/api/trpc", req, router: appRouter, createContext: (opts) => createContext(opts, services) });
    return { status: res.status, body: await res.json() };
  }

  it("refuses setup with 403 once an account exists, also when the accounts module was loaded by another bundle", async () => {
    services = testServices();
    await services.accounts.add("ada", "analytical engine");
    // Next.js evaluates server modules once per route bundle, while the services (and so
    // the Accounts that throws) are shared: the error's class is another copy of it.
    vi.resetModules();
    const copy = await import("../auth/accounts");
    const accounts = new copy.Accounts(services.db);
    const ctx = createContext({ req: new Request("http://127.0.0.1/api/trpc"), resHeaders: new Headers() }, { ...services, accounts });
    const error = await createCallerFactory(appRouter)(ctx).auth.setup({ name: "mallory", password: "take over now" }).catch((e) => e);
    expect(error.code).toBe("FORBIDDEN");
    expect(error.message).toMatch(/setup is done/);
    expect((await post("auth.setup", { name: "mallory", password: "take over now" })).status).toBe(403);
    expect(services.accounts.list().map((u) => u.name)).toEqual(["ada"]);
  });

  it("treats a session cookie that is not valid %-encoding as no session", async () => {
    services = testServices();
    for (const cookie of ["certprune_session=%E0%A4%A", "certprune_session=%", "other=1; certprune_session=%zz"]) {
      expect(await browserCaller(cookie).caller.auth.me()).toEqual({ user: null, needsSetup: true });
      expect(await codeOf(browserCaller(cookie).caller.runs.list())).toBe("UNAUTHORIZED");
      const listed = await post("runs.create", { config: SMOKE_CONFIG }, cookie);
      expect([listed.status, listed.body.error.message]).toEqual([401, "sign in first: this needs a researcher account"]);
    }
  });

  it("answers 400 with field messages for input keys named like Object's own (constructor, toString, __proto__)", async () => {
    services = testServices();
    for (const key of ["constructor", "toString", "__proto__", "hasOwnProperty", "valueOf"]) {
      const body = `{"name":"ada","password":"guess","${key}":{"a":1}}`;
      const answer = await post("auth.signIn", body);
      expect([key, answer.status, answer.body.error.data.code]).toEqual([key, 400, "BAD_REQUEST"]);
      expect(answer.body.error.data.fieldErrors[key]).toEqual(["unknown setting"]);
    }
    const nested = await post("auth.setup", `{"name":"ada","password":"analytical engine","constructor":1,"toString":2}`);
    expect(nested.status).toBe(400);
    expect(Object.keys(nested.body.error.data.fieldErrors).sort()).toEqual(["constructor", "toString"]);
    expect(services.accounts.count()).toBe(0);
  });
});
