/**
 * Test harness: a real dashboard (`next start` on a free loopback port, with its own
 * data directory) and Debian's chromium driven by playwright-core. Nothing is mocked.
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { mkdirSync, mkdtempSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { chromium, type Browser, type Page } from "playwright-core";
import { freePort } from "../server/queue/testing";

export { freePort };

export const ROOT = path.resolve(__dirname, "..");
/** The engine's Python (PyTorch and the engine's pinned packages): the checkout's .venv, as engine/bin/certprune-engine uses. */
export const ENGINE_PYTHON = process.env.CERTPRUNE_PYTHON ?? path.join(ROOT, ".venv", "bin", "python");
export const SCREENSHOTS = path.join(ROOT, "test-results", "screenshots");

export function tempDataDir(prefix = "certprune-test-"): string {
  return mkdtempSync(path.join(os.tmpdir(), prefix));
}

export interface Dashboard {
  url: string;
  port: number;
  /** The `next start` process (benchmarks read its CPU time). */
  pid: number;
  dataDir: string;
  output: () => string;
  stop(signal?: NodeJS.Signals): Promise<void>;
}

/** Starts the built dashboard (scripts/setup.sh builds it) and waits until it answers. */
export interface DashboardOptions {
  dataDir?: string;
  port?: number;
  env?: Record<string, string>;
}

export async function startDashboard(options: DashboardOptions = {}): Promise<Dashboard> {
  const dataDir = options.dataDir ?? tempDataDir();
  const port = options.port ?? (await freePort());
  let output = "";
  const child: ChildProcess = spawn(path.join(ROOT, "node_modules", ".bin", "next"), ["start", "-p", String(port), "-H", "127.0.0.1"], {
    cwd: ROOT,
    env: { ...process.env, CERTPRUNE_DATA_DIR: dataDir, NEXT_TELEMETRY_DISABLED: "1", ...options.env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  child.stdout!.on("data", (d) => (output += d));
  child.stderr!.on("data", (d) => (output += d));
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`dashboard exited early:\n${output}`);
    try {
      const res = await fetch(`${url}/api/trpc/auth.me`);
      if (res.ok) break;
    } catch {
      /* not listening yet */
    }
    if (Date.now() > deadline) throw new Error(`dashboard did not answer within 60 s:\n${output}`);
    await new Promise((r) => setTimeout(r, 250));
  }
  return {
    url,
    port,
    pid: child.pid!,
    dataDir,
    output: () => output,
    async stop(signal: NodeJS.Signals = "SIGTERM") {
      if (child.exitCode === null) child.kill(signal);
      await exited;
    },
  };
}

export async function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
    args: [
      "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
      "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage",
    ],
  });
}

export function screenshotPath(name: string): string {
  mkdirSync(SCREENSHOTS, { recursive: true });
  return path.join(SCREENSHOTS, `${name}.png`);
}

export async function waitFor<T>(what: string, probe: () => Promise<T | undefined | null | false> | T | undefined | null | false, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** The researcher tests sign in as, unless they name another. */
export const RESEARCHER = { name: "researcher", password: "correct horse battery staple" };
export type Researcher = typeof RESEARCHER;

/**
 * Signs `page`'s browser context in through the /login page: while the dashboard has no
 * account yet, the page's first-run setup creates `who`; otherwise it signs `who` in
 * (create further accounts first with addResearcher). Leaves the page where it landed.
 */
export async function signIn(page: Page, dashboard: Dashboard, who: Researcher = RESEARCHER): Promise<void> {
  await page.goto(`${dashboard.url}/login`);
  const form = page.locator("form.signin");
  await form.waitFor();
  const setup = (await form.getAttribute("aria-label")) === "Create the first account";
  await page.getByLabel("Name").fill(who.name);
  await page.getByLabel("Password", { exact: true }).fill(who.password);
  if (setup) await page.getByLabel("Password again").fill(who.password);
  await form.getByRole("button").click();
  await page.waitForURL((url) => !url.pathname.startsWith("/login"));
}

/** Adds a researcher account with the admin command, as an admin would: `certprune user add NAME`. */
export function addResearcher(dashboard: Pick<Dashboard, "dataDir">, who: Researcher): void {
  const result = spawnSync(path.join(ROOT, "bin", "certprune"), ["user", "add", who.name], {
    input: `${who.password}\n`,
    env: { ...process.env, CERTPRUNE_DATA_DIR: dashboard.dataDir },
    encoding: "utf8",
  });
  if (result.status !== 0) throw new Error(`certprune user add ${who.name} failed: ${result.stderr}`);
}

/**
 * A `cookie` header value signed in as `who`, for direct API calls (fetch): the first
 * account is created through auth.setup when none exists yet.
 */
export async function sessionCookie(dashboard: Dashboard, who: Researcher = RESEARCHER): Promise<string> {
  const me = await (await fetchOnce(`${dashboard.url}/api/trpc/auth.me`)).json();
  const procedure = me.result.data.needsSetup ? "auth.setup" : "auth.signIn";
  const res = await fetchOnce(`${dashboard.url}/api/trpc/${procedure}`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(who),
  });
  const cookie = res.headers.get("set-cookie");
  if (!res.ok || !cookie) throw new Error(`could not sign in as ${who.name}: ${res.status} ${await res.text()}`);
  return cookie.split(";")[0];
}

/**
 * fetch, tried again once when the server closed a kept-alive connection just as the
 * request went out (the request never reached the application, so repeating it is safe).
 */
export async function fetchOnce(url: string, init?: RequestInit): Promise<Response> {
  try {
    return await fetch(url, init);
  } catch (error) {
    const code = ((error as Error).cause as { code?: string } | undefined)?.code;
    if (code !== "UND_ERR_SOCKET" && code !== "ECONNRESET") throw error;
    return fetch(url, init);
  }
}

/**
 * A tRPC procedure called over HTTP as the browser calls it, with a session cookie (and the
 * dashboard's origin on mutations); throws with the status and body on an error.
 */
export async function trpcCall<T>(dashboard: Pick<Dashboard, "url">, cookie: string, procedure: string, input: unknown,
  method: "GET" | "POST" = "POST"): Promise<T> {
  const url = `${dashboard.url}/api/trpc/${procedure}`;
  const res = method === "GET"
    ? await fetch(`${url}?input=${encodeURIComponent(JSON.stringify(input))}`, { headers: { cookie } })
    : await fetch(url, { method: "POST", headers: { cookie, "content-type": "application/json", origin: dashboard.url }, body: JSON.stringify(input) });
  const body = await res.json();
  if (!res.ok) throw new Error(`${procedure}: ${res.status} ${JSON.stringify(body)}`);
  return body.result.data as T;
}
