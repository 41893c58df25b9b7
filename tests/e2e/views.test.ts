/**
 * The views, as a researcher and a reviewer meet them: launch a quick sweep (IMP against
 * Random) from the form, watch it through a reload, compare the two methods, export the
 * results and charts, share the view, open the link in a fresh browser without signing
 * in, revoke it and see it refused; and the runs overview's search, sort, grouping,
 * selection and CSV export. Real engine, real SQLite, Debian's chromium; a screenshot of
 * every page lands in test-results/screenshots/views-*.png.
 */
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import type { BrowserContext, Download, Page } from "playwright-core";
import { beforeAll, describe, expect, it } from "vitest";
import { screenshotPath, sessionCookie, signIn, waitFor } from "../harness";
import { useDashboard } from "./session";

const app = useDashboard();

let owner: BrowserContext;
let page: Page;
let compareUrl = "";
let shareUrl = "";

const LAPTOP = { width: 1280, height: 800 };
const WIDE = { width: 1920, height: 1080 };

beforeAll(async () => {
  owner = await app.browser.newContext({ viewport: LAPTOP, acceptDownloads: true });
  page = await owner.newPage();
  await signIn(page, app.dashboard);
});

/** A full-page screenshot, after scrolling through so that charts drawn on demand are drawn. */
async function shot(p: Page, name: string) {
  await p.evaluate("window.scrollTo(0, document.body.scrollHeight)");
  await p.waitForTimeout(400);
  await p.evaluate("window.scrollTo(0, 0)");
  await p.screenshot({ path: screenshotPath(`views-${name}`), fullPage: true });
}
const attr = async (p: Page, testId: string, name: string) => (await p.getByTestId(testId).getAttribute(name)) ?? "";

async function downloaded(p: Page, click: () => Promise<void>): Promise<{ name: string; bytes: Buffer }> {
  const [download] = (await Promise.all([p.waitForEvent("download"), click()])) as [Download, void];
  return { name: download.suggestedFilename(), bytes: readFileSync((await download.path())!) };
}

describe("views", () => {
  it("launches a quick sweep of two methods from the form, with an estimate, and follows it through a reload", async () => {
    await page.goto(`${app.dashboard.url}/runs/new`);
    await page.getByRole("button", { name: "Quick sweep (synthetic)" }).click();
    expect(await page.getByRole("checkbox", { name: "IMP", exact: true }).isChecked()).toBe(true);
    expect(await page.getByRole("checkbox", { name: "Random", exact: true }).isChecked()).toBe(true);
    expect(Number(await attr(page, "estimate", "data-seconds"))).toBeGreaterThan(0);
    expect(await page.getByTestId("estimate-total").textContent()).toMatch(/≈ \d/);
    // More epochs, a longer estimate: it follows the form.
    const before = Number(await attr(page, "estimate", "data-seconds"));
    await page.getByLabel("Epochs per round").fill("20");
    await expect.poll(async () => Number(await attr(page, "estimate", "data-seconds"))).toBeGreaterThan(before);
    await page.getByLabel("Epochs per round").fill("3");
    await shot(page, "launch");

    await page.getByRole("button", { name: "Launch sweep (2 runs)" }).click();
    await page.waitForURL(/\/compare\?runs=run_[0-9a-f]{16},run_[0-9a-f]{16}$/);
    compareUrl = page.url();
    await page.getByTestId("compare-summary").waitFor();
    await shot(page, "compare-running");
    await page.reload();
    await page.getByTestId("compare-summary").waitFor();
    expect(await page.getByTestId("compare-summary").textContent()).toMatch(/^2 runs in 2 series · synthetic · natural/);

    await waitFor("both runs to finish", async () => {
      const statuses = await page.getByTestId("run-status").allTextContents();
      if (statuses.some((s) => s === "failed")) throw new Error(`a run failed: ${statuses}`);
      return statuses.length === 2 && statuses.every((s) => s === "finished");
    }, 540_000);
  }, 600_000);

  it("compares the two methods: curves, Table I, outcomes, settings that differ, exports", async () => {
    await page.goto(compareUrl);
    const chart = page.getByTestId("accuracy-chart");
    await chart.locator(".recharts-line-curve").first().waitFor({ state: "attached" });
    expect((await attr(page, "accuracy-chart", "data-series")).split("|")).toEqual(["Random", "IMP"]);
    expect(await attr(page, "accuracy-chart", "data-points")).toBe("6"); // rounds 0..2 of each
    expect(await chart.locator(".recharts-line-curve").count()).toBe(2);
    expect(await page.getByTestId("table-one").locator("tbody tr").count()).toBe(2);
    // Both tables fit a 1280 px laptop screen: the verified column is never scrolled out of view.
    for (const id of ["table-one", "paired-table"]) {
      await page.getByTestId(id).waitFor();
      const overflow = await page.getByTestId(id).evaluate((t) => t.parentElement!.scrollWidth - t.parentElement!.clientWidth);
      expect(overflow, `${id} is wider than its card by ${overflow} px`).toBeLessThanOrEqual(0);
    }
    expect(await attr(page, "outcome-chart", "data-bars")).toBe("6");
    // Charts below the first screen draw when scrolled near.
    await page.getByTestId("outcome-chart").scrollIntoViewIfNeeded();
    await page.getByTestId("outcome-chart").locator("svg.chart-svg").nth(1).waitFor();
    expect(await page.getByTestId("outcome-chart").locator("svg.chart-svg").count()).toBe(2);
    expect(await page.getByTestId("outcome-chart").locator(".outcome-bar").count()).toBe(6);
    const layerPoints = Number(await attr(page, "layer-chart", "data-points"));
    expect(layerPoints).toBe(6);
    // Settings: by default only what differs (the method), all of them on request.
    const diff = page.getByTestId("settings-diff");
    expect(await diff.locator("tbody tr").allTextContents()).toEqual(expect.arrayContaining([expect.stringMatching(/^pruning\.methodrandomimp$/)]));
    const differing = Number(await attr(page, "settings-diff", "data-rows"));
    await diff.getByLabel("Show only differing settings").uncheck();
    expect(Number(await attr(page, "settings-diff", "data-rows"))).toBeGreaterThan(differing + 20);
    expect(page.url()).toContain("all=1");
    await diff.getByLabel("Show only differing settings").check();
    await shot(page, "compare");

    // Exports: Table I and per-round results as CSV / JSON, a chart as SVG and PNG.
    const table = await downloaded(page, () => page.getByRole("group", { name: "Export results" }).getByRole("button", { name: "CSV" }).first().click());
    const lines = table.bytes.toString("utf8").trim().split("\r\n");
    expect(lines[0]).toMatch(/^series,seeds,bestRound,remainingRatio,standardAccuracy/);
    expect(lines.slice(1).map((l) => l.split(",")[0]).sort()).toEqual(["IMP", "Random"]);
    const rounds = await downloaded(page, () => page.getByRole("group", { name: "Export results" }).getByRole("button", { name: "JSON" }).nth(1).click());
    const json = JSON.parse(rounds.bytes.toString("utf8"));
    expect(json.runs).toHaveLength(2);
    expect(json.series).toHaveLength(6);
    const svg = await downloaded(page, () => chart.getByRole("button", { name: /as SVG/ }).click());
    expect(svg.name).toMatch(/\.svg$/);
    const svgText = svg.bytes.toString("utf8");
    expect(svgText).toMatch(/^<svg xmlns="http:\/\/www.w3.org\/2000\/svg"/);
    expect(svgText).toContain("Verified accuracy vs remaining weights");
    expect(svgText).toContain(">IMP<");
    const png = await downloaded(page, () => page.getByTestId("outcome-chart").getByRole("button", { name: /as PNG/ }).click());
    expect(png.bytes.subarray(0, 8).toString("hex")).toBe("89504e470d0a1a0a");
    expect(png.bytes.length).toBeGreaterThan(2000);

    // The view's state lives in the URL: metric, hidden methods. Reachable by keyboard.
    await page.getByLabel("Metric").selectOption("standard");
    await expect.poll(() => attr(page, "accuracy-chart", "data-metric")).toBe("standard");
    const legendButton = chart.getByRole("button", { name: "Random" });
    await legendButton.focus();
    await page.keyboard.press("Space");
    expect(await legendButton.getAttribute("aria-pressed")).toBe("false");
    expect(await attr(page, "accuracy-chart", "data-series")).toBe("IMP");
    expect(page.url()).toMatch(/metric=standard/);
    expect(decodeURIComponent(page.url())).toMatch(/hide=Random/);
    await page.setViewportSize(WIDE);
    await shot(page, "compare-wide");
    await page.setViewportSize(LAPTOP);
  }, 180_000);

  it("shares the view; a fresh browser without credentials sees the same charts and nothing to act on", async () => {
    await page.getByRole("button", { name: "Share this view" }).click();
    shareUrl = await page.getByTestId("share-url").inputValue();
    expect(shareUrl).toMatch(new RegExp(`^${app.dashboard.url}/share/[A-Za-z0-9_-]{43}$`));
    await shot(page, "share-created");
    const ownerSeries = await attr(page, "accuracy-chart", "data-series");
    const ownerPoints = await attr(page, "accuracy-chart", "data-points");

    const visitorContext = await app.browser.newContext({ viewport: LAPTOP });
    const visitor = await visitorContext.newPage();
    await visitor.goto(shareUrl);
    await visitor.getByTestId("shared-comparison").waitFor();
    await visitor.getByTestId("accuracy-chart").locator(".recharts-line-curve").first().waitFor({ state: "attached" });
    expect(await attr(visitor, "accuracy-chart", "data-series")).toBe(ownerSeries); // Random hidden, as shared
    expect(await attr(visitor, "accuracy-chart", "data-points")).toBe(ownerPoints);
    expect(await attr(visitor, "accuracy-chart", "data-metric")).toBe("standard");
    expect(await visitor.getByTestId("table-one").locator("tbody tr").count()).toBe(1);
    for (const name of [/launch/i, /cancel/i, /delete/i, /share/i, /revoke/i]) {
      expect(await visitor.getByRole("button", { name }).count()).toBe(0);
      expect(await visitor.getByRole("link", { name }).count()).toBe(0);
    }
    expect(await visitor.getByLabel("Metric").isDisabled()).toBe(true);
    await shot(visitor, "share-comparison");

    // A run can be shared too (here through the API, as the run page's button does).
    const cookie = await sessionCookie(app.dashboard);
    const runId = new URL(compareUrl).searchParams.get("runs")!.split(",")[0];
    const res = await fetch(`${app.dashboard.url}/api/trpc/shares.create`, {
      method: "POST",
      headers: { "content-type": "application/json", cookie },
      body: JSON.stringify({ kind: "run", runId }),
    });
    expect(res.status).toBe(200);
    const runShare = (await res.json()).result.data;
    await visitor.goto(`${app.dashboard.url}${runShare.path}`);
    await visitor.getByTestId("shared-run").waitFor();
    await expect.poll(() => visitor.getByTestId("run-status").first().textContent(), { timeout: 30_000 }).toBe("finished");
    expect(await visitor.getByRole("button", { name: /cancel/i }).count()).toBe(0);
    await shot(visitor, "share-run");

    // Forged and guessed tokens open nothing.
    const forged = await visitor.goto(`${app.dashboard.url}/share/${randomBytes(32).toString("base64url")}`);
    expect(forged!.status()).toBe(404);
    await visitor.getByTestId("share-refused").waitFor();
    expect(await visitor.getByTestId("share-refused").textContent()).toMatch(/not valid/);
    await visitorContext.close();
  }, 180_000);

  it("revokes the link from the list of links; the link is then refused", async () => {
    await page.goto(`${app.dashboard.url}/shares`);
    const list = page.getByTestId("share-list");
    await list.waitFor();
    expect(await list.locator("tbody tr").count()).toBe(2);
    await shot(page, "shares");
    const row = list.locator("tbody tr", { hasText: "comparison of 2 runs" });
    await row.getByRole("button", { name: /Revoke/ }).click();
    await expect.poll(() => row.locator(".badge").textContent()).toMatch(/revoked/);

    const visitorContext = await app.browser.newContext({ viewport: LAPTOP });
    const visitor = await visitorContext.newPage();
    expect((await visitor.goto(shareUrl))!.status()).toBe(403);
    await visitor.getByTestId("share-refused").waitFor();
    expect(await visitor.getByTestId("share-refused").textContent()).toMatch(/revoked/);
    expect(await visitor.getByTestId("accuracy-chart").count()).toBe(0);
    await shot(visitor, "share-revoked");
    const token = shareUrl.split("/").pop()!;
    const api = await fetch(`${app.dashboard.url}/api/trpc/shares.view?input=${encodeURIComponent(JSON.stringify({ token }))}`);
    expect(api.status).toBe(403);
    await visitorContext.close();
  }, 120_000);

  it("lists the runs with search, sort, grouping by sweep, selection to compare and CSV export", async () => {
    await page.goto(app.dashboard.url);
    const table = page.getByTestId("runs-table");
    await table.locator("tr.group-row").first().waitFor();
    expect(await table.locator("tr.group-row").count()).toBe(1); // the sweep
    expect(await table.locator("tr.run-row").count()).toBe(2);
    expect(await table.locator("tr.group-row").textContent()).toMatch(/Sweep .*2 runs.*2 finished/);
    await shot(page, "overview");
    await page.setViewportSize(WIDE);
    await shot(page, "overview-wide");
    await page.setViewportSize(LAPTOP);

    await page.getByRole("button", { name: /Collapse Sweep/ }).click();
    expect(await table.locator("tr.run-row").count()).toBe(0);
    await page.getByLabel("Group by").selectOption("method");
    expect(await table.locator("tr.group-row").count()).toBe(2);
    await page.getByLabel("Group by").selectOption("");
    await page.getByLabel("Search runs").fill("random");
    expect(await table.locator("tr.run-row").count()).toBe(1);
    expect(await page.getByTestId("runs-count").textContent()).toBe("1 of 2 runs");
    await page.getByLabel("Search runs").fill("");
    await table.getByRole("button", { name: "Method" }).click(); // ascending: IMP before Random
    expect(await table.locator("tr.run-row td:nth-child(8)").allTextContents()).toEqual(["IMP", "Random"]);
    await table.getByRole("button", { name: /^Method/ }).click();
    expect(await table.locator("tr.run-row td:nth-child(8)").allTextContents()).toEqual(["Random", "IMP"]);

    const csv = await downloaded(page, () => page.getByRole("button", { name: "Export CSV" }).click());
    const rows = csv.bytes.toString("utf8").trim().split("\r\n");
    expect(rows[0]).toMatch(/^id,label,status,progress,sweep,dataset,model,regime,method/);
    expect(rows.slice(1).map((r) => r.split(",")[8])).toEqual(["Random", "IMP"]);

    await page.getByLabel(/^Select all 2 runs shown/).check();
    await page.getByTestId("compare-selected").click();
    await page.waitForURL(/\/compare\?runs=/);
    expect(new URL(page.url()).searchParams.get("runs")!.split(",").sort()).toEqual(new URL(compareUrl).searchParams.get("runs")!.split(",").sort());
    await page.getByTestId("accuracy-chart").waitFor();

    await page.goto(`${app.dashboard.url}/compare`);
    await page.getByTestId("compare-empty").waitFor();
    await shot(page, "compare-empty");
  }, 120_000);
});
