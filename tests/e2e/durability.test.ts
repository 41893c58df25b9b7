/**
 * Runs that survive, as a researcher and an admin meet them: signing in (anonymous
 * visitors are sent to /login), a second researcher who may watch but not stop another's
 * run, bounded requests, and a dashboard SIGKILLed mid-run that resumes its running and
 * queued runs when started again on the same data folder.
 */
import Database from "better-sqlite3";
import { statSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { addResearcher, fetchOnce, RESEARCHER, screenshotPath, sessionCookie, signIn, waitFor } from "../harness";
import { useDashboard } from "./session";

/** As server/testing.ts's TWO_ROUNDS: rounds of ~1 s, so that the restart lands inside round 1. */
const TWO_ROUNDS = {
  data: { dataset: "synthetic", trainSize: 512, testSize: 256 },
  model: { arch: "mlp", widths: [16] },
  training: { regime: "natural", epochs: 80, epsStart: 1, epsLength: 0 },
  pruning: { method: "random", rounds: 1, scope: "conv-linear" },
  verification: { mode: "none", samples: 0 },
};
const BOB = { name: "bob", password: "another long password" };

const app = useDashboard({ env: { CERTPRUNE_MAX_RUNS: "1" } });

/** One tRPC call over HTTP, as the browser makes it; returns the HTTP status and the JSON body. */
async function call(kind: "query" | "mutation", procedure: string, input: unknown, cookie?: string, body?: string) {
  const headers: Record<string, string> = cookie ? { cookie } : {};
  const url = `${app.dashboard.url}/api/trpc/${procedure}`;
  const res =
    kind === "query"
      ? await fetchOnce(`${url}?input=${encodeURIComponent(JSON.stringify(input))}`, { headers })
      : await fetchOnce(url, { method: "POST", headers: { ...headers, "content-type": "application/json" }, body: body ?? JSON.stringify(input) });
  return { status: res.status, json: await res.json() };
}

describe("accounts", () => {
  it("sends an anonymous visitor to sign in, and creates the first account on the setup page", async () => {
    const page = await app.browser.newPage({ viewport: { width: 1280, height: 800 } });
    await page.goto(`${app.dashboard.url}/runs/new`);
    await page.waitForURL(/\/login\?next=%2Fruns%2Fnew$/);
    await expect.poll(() => page.getByRole("heading").first().textContent()).toBe("Create the first researcher account");
    await page.screenshot({ path: screenshotPath("login-setup"), fullPage: true });

    // Mismatched passwords are caught before anything is created.
    await page.getByLabel("Name").fill(RESEARCHER.name);
    await page.getByLabel("Password", { exact: true }).fill(RESEARCHER.password);
    await page.getByLabel("Password again").fill("something else");
    await page.getByRole("button", { name: "Create account and sign in" }).click();
    await expect.poll(() => page.getByText("The two passwords differ").count()).toBe(1);
    expect((await call("query", "auth.me", {})).json.result.data.needsSetup).toBe(true);

    await page.getByLabel("Password again").fill(RESEARCHER.password);
    await page.getByRole("button", { name: "Create account and sign in" }).click();
    await page.waitForURL(/\/runs\/new$/); // back where the visitor wanted to go
    expect(await page.getByTestId("signed-in-as").textContent()).toBe(RESEARCHER.name);
    const cookie = (await page.context().cookies()).find((c) => c.name === "certprune_session")!;
    expect([cookie.httpOnly, cookie.sameSite]).toEqual([true, "Lax"]);

    // Signing out ends the session; a wrong password is refused on the sign-in page.
    await page.getByRole("button", { name: "Sign out" }).click();
    await page.waitForURL(/\/login/);
    await page.getByLabel("Name").fill(RESEARCHER.name);
    await page.getByLabel("Password", { exact: true }).fill("not the password");
    await page.getByRole("button", { name: "Sign in" }).click();
    await expect.poll(() => page.getByTestId("signin-error").textContent()).toBe("wrong name or password");
    await page.screenshot({ path: screenshotPath("login-wrong-password"), fullPage: true });
    await signIn(page, app.dashboard);
    await page.goto(app.dashboard.url);
    await page.screenshot({ path: screenshotPath("signed-in-overview"), fullPage: true });
    await page.close();
  });

  it("refuses anonymous and other researchers' changes, and oversized requests, over HTTP", async () => {
    addResearcher(app.dashboard, BOB);
    const alice = await sessionCookie(app.dashboard);
    const bob = await sessionCookie(app.dashboard, BOB);
    const long = { ...TWO_ROUNDS, training: { ...TWO_ROUNDS.training, epochs: 400 } };
    const created = await call("mutation", "runs.create", { config: long }, alice);
    expect(created.status).toBe(200);
    const id = created.json.result.data.id;

    const anonymous = await call("mutation", "runs.create", { config: TWO_ROUNDS });
    expect([anonymous.status, anonymous.json.error.message]).toEqual([401, "sign in first: this needs a researcher account"]);
    for (const procedure of ["runs.cancel", "runs.retry", "runs.delete"]) {
      expect([procedure, (await call("mutation", procedure, { id })).status]).toEqual([procedure, 401]);
      const refused = await call("mutation", procedure, { id }, bob);
      expect([procedure, refused.status, refused.json.error.message]).toEqual([procedure, 403, expect.stringMatching(/launched by researcher/)]);
    }
    expect((await call("query", "runs.get", { id }, bob)).json.result.data.owner).toBe(RESEARCHER.name); // watching is fine

    const huge = JSON.stringify({ config: TWO_ROUNDS, label: "x".repeat(100_000) });
    const tooLarge = await call("mutation", "runs.create", null, alice, huge);
    expect([tooLarge.status, tooLarge.json.error.message]).toEqual([413, expect.stringMatching(/larger than 64 KiB/)]);
    const traversal = await call("mutation", "runs.create", { config: { ...TWO_ROUNDS, data: { ...TWO_ROUNDS.data, root: "../../../../etc" } } }, alice);
    expect(traversal.status).toBe(400);
    expect(traversal.json.error.data.fieldErrors["config.data.root"][0]).toMatch(/outside the data folders/);
    expect((await call("query", "runs.list", {}, alice)).json.result.data.map((r: { id: string }) => r.id)).toEqual([id]);

    expect((await call("mutation", "runs.delete", { id }, alice)).json.result.data).toEqual({ id, deleted: true });
  });
});

describe("a dashboard killed mid-run", () => {
  it("resumes its running run and then its queued one after a SIGKILL and a restart", async () => {
    const cookie = await sessionCookie(app.dashboard);
    const running = (await call("mutation", "runs.create", { config: TWO_ROUNDS }, cookie)).json.result.data.id;
    const queued = (await call("mutation", "runs.create", { config: { ...TWO_ROUNDS, seed: 1 } }, cookie)).json.result.data.id;
    const get = async (id: string) => (await call("query", "runs.get", { id }, cookie)).json.result.data;
    await waitFor("round 1 of the running run", async () => {
      const run = await get(running);
      return run.summary.round === 1 && (run.summary.epoch ?? 0) >= 1;
    }, 120_000);
    expect((await get(queued)).status).toBe("queued");
    const roundZero = path.join(app.dashboard.dataDir, "runs", running, "round_0", "metrics.json");
    const roundZeroWritten = statSync(roundZero).mtimeMs;

    await app.restart("SIGKILL");
    // The session survives the restart too (sessions live in SQLite).
    for (const id of [running, queued]) {
      await waitFor(`run ${id} to finish`, async () => (await get(id)).status === "finished", 180_000);
    }
    expect((await get(running)).progress).toBe(1);
    expect(statSync(roundZero).mtimeMs).toBe(roundZeroWritten); // round 0 was not trained again
    // The stored stream says what happened: the restart, then a resumed engine.
    const db = new Database(path.join(app.dashboard.dataDir, "certprune.db"), { readonly: true });
    const stored = (db.prepare(`SELECT data FROM events WHERE run_id = ? ORDER BY id`).all(running) as { data: string }[]).map((r) => JSON.parse(r.data));
    db.close();
    expect(stored.some((e) => e.type === "log" && /server restarted while this run was running/.test(e.message))).toBe(true);
    expect(stored.filter((e) => e.type === "started").map((e) => e.resumed)).toEqual([false, true]);

    // The browser shows both finished.
    const page = await app.browser.newPage({ viewport: { width: 1280, height: 900 } });
    await signIn(page, app.dashboard);
    await page.goto(app.dashboard.url);
    await expect.poll(() => page.getByTestId("runs-table").getByTestId("run-status").allTextContents()).toEqual(["finished", "finished"]);
    await page.goto(`${app.dashboard.url}/runs/${running}`);
    await expect.poll(() => page.getByTestId("run-status").first().textContent(), { timeout: 30_000 }).toBe("finished");
    await page.screenshot({ path: screenshotPath("run-resumed-after-restart"), fullPage: true });
    await page.close();
  });
});
