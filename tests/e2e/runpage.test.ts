/**
 * The run page, as a researcher uses it: a real pruning run with verification (two IMP
 * rounds after the dense one, CROWN on 16 samples, ~30 s on a laptop CPU) watched live
 * through a reload; then every number on the page checked against the downloads (CSV,
 * JSON), the charts exported, a round's VNN-COMP bundle unzipped, and a run cancelled.
 */
import { spawnSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import type { Download, Locator, Page } from "playwright-core";
import { describe, expect, it } from "vitest";
import type { RunConfigInput } from "@/lib/protocol";
import { screenshotPath, sessionCookie, signIn, waitFor } from "../harness";
import { useDashboard } from "./session";

const SAMPLES = 16;
const PRUNING_ROUNDS = 2;
const CONFIG: RunConfigInput = {
  data: { dataset: "synthetic" },
  model: { arch: "mlp", widths: [64, 32] },
  training: { regime: "ibp", epochs: 2, eps: 0.02, epsStart: 1, epsLength: 1 },
  pruning: { method: "imp", rounds: PRUNING_ROUNDS, scope: "conv-linear", rate: 0.5 },
  verification: { mode: "crown", eps: 0.02, samples: SAMPLES, timeout: 2, pgdSteps: 10, pgdRestarts: 2, attackSamples: 100 },
};
const ROUNDS = PRUNING_ROUNDS + 1;
const STATUS_COLORS: Record<string, string> = {
  verified: "rgb(46, 158, 91)",
  falsified: "rgb(210, 69, 59)",
  unknown: "rgb(227, 162, 26)",
  misclassified: "rgb(138, 148, 163)",
};

const app = useDashboard();

let cookie: string;

async function launch(config: RunConfigInput, label: string): Promise<string> {
  const res = await fetch(`${app.dashboard.url}/api/trpc/runs.create`, {
    method: "POST",
    headers: { "content-type": "application/json", cookie },
    body: JSON.stringify({ config, label }),
  });
  const body = await res.json();
  if (!res.ok) throw new Error(`runs.create failed: ${JSON.stringify(body)}`);
  return body.result.data.id;
}

const attr = async (page: Page, testId: string, name: string) => (await page.getByTestId(testId).first().getAttribute(name)) ?? "";
const certifiedPoints = async (page: Page) => ((await page.getByTestId("certified-chart").count()) ? Number(await attr(page, "certified-chart", "data-points")) : 0);
const statusOf = (page: Page) => page.getByTestId("run-status").first().textContent();

async function download(page: Page, button: Locator): Promise<{ file: Download; text: string; bytes: Buffer }> {
  const [file] = await Promise.all([page.waitForEvent("download"), button.click()]);
  const bytes = readFileSync((await file.path())!);
  return { file, text: bytes.toString("utf8"), bytes };
}

function parseCsv(text: string): Record<string, string>[] {
  const [header, ...lines] = text.trim().split("\n").map((l) => l.split(","));
  return lines.map((cells) => Object.fromEntries(header.map((h, i) => [h, cells[i]])));
}

// How the page writes numbers (lib/run/): the CSV's raw values must read the same.
const pct = (v: string) => (v === "" ? "–" : `${(Number(v) * 100).toFixed(1)}%`);
const secs = (v: string) => (v === "" ? "–" : `${Number(v).toFixed(2)} s`);

describe("the run page of a pruning run with verification", () => {
  let runId = "";
  let page: Page;

  it("shows the run live, through a reload, until it finishes", async () => {
    page = await app.browser.newPage({ viewport: { width: 1440, height: 900 }, acceptDownloads: true });
    // Every value the certified chart's point count takes, recorded in the page at each
    // DOM change, so a step is seen even while the test reloads or takes a screenshot.
    await page.addInitScript(() => {
      const seen: number[] = [];
      (window as unknown as { __certifiedSeen: number[] }).__certifiedSeen = seen;
      const record = () => {
        const chart = document.querySelector('[data-testid="certified-chart"]');
        const points = chart ? Number(chart.getAttribute("data-points") ?? 0) : 0;
        if (seen.at(-1) !== points) seen.push(points);
      };
      new MutationObserver(record).observe(document, { subtree: true, childList: true, attributes: true, attributeFilter: ["data-points", "data-testid"] });
    });
    const recorded = () => page.evaluate(() => (window as unknown as { __certifiedSeen: number[] }).__certifiedSeen.slice());
    await signIn(page, app.dashboard);
    cookie = await sessionCookie(app.dashboard);
    runId = await launch(CONFIG, "run page journey");
    await page.goto(`${app.dashboard.url}/runs/${runId}`);

    // Before round 0 has finished, the curves say what they wait for.
    await waitFor("the page", async () => (await page.getByTestId("run-page").count()) > 0);
    let sawEta = false;
    const watch = async () => {
      sawEta ||= (await page.getByTestId("eta").count()) > 0;
      return certifiedPoints(page);
    };
    if ((await certifiedPoints(page)) === 0) {
      expect(await page.getByTestId("certified-chart").textContent()).toContain("Waiting for round 0");
      await page.screenshot({ path: screenshotPath("runpage-starting"), fullPage: true });
    }
    await waitFor("round 0 on the certified-accuracy chart", async () => (await watch()) >= 1, 180_000);
    expect(await statusOf(page)).toBe("running"); // the reload below happens mid-run
    expect(await page.getByTestId("progress-where").textContent()).toMatch(new RegExp(`^round \\d of ${PRUNING_ROUNDS}$`));

    const beforeReload = await recorded();
    await page.reload();
    await waitFor("the chart after the reload", async () => (await certifiedPoints(page)) >= beforeReload.at(-1)!);
    if ((await statusOf(page)) === "running") await page.screenshot({ path: screenshotPath("runpage-live"), fullPage: true });
    await waitFor("the run to finish", async () => {
      await watch();
      return (await statusOf(page)) === "finished";
    }, 240_000);
    await waitFor("the last point", async () => (await watch()) === ROUNDS);
    const afterReload = await recorded();
    // Live, one point per finished round: never two at once, never one taken away. The
    // reloaded page first replays the stream; it is live once it is back where it was.
    const steps = (values: number[]) => values.slice(1).map((v, i) => v - values[i]);
    const live = (values: number[], from: number) => values.slice(Math.max(0, values.findIndex((v) => v >= from)));
    expect(beforeReload.filter((p) => p > 0).length).toBeGreaterThan(0);
    expect(steps(live(beforeReload, 1)).every((d) => d === 1)).toBe(true);
    expect(steps(live(afterReload, beforeReload.at(-1)!)).every((d) => d === 1)).toBe(true);
    expect(afterReload.at(-1)).toBe(ROUNDS);
    expect(sawEta).toBe(true);
    expect(await page.getByRole("progressbar", { name: "run progress" }).getAttribute("aria-valuenow")).toBe("100");
    expect(await page.getByRole("button", { name: "Cancel run" }).count()).toBe(0); // finished: nothing to cancel
    expect(Number(await attr(page, "instability-chart", "data-points"))).toBe(ROUNDS);
    expect(Number(await attr(page, "training-chart", "data-points"))).toBe(ROUNDS * 2);
    // A set value where the default is left to the engine (eps: by dataset) says so.
    const settings = page.getByTestId("settings-panel");
    expect(await settings.textContent()).not.toMatch(/default default/);
    expect(await settings.locator("tr[data-differs]").allTextContents()).toContainEqual(expect.stringMatching(/^eps0\.02default: engine's$/));
  });

  it("shows in its table exactly the per-round numbers of the CSV and JSON downloads", async () => {
    const csv = parseCsv((await download(page, page.getByRole("button", { name: "Rounds CSV" }))).text);
    const json = JSON.parse((await download(page, page.getByRole("button", { name: "Results JSON" }))).text);
    expect(csv).toHaveLength(ROUNDS);
    expect(json.rounds).toHaveLength(ROUNDS);
    for (const row of csv) {
      const tr = page.getByTestId("results-table").locator(`tr[data-round="${row.round}"]`);
      const cell = (col: string) => tr.locator(`td[data-col="${col}"]`).textContent();
      expect(await cell("remainingRatio")).toBe(`${(Number(row.remainingRatio) * 100).toPrecision(3)}%`);
      for (const col of ["standardAccuracy", "adversarialAccuracy", "verifiedAccuracy", "unstableRatio"]) expect(await cell(col)).toBe(pct(row[col]));
      for (const col of ["verified", "falsified", "unknown", "misclassified"]) expect(await cell(col)).toBe(row[col]);
      expect(await cell("meanVerifySeconds")).toBe(secs(row.meanVerifySeconds));
      expect(await cell("instability")).toBe(Number(row.instability).toFixed(3));
      expect(Number(row.samples)).toBe(SAMPLES);
      const fromJson = json.rounds.find((r: { round: number }) => r.round === Number(row.round));
      expect(fromJson.verifiedAccuracy).toBe(Number(row.verifiedAccuracy));
      expect(fromJson.verified + fromJson.falsified + fromJson.unknown + fromJson.misclassified).toBe(SAMPLES);
    }
    // Pruning removed weights round by round.
    expect(csv.map((r) => Number(r.remainingRatio))).toEqual([...csv.map((r) => Number(r.remainingRatio))].sort((a, b) => b - a));
    expect(json.samples).toHaveLength(ROUNDS * SAMPLES);
  });

  it("has one coloured cell per sample, with its time, matching the counts and the samples CSV", async () => {
    const samples = parseCsv((await download(page, page.getByRole("button", { name: "Samples CSV" }))).text);
    expect(samples).toHaveLength(ROUNDS * SAMPLES);
    const outcomes = new Set<string>();
    for (let round = 0; round < ROUNDS; round++) {
      await page.getByTestId("samples-round").selectOption(String(round));
      await waitFor(`the samples of round ${round}`, async () => (await attr(page, "sample-grid-section", "data-round")) === String(round));
      const grid = page.getByTestId("sample-grid");
      expect(Number(await grid.getAttribute("data-cells"))).toBe(SAMPLES);
      const cells = await grid.locator("button").evaluateAll((buttons) =>
        buttons.map((b) => ({ status: b.getAttribute("data-status"), title: b.getAttribute("title") ?? "", color: getComputedStyle(b).backgroundColor, index: Number(b.getAttribute("data-index")) })));
      expect(cells).toHaveLength(SAMPLES);
      const tr = page.getByTestId("results-table").locator(`tr[data-round="${round}"]`);
      for (const status of Object.keys(STATUS_COLORS)) {
        const count = cells.filter((c) => c.status === status).length;
        expect(String(count)).toBe(await tr.locator(`td[data-col="${status}"]`).textContent());
        expect(await page.getByTestId(`sample-count-${status}`).textContent()).toBe(String(count));
      }
      for (const cell of cells) {
        outcomes.add(cell.status!);
        expect(cell.color).toBe(STATUS_COLORS[cell.status!]);
        const row = samples.find((s) => Number(s.round) === round && Number(s.index) === cell.index)!;
        expect(row.status).toBe(cell.status);
        expect(cell.title).toContain(`${cell.status} by ${row.decidedBy} in ${Number(row.seconds).toFixed(2)} s`);
      }
    }
    expect(outcomes.size).toBeGreaterThanOrEqual(2); // the grid tells outcomes apart

    // Keyboard: Tab reaches the grid, the arrows move, the details follow the focus.
    const first = page.getByTestId("sample-grid").locator("button").first();
    await first.focus();
    await page.keyboard.press("ArrowRight");
    expect(await page.evaluate(() => document.activeElement?.getAttribute("data-index"))).toBe("1");
    expect(await page.getByTestId("sample-detail").textContent()).toMatch(/^Sample 1, round \d: /);
    await page.keyboard.press("End");
    expect(await page.evaluate(() => document.activeElement?.getAttribute("data-index"))).toBe(String(SAMPLES - 1));
  });

  it("switches the stability charts and histograms with the round selector", async () => {
    const json = JSON.parse((await download(page, page.getByRole("button", { name: "Results JSON" }))).text);
    const shown: string[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      await page.getByTestId("stability-round").selectOption(String(round));
      await waitFor(`the stability of round ${round}`, async () => (await attr(page, "stability-section", "data-round")) === String(round));
      expect(await attr(page, "histogram-chart", "data-round")).toBe(String(round));
      const layers = json.rounds[round].stability as { name: string; neurons: number; ibp: { unstable: number }; crown: { unstable: number } | null }[];
      const unstable = await page.getByTestId("unstable-count").allTextContents();
      expect(unstable).toEqual(layers.map((l) => (l.crown ? `${l.ibp.unstable} / ${l.crown.unstable}` : String(l.ibp.unstable))));
      // The histograms are the chosen layer's: l and u over every neuron, -l*u over the unstable ones.
      const layerName = await attr(page, "histogram-chart", "data-layer");
      const layer = layers.find((l) => l.name === layerName)!;
      expect(Number(await attr(page, "histogram-lower", "data-total"))).toBe(layer.neurons);
      expect(Number(await attr(page, "histogram-instability", "data-total"))).toBe(layer.ibp.unstable);
      expect(await page.getByTestId("histogram-lower").locator(".recharts-bar-rectangle").count()).toBeGreaterThan(0);
      shown.push(unstable.join("|"));
    }
    const last = json.rounds[ROUNDS - 1].stability;
    await page.getByTestId("stability-layer").selectOption(last[last.length - 1].name);
    await waitFor("the last layer's histograms", async () => (await attr(page, "histogram-chart", "data-layer")) === last[last.length - 1].name);
    expect(Number(await attr(page, "histogram-instability", "data-total"))).toBe(last[last.length - 1].ibp.unstable);
  });

  it("exports charts as SVG and PNG with their title, axes and legend", async () => {
    const chart = page.getByTestId("certified-chart");
    const svg = (await download(page, chart.getByRole("button", { name: /as SVG/ }))).text;
    expect(svg).toMatch(/^<svg xmlns="http:\/\/www.w3.org\/2000\/svg"/);
    for (const text of ["Certified accuracy vs remaining weights", "remaining weights (log scale", "accuracy (%)", "verified (certified) accuracy", "standard accuracy"]) {
      expect(svg).toContain(text);
    }
    const png = (await download(page, chart.getByRole("button", { name: /as PNG/ }))).bytes;
    writeFileSync(screenshotPath("runpage-export-certified"), png); // to look at
    expect(png.subarray(1, 4).toString("ascii")).toBe("PNG");
    expect(png.readUInt32BE(16)).toBeGreaterThan(600); // IHDR width, drawn at twice the size
    const histogramSvg = (await download(page, page.getByTestId("histogram-chart").getByRole("button", { name: /as SVG/ }))).text;
    expect((histogramSvg.match(/<svg/g) ?? []).length).toBe(4); // the document and its three histograms
    const histogramPng = (await download(page, page.getByTestId("histogram-chart").getByRole("button", { name: /as PNG/ }))).bytes;
    writeFileSync(screenshotPath("runpage-export-histograms"), histogramPng);
  });

  it("downloads a round as an ONNX + VNNLIB bundle, and refuses bad requests clearly", async () => {
    await page.getByTestId("bundle-round").selectOption("1");
    const { file, bytes } = await download(page, page.getByRole("button", { name: "Download bundle (.zip)" }));
    expect(file.suggestedFilename()).toBe(`${runId}-round1-vnncomp.zip`);
    const listing = spawnSync("python3", ["-c", [
      "import sys, zipfile",
      "z = zipfile.ZipFile(sys.argv[1])",
      "assert z.testzip() is None, 'bad CRC'",
      "print('\\n'.join(z.namelist()))",
      "print('INSTANCES', len([l for l in z.read([n for n in z.namelist() if n.endswith('instances.csv')][0]).decode().splitlines() if l.strip()]))",
    ].join("\n"), (await file.path())!], { encoding: "utf8" });
    expect(listing.status, listing.stderr).toBe(0);
    const names = listing.stdout.trim().split("\n");
    expect(names.some((n) => n.endsWith("/model.onnx"))).toBe(true);
    expect(names.filter((n) => n.endsWith(".vnnlib"))).toHaveLength(SAMPLES);
    expect(names.at(-1)).toBe(`INSTANCES ${SAMPLES}`);
    expect(bytes.length).toBeGreaterThan(1000);

    const get = (query: string, withCookie = true) => fetch(`${app.dashboard.url}/runs/${runId}/bundle${query}`, { headers: withCookie ? { cookie } : {} });
    const missing = await get("?round=9");
    expect(missing.status).toBe(404);
    expect(await missing.text()).toMatch(/round 9 .* has no trained network/);
    const bad = await get("?round=one");
    expect(bad.status).toBe(400);
    expect(await bad.text()).toMatch(/round must be a whole number/);
    expect((await get("?round=0", false)).status).toBe(401);
    const noRun = await fetch(`${app.dashboard.url}/runs/run_0000000000000000/bundle?round=0`, { headers: { cookie } });
    expect(noRun.status).toBe(404);
  });

  it("looks right on a laptop and on a wide screen", async () => {
    await page.setViewportSize({ width: 1366, height: 850 });
    await page.waitForTimeout(300); // charts re-measure their containers
    await page.screenshot({ path: screenshotPath("runpage-laptop"), fullPage: true });
    await page.setViewportSize({ width: 1920, height: 1080 });
    await page.waitForTimeout(300); // charts re-measure their containers
    await page.screenshot({ path: screenshotPath("runpage-wide"), fullPage: true });
    // Nothing sticks out sideways.
    expect(await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth)).toBe(true);
    await page.close();
  });

  it("cancels a running run after asking, and keeps what it had", async () => {
    const long = await launch({
      data: { dataset: "synthetic" }, model: { arch: "mlp", widths: [32] },
      training: { regime: "natural", epochs: 300, epsStart: 1, epsLength: 0 },
      pruning: { method: "none", rounds: 0 }, verification: { mode: "none", samples: 0 },
    }, "to be cancelled");
    const p = await app.browser.newPage({ viewport: { width: 1280, height: 800 } });
    await signIn(p, app.dashboard);
    await p.goto(`${app.dashboard.url}/runs/${long}`);
    await waitFor("the first epoch", async () => Number((await p.getByTestId("training-chart").getAttribute("data-points").catch(() => "0")) ?? 0) >= 1, 120_000);
    await p.getByRole("button", { name: "Cancel run" }).click();
    await p.getByRole("button", { name: "Keep running" }).click(); // changed their mind
    expect(await statusOf(p)).toBe("running");
    await p.getByRole("button", { name: "Cancel run" }).click();
    await p.getByRole("button", { name: "Yes, cancel the run" }).click();
    await waitFor("the cancelled status", async () => (await statusOf(p)) === "cancelled", 60_000);
    expect(await p.getByRole("status").filter({ hasText: "Cancelled" }).count()).toBe(1);
    expect(Number(await p.getByTestId("training-chart").getAttribute("data-points"))).toBeGreaterThanOrEqual(1);
    expect(await p.getByRole("button", { name: "Cancel run" }).count()).toBe(0);
    await p.close();
  });

  it("says why a run failed, with the engine's details, and keeps its finished rounds", async () => {
    // The engine refuses to prune an MLP with scope 'conv' when round 1 starts: a real failure after a finished round.
    const failing = await launch({
      data: { dataset: "synthetic" }, model: { arch: "mlp", widths: [16] },
      training: { regime: "natural", epochs: 1, epsStart: 1, epsLength: 0 },
      pruning: { method: "imp", rounds: 1, scope: "conv" }, verification: { mode: "none", samples: 0 },
    }, "fails at round 1");
    const p = await app.browser.newPage({ viewport: { width: 1280, height: 800 } });
    await signIn(p, app.dashboard);
    await p.goto(`${app.dashboard.url}/runs/${failing}`);
    await waitFor("the failed status", async () => (await statusOf(p)) === "failed", 120_000);
    const notice = p.getByTestId("run-failure");
    await waitFor("the failure notice", async () => (await notice.count()) > 0);
    expect(await notice.textContent()).toMatch(/Failed .*round 1: prune.*scope 'conv'/);
    await notice.getByText("Details from the engine").click();
    expect(await notice.locator("pre").textContent()).toMatch(/Traceback|Error/);
    expect(await p.getByTestId("results-table").locator("tbody tr").count()).toBe(1); // round 0 stays
    expect(await p.getByTestId("engine-log").textContent()).toContain("scope 'conv'");
    await p.screenshot({ path: screenshotPath("runpage-failed"), fullPage: true });
    await p.close();
  });
});
