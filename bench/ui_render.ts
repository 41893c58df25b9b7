/**
 * How fast the dashboard draws big views, in Debian's chromium: the compare page with
 * 10 methods x 16 rounds (x 2 seeds, 100 verified samples per round) and the runs
 * overview with 1,000 runs. The data directory is seeded directly through the store
 * classes with synthetic, schema-valid events (tests/fixtures/syntheticRuns.ts).
 *
 *     export CERTPRUNE_NEXT_DIR=.next   # the build to serve (npx next build first)
 *     npx tsx bench/ui_render.ts [--repeat 5]
 *
 * Prints, per view, milliseconds from navigation start until the view is drawn and
 * responds (the server renders the data into the page; the browser hydrates it and draws
 * the charts or table rows), the first (cold) load and the median of the repeats; and client-side
 * redraws (changing the metric, scrolling to the charts drawn on demand, sorting, grouping).
 * Budget: 1,000 ms for each. The compare page is "drawn" when the first screen's chart has
 * all 10 lines, Table I all 10 rows and the outcome bars all 170 bars; the two charts
 * further down draw when scrolled near ("scroll to the end").
 */
import { rmSync } from "node:fs";
import type { Page } from "playwright-core";
import { METHOD_LABELS } from "@/lib/protocol";
import { compareQuery } from "@/lib/viewState";
import { Accounts } from "@/server/auth/accounts";
import { openDatabase } from "@/server/store/db";
import { RunStore } from "@/server/store/runs";
import { seedRun, type SyntheticRunSpec } from "@/tests/fixtures/syntheticRuns";
import { launchBrowser, RESEARCHER, signIn, startDashboard, tempDataDir } from "@/tests/harness";

const repeat = Number(process.argv[process.argv.indexOf("--repeat") + 1]) || 5;
const verbose = process.argv.includes("--verbose");
const step = (what: string) => verbose && console.log(`${new Date().toISOString().slice(11, 19)} ${what}`);
const COMPARE_METHODS = ["Random", "IMP", "SNIP", "Taylor", "HYDRA", "IMP+RS", "IMP+NRS", "HYDRA+NRS", "StructLTH", "Slim"] as const;
const OVERVIEW_RUNS = Number(process.env.BENCH_RUNS ?? 1000);

async function seed(dataDir: string): Promise<string[]> {
  const db = openDatabase(dataDir);
  const store = new RunStore(db);
  await new Accounts(db).add(RESEARCHER.name, RESEARCHER.password);
  const compared: string[] = [];
  db.transaction(() => {
    for (const method of COMPARE_METHODS) {
      for (const seed of [0, 1]) compared.push(seedRun(store, { method, seed, rounds: 16, samples: 100, sampleEvents: true, sweepId: "sweep_00000000000000aa" }));
    }
    const methods = Object.keys(METHOD_LABELS) as SyntheticRunSpec["method"][];
    const datasets = ["fashion-mnist", "cifar10", "svhn"] as const;
    const regimes = ["crown-ibp", "fgsm", "ibp"] as const;
    const statuses = ["finished", "finished", "finished", "running", "failed", "queued"] as const;
    for (let i = compared.length; i < OVERVIEW_RUNS; i++) {
      const status = statuses[i % statuses.length];
      seedRun(store, {
        method: methods[i % methods.length],
        dataset: datasets[Math.floor(i / 12) % 3],
        regime: regimes[Math.floor(i / 36) % 3],
        seed: Math.floor(i / 108),
        rounds: 16,
        samples: 200,
        stopAfter: status === "running" ? 1 + (i % 15) : undefined,
        status,
        sweepId: i % 5 === 0 ? null : `sweep_${(Math.floor(i / 24) + 1).toString(16).padStart(16, "0")}`,
      });
    }
  })();
  db.close();
  return compared;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

const phases: Record<string, { firstByte: number[]; html: number[] }> = {};

/** ms from navigation start until `ready` holds in the page (polled every animation frame). */
async function load(page: Page, url: string, ready: string, name: string): Promise<number> {
  await page.goto(url, { waitUntil: "commit" });
  await page.waitForFunction(ready, undefined, { polling: "raf", timeout: 30_000 });
  const [now, firstByte, html] = (await page.evaluate(
    "(() => { const n = performance.getEntriesByType('navigation')[0]; return [performance.now(), n.responseStart, n.responseEnd]; })()",
  )) as number[];
  (phases[name] ??= { firstByte: [], html: [] }).firstByte.push(firstByte);
  phases[name].html.push(html);
  return now;
}

/** ms from an action in the page until `ready` holds again (a string: tsx would rename a function's helpers). */
async function redraw(page: Page, action: string, ready: string): Promise<number> {
  return page.evaluate(`new Promise((resolve, reject) => {
    const t0 = performance.now();
    ${action};
    const check = () => ((${ready}) ? resolve(performance.now() - t0) : performance.now() - t0 > 30000 ? reject(new Error("not drawn within 30 s")) : requestAnimationFrame(check));
    requestAnimationFrame(check);
  })`) as Promise<number>;
}

async function main() {
  const dataDir = tempDataDir("certprune-bench-ui-");
  const t0 = Date.now();
  const compared = await seed(dataDir);
  console.log(`seeded ${OVERVIEW_RUNS} runs (compare: ${COMPARE_METHODS.length} methods x 2 seeds x 17 rounds) in ${Date.now() - t0} ms`);
  const dashboard = await startDashboard({ dataDir });
  const browser = await launchBrowser();
  try {
    const context = await browser.newContext({ viewport: { width: 1920, height: 1080 } });
    const page = await context.newPage();
    step("signing in");
    await signIn(page, dashboard);

    const compareUrl = `${dashboard.url}/compare?${compareQuery(compared)}`;
    const compareReady = `document.querySelectorAll('[data-testid=accuracy-chart] .recharts-line-curve').length === ${COMPARE_METHODS.length}
      && document.querySelectorAll('[data-testid=outcome-chart] .outcome-bar').length === ${COMPARE_METHODS.length * 17}
      && document.querySelectorAll('[data-testid=table-one] tbody tr').length === ${COMPARE_METHODS.length}`;
    const overviewReady = `document.querySelectorAll('[data-testid=runs-table] tr.run-row, [data-testid=runs-table] tr.group-row').length > 10
      && document.querySelector('[data-testid=runs-count]')?.textContent.includes('${OVERVIEW_RUNS.toLocaleString("en")}')
      && Object.keys(document.querySelector('table.runs th button.sort')).some((k) => k.startsWith('__reactProps'))`; // hydrated: it responds

    const results: Record<string, number[]> = { compare: [], overview: [], "compare: switch metric": [], "compare: scroll to the end": [], "overview: sort by verified": [], "overview: group by method": [] };
    for (let i = 0; i < repeat; i++) {
      step(`round ${i + 1}: compare`);
      results.compare.push(await load(page, compareUrl, compareReady, "compare"));
      results["compare: switch metric"].push(
        await redraw(
          page,
          `const s = document.querySelector('select[aria-label=Metric]'); const set = Object.getOwnPropertyDescriptor(HTMLSelectElement.prototype, 'value').set; set.call(s, s.value === 'standard' ? 'verified' : 'standard'); s.dispatchEvent(new Event('change', { bubbles: true }));`,
          `document.querySelector('[data-testid=accuracy-chart]').dataset.metric === (new URL(location.href).searchParams.get('metric') || 'verified') && document.querySelectorAll('[data-testid=accuracy-chart] .recharts-line-curve').length === ${COMPARE_METHODS.length}`,
        ),
      );
      results["compare: scroll to the end"].push(
        await redraw(
          page,
          `window.scrollTo(0, document.body.scrollHeight)`,
          `document.querySelectorAll('[data-testid=time-chart] .recharts-line-curve').length === ${COMPARE_METHODS.length} && document.querySelectorAll('[data-testid=layer-chart] .recharts-line-curve').length === ${COMPARE_METHODS.length}`,
        ),
      );
      step("overview");
      results.overview.push(await load(page, dashboard.url, overviewReady, "overview"));
      results["overview: sort by verified"].push(
        await redraw(page, `[...document.querySelectorAll('table.runs th button.sort')].find((b) => b.textContent.startsWith('Best verified')).click()`, `document.querySelector('th[aria-sort]')?.textContent.startsWith('Best verified')`),
      );
      results["overview: group by method"].push(
        await redraw(
          page,
          `const s = [...document.querySelectorAll('.toolbar select')].find((x) => x.parentElement.textContent.startsWith('Group by')); const set = Object.getOwnPropertyDescriptor(HTMLSelectElement.prototype, 'value').set; set.call(s, 'method'); s.dispatchEvent(new Event('change', { bubbles: true }));`,
          `document.querySelector('tr.group-row')?.dataset.group?.startsWith('method=')`,
        ),
      );
    }
    const rendered = (await page.evaluate(`document.querySelectorAll("[data-testid=runs-table] tbody tr.run-row, [data-testid=runs-table] tbody tr.group-row").length`)) as number;
    console.log(`overview: ${rendered} of ${OVERVIEW_RUNS}+ rows in the DOM (the rest are virtualised)`);
    console.log(`view                          first ms   median ms (of ${repeat})   budget 1000 ms`);
    for (const [name, xs] of Object.entries(results)) {
      console.log(`${name.padEnd(30)}${xs[0].toFixed(0).padStart(8)}   ${median(xs).toFixed(0).padStart(9)}            ${median(xs) < 1000 ? "ok" : "OVER"}`);
    }
    for (const [name, p] of Object.entries(phases)) {
      console.log(`${name}: median first byte ${median(p.firstByte).toFixed(0)} ms, whole HTML ${median(p.html).toFixed(0)} ms (server), then the browser draws`);
    }
  } finally {
    await browser.close();
    await dashboard.stop();
    if (process.argv.includes("--keep")) console.log(`data kept in ${dataDir}`);
    else rmSync(dataDir, { recursive: true, force: true });
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
