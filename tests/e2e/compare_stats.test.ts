/**
 * Comparisons a reviewer can trust (issue #15), as a reviewer meets them: launch a
 * two-method sweep with two seeds from the form (seeing the launch warnings), open the
 * comparison, and find intervals on every accuracy, paired p-values with "not significant"
 * marked, both sparsity definitions (and the chart's switch between them), the "how to
 * read this" note, and the same figures in the CSV exports; choose runs on the compare
 * page itself; and on a run page, the labelled margin bounds and stability counts. Real
 * engine, real SQLite, Debian's chromium; full-page screenshots land in /tmp/shots/.
 */
import { mkdirSync, readFileSync } from "node:fs";
import type { BrowserContext, Download, Page } from "playwright-core";
import { beforeAll, describe, expect, it } from "vitest";
import { signIn, waitFor } from "../harness";
import { useDashboard } from "./session";

const app = useDashboard();
const SHOTS = process.env.SHOTS_DIR ?? "/tmp/shots";

let context: BrowserContext;
let page: Page;
let compareUrl = "";

beforeAll(async () => {
  mkdirSync(SHOTS, { recursive: true });
  context = await app.browser.newContext({ viewport: { width: 1400, height: 900 }, acceptDownloads: true });
  page = await context.newPage();
  await signIn(page, app.dashboard);
});

/** A full-page screenshot taken straight after load, without scrolling: every chart must already be drawn. */
const shot = (p: Page, name: string) => p.screenshot({ path: `${SHOTS}/compare-stats-${name}.png`, fullPage: true });
const attr = async (p: Page, testId: string, name: string) => (await p.getByTestId(testId).first().getAttribute(name)) ?? "";

async function downloaded(p: Page, click: () => Promise<void>): Promise<string> {
  const [download] = (await Promise.all([p.waitForEvent("download"), click()])) as [Download, void];
  return readFileSync((await download.path())!, "utf8");
}

/** Rows of a CSV without quoted commas (ours quote only text that needs it). */
const csvRows = (text: string) => {
  const [head, ...rows] = text.trim().split(/\r?\n/).map((l) => l.split(","));
  return rows.map((r) => Object.fromEntries(head.map((h, i) => [h, r[i] ?? ""])));
};

describe("comparisons a reviewer can trust", () => {
  it("warns at launch, then launches IMP and Random with two seeds", async () => {
    await page.goto(`${app.dashboard.url}/runs/new`);
    await page.getByRole("button", { name: "Quick sweep (synthetic)" }).click();
    await page.getByLabel("Seeds").fill("0");
    const warnings = page.getByTestId("launch-warnings");
    // The quick sweep verifies 10 samples: too few; and one seed is no spread.
    await expect.poll(async () => (await warnings.locator("li").evaluateAll((lis) => lis.map((li) => li.getAttribute("data-code")))).sort()).toEqual(["few-samples", "one-seed"]);
    expect(await warnings.textContent()).toMatch(/10 verification samples.*±\d+ points/);
    await page.getByLabel("Seeds").fill("0, 1");
    await expect.poll(async () => warnings.locator("li[data-code]").evaluateAll((lis) => lis.map((li) => li.getAttribute("data-code")))).toEqual(["few-samples"]);
    await shot(page, "launch");
    await page.getByRole("button", { name: "Launch sweep (4 runs)" }).click();
    await page.waitForURL(/\/compare\?runs=(run_[0-9a-f]{16},){3}run_[0-9a-f]{16}/);
    compareUrl = page.url();
    await page.getByTestId("compare-summary").waitFor();
    // The page refetches every 5 s while runs are going.
    await waitFor("all four runs to finish", async () => {
      await page.waitForTimeout(2_000);
      const statuses = await page.getByTestId("run-status").allTextContents();
      if (statuses.some((s) => s === "failed")) throw new Error(`a run failed: ${statuses}`);
      return statuses.length === 4 && statuses.every((s) => s === "finished");
    }, 840_000);
  }, 900_000);

  it("shows intervals, p-values, 'not significant' and both sparsity definitions", async () => {
    await page.goto(compareUrl);
    await page.getByTestId("table-one").waitFor();
    expect(await page.getByTestId("compare-summary").textContent()).toMatch(/^4 runs in 2 series/);
    await shot(page, "compare");

    // Table I: every method's best round with the engine's say on rounds within noise, intervals of the mean over 2 seeds.
    const table = page.getByTestId("table-one");
    expect(await table.locator("tbody tr").count()).toBe(2);
    for (const ci of await page.getByTestId("best-verified-ci").allTextContents()) expect(ci).toMatch(/^ \[\d+\.\d, \d+\.\d\]$/);
    for (const r of await page.getByTestId("remaining-scope").allTextContents()) expect(r).toMatch(/^\d+(\.\d+)?%$/);
    expect(await page.getByTestId("best-verified-ci").first().getAttribute("title")).toMatch(/over 2 seeds/);
    const head = await table.locator("thead").textContent();
    expect(head).toContain("Remaining of pruned layers");
    expect(head).toContain("Remaining of all weights");
    for (const all of await page.getByTestId("remaining-all").allTextContents()) expect(all).toMatch(/^\d+(\.\d+)?%$/); // recorded by the engine
    for (const note of await page.getByTestId("indistinguishable").allTextContents()) expect(note).toMatch(/not distinguishable from round|distinguishable from every other round/);

    // Paired tests: 2 methods -> 2 against dense + 1 between them, each with a p-value; "not significant" exactly where p >= 0.05.
    const rows = page.getByTestId("paired-table").locator("tbody tr");
    expect(await rows.count()).toBe(3);
    let notSignificant = 0;
    for (let i = 0; i < 3; i++) {
      const row = rows.nth(i);
      const pText = (await row.getByTestId("paired-p").textContent())!;
      const p = pText.startsWith("< ") ? 0 : Number(pText.match(/^[\d.e-]+/)![0]);
      expect(p).toBeGreaterThanOrEqual(0);
      expect(p).toBeLessThanOrEqual(1);
      const marked = (await row.getByTestId("not-significant").count()) === 1;
      expect(marked).toBe(p >= 0.05);
      if (marked) notSignificant++;
      expect(await row.getByTestId("paired-diff").textContent()).toMatch(/^[+−]\d+\.\d \[[+−]\d+\.\d, [+−]\d+\.\d\]$/);
      expect(await row.getByTestId("seed-p").textContent()).toMatch(/^[\d.<\s]+ · [\d.<\s–]+$/); // sign test · paired t over 2 seeds
    }
    // 10 samples per run cannot separate these tiny networks everywhere.
    expect(notSignificant).toBeGreaterThan(0);
    expect(await page.getByTestId("how-to-read").textContent()).toMatch(/How to read this.*95% interval.*not significant/s);

    // The chart: error bars on the points, and the x axis switches between what "remaining" counts, kept in the URL.
    expect(Number(await attr(page, "accuracy-chart", "data-bars"))).toBeGreaterThan(0);
    expect(await page.getByTestId("accuracy-chart").locator(".error-bar").count()).toBeGreaterThan(0);
    expect(await attr(page, "accuracy-chart", "data-basis")).toBe("scope");
    await page.getByTestId("sparsity-basis").selectOption("all");
    await expect.poll(() => attr(page, "accuracy-chart", "data-basis")).toBe("all");
    expect(await page.getByTestId("accuracy-chart").locator("h2").textContent()).toContain("of all weights");
    expect(page.url()).toContain("x=all");
    await shot(page, "compare-all-weights");
    // Charts far down the page are drawn without scrolling (printing, full-page captures).
    expect(await page.getByTestId("outcome-chart").locator("svg").count()).toBeGreaterThan(0);
    expect(await page.getByTestId("layer-chart").locator("svg").count()).toBeGreaterThan(0);
  });

  it("exports the intervals, p-values and both sparsity definitions to CSV", async () => {
    const bar = page.getByRole("group", { name: "Export results" });
    const table = csvRows(await downloaded(page, () => bar.getByRole("button", { name: "CSV" }).first().click()));
    expect(table).toHaveLength(2);
    for (const row of table) {
      for (const col of ["verifiedAccuracyLo", "verifiedAccuracyHi", "standardAccuracyLo", "remainingOfPrunedLayers", "remainingOfAllWeights"]) expect(row[col], col).toMatch(/^-?\d/);
      expect(Number(row.verifiedAccuracyLo)).toBeLessThanOrEqual(Number(row.verifiedAccuracy));
      expect(Number(row.verifiedAccuracyHi)).toBeGreaterThanOrEqual(Number(row.verifiedAccuracy));
      expect(row.verifiedAccuracyCiKind).toMatch(/^(t|wilson)$/); // the wider of the two over 2 seeds
    }
    const rounds = csvRows(await downloaded(page, () => bar.getByRole("button", { name: "CSV" }).nth(1).click()));
    expect(rounds.length).toBe(6); // rounds 0..2 of each method
    for (const row of rounds) expect(Number(row.remainingOfAllWeights)).toBeGreaterThanOrEqual(Number(row.remainingOfPrunedLayers) - 1e-9);
    const paired = csvRows(await downloaded(page, () => page.getByTestId("paired-csv").click()));
    expect(paired).toHaveLength(3);
    for (const row of paired) {
      expect(Number(row.mcnemarP)).toBeGreaterThanOrEqual(0);
      expect(row.significant).toBe(Number(row.mcnemarP) >= 0.05 ? "not significant" : "significant");
      expect(row.signTestP).toMatch(/^\d/);
    }
    expect(paired.some((r) => r.significant === "not significant")).toBe(true);
  });

  it("chooses runs on the compare page itself, the URL keeping the choice", async () => {
    const ids = new URL(compareUrl).searchParams.get("runs")!.split(",");
    const picker = page.getByTestId("run-picker");
    await picker.locator("summary").click();
    await picker.getByRole("checkbox").first().waitFor();
    expect(await picker.getByRole("checkbox").count()).toBe(4);
    await picker.getByRole("checkbox", { name: new RegExp(ids[3]) }).uncheck();
    await page.getByTestId("run-picker-apply").click();
    await page.waitForURL((url) => (url.searchParams.get("runs") ?? "").split(",").length === 3);
    await page.getByTestId("compare-summary").waitFor();
    expect(await page.getByTestId("compare-summary").textContent()).toMatch(/^3 runs in 2 series/);
    expect(page.url()).toContain("x=all"); // the view's settings stay
  });

  it("labels the run page's bounds, intervals and stability counts", async () => {
    const id = new URL(compareUrl).searchParams.get("runs")!.split(",")[0];
    await page.goto(`${app.dashboard.url}/runs/${id}`);
    await page.getByTestId("results-table").waitFor();
    expect(await page.getByTestId("results-table").locator("thead").textContent()).toMatch(/remaining of pruned layers.*remaining of all weights.*95% CI/);
    expect(await page.getByTestId("results-table").locator('td[data-col="verifiedCi"]').first().textContent()).toMatch(/^\[\d+\.\d, \d+\.\d\]$/);
    expect(await page.getByTestId("best-round-note").textContent()).toMatch(/the engine's best round/);
    await page.getByTestId("sample-grid").locator("button").first().hover();
    expect(await page.getByTestId("sample-detail").textContent()).toMatch(/^Sample 0, round \d+: (verified|falsified|unknown|misclassified) by /);
    const titles = await page.getByTestId("sample-grid").locator("button").evaluateAll((bs) => bs.map((b) => b.getAttribute("title") ?? ""));
    expect(titles.some((t) => t.includes("root bound (before branching)"))).toBe(true);
    expect(await page.getByTestId("stability-table").locator("thead").textContent()).toContain("neuron × sample pairs");
    expect(await page.getByTestId("pairs-note").textContent()).toContain("neuron × sample pairs");
    expect(await page.getByTestId("per-sample-stats").getAttribute("data-recorded")).toBe("yes");
    expect(await attr(page, "per-neuron-chart", "data-recorded")).toBe("yes");
    await shot(page, "run");
  });
});
