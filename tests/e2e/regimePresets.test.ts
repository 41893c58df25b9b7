/**
 * The launch presets of the newer certified-training regimes (issue 20): SABR and MTL-IBP
 * on FashionMNIST. Each preset fills the form with its regime and the regime's own
 * settings (and hides the other regime's), launches, and the engine starts the run with
 * that regime and those settings; the run is then cancelled (the study itself takes hours).
 */
import { mkdirSync } from "node:fs";
import path from "node:path";
import type { Page } from "playwright-core";
import { beforeAll, describe, expect, it } from "vitest";
import { sessionCookie, signIn, trpcCall, waitFor } from "../harness";
import { useDashboard } from "./session";

const SHOTS = "/tmp/shots";
const app = useDashboard({ env: { CERTPRUNE_MAX_RUNS: "1", CERTPRUNE_THREADS: "1" } });
let page: Page;
let cookie = "";

const api = <T>(procedure: string, input: unknown, method: "GET" | "POST" = "POST") =>
  trpcCall<T>(app.dashboard, cookie, procedure, input, method);

beforeAll(async () => {
  page = await (await app.browser.newContext({ viewport: { width: 1280, height: 900 } })).newPage();
  await signIn(page, app.dashboard);
  cookie = await sessionCookie(app.dashboard);
});

const CASES = [
  { preset: "SABR on FashionMNIST (pruning study)", regime: "sabr", shown: { "SABR box scale (lambda)": "0.4", "SABR PGD steps": "8" },
    hidden: ["MTL-IBP alpha", "Loss fusion (CROWN-IBP)"], settings: { sabrBoxScale: 0.4, sabrPgdSteps: 8 } },
  { preset: "MTL-IBP on FashionMNIST (pruning study)", regime: "mtl-ibp", shown: { "MTL-IBP alpha": "0.01", "MTL-IBP attack steps": "1" },
    hidden: ["SABR box scale (lambda)", "Loss fusion (CROWN-IBP)"], settings: { mtlAlpha: 0.01, mtlAttackSteps: 1, mtlAttackStep: 10 } },
];

describe("launch presets of the newer certified-training regimes", () => {
  for (const c of CASES) {
    it(`launches the ${c.regime} preset with its settings`, async () => {
      await page.goto(`${app.dashboard.url}/runs/new`);
      await page.getByRole("button", { name: c.preset }).click();
      expect(await page.getByLabel("Training regime", { exact: true }).inputValue()).toBe(c.regime);
      const sweep = await page.getByRole("button", { name: /Launch sweep \(9 runs\)/ }).count();
      expect(sweep).toBe(1); // 3 methods x 3 seeds, as the study asks
      await page.getByText("All settings").click();
      for (const [label, value] of Object.entries(c.shown)) expect(await page.getByLabel(label, { exact: true }).inputValue()).toBe(value);
      for (const label of c.hidden) expect(await page.getByLabel(label, { exact: true }).count()).toBe(0);
      mkdirSync(SHOTS, { recursive: true });
      await page.screenshot({ path: path.join(SHOTS, `preset-${c.regime}.png`), fullPage: true });

      // One run of the study is enough to check the engine takes the regime: seed 0, IMP only.
      await page.getByLabel("Seeds").fill("0");
      for (const m of ["IMP+NRS", "Random"]) await page.getByRole("checkbox", { name: m, exact: true }).uncheck();
      await page.getByRole("button", { name: "Launch run" }).click();
      await page.waitForURL(/\/runs\/run_[0-9a-f]{16}$/);
      const id = new URL(page.url()).pathname.split("/").pop()!;
      const run = await api<{ config: { training: Record<string, unknown> } }>("runs.get", { id }, "GET");
      expect(run.config.training).toMatchObject({ regime: c.regime, ...c.settings });
      // The engine itself starts the run: its plan (from the started event) shows the regime's optimizer (Adam 1e-3).
      const plan = page.getByTestId("run-plan");
      await plan.waitFor({ timeout: 180_000 });
      expect(await plan.textContent()).toMatch(/learning rate\s*(0\.001|1e-3)/);
      await page.screenshot({ path: path.join(SHOTS, `preset-${c.regime}-run.png`), fullPage: true });
      await api("runs.cancel", { id });
      await waitFor("the run to stop", async () => (await api<{ status: string }>("runs.get", { id }, "GET")).status === "cancelled", 60_000);
    }, 240_000);
  }
});
