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
 * Budget: 1,000 ms for each. The compare page is "drawn" when its first screen is: the
 * accuracy chart with all 10 methods' curves (16 rounds + dense each) and Table I with all
 * 10 rows. The charts further down (outcome bars, verification time, layer sparsity) draw
 * when scrolled near; "scroll to the end" times that, until all three are drawn.
 */
import { execSync } from "node:child_process";
import { createHash } from "node:crypto";
import { chmodSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import os from "node:os";
import type { CDPSession, Page } from "playwright-core";
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
        sweepId: i % 5 === 0 ? null : `sweep_${createHash("sha256").update(String(Math.floor(i / 24))).digest("hex").slice(0, 16)}`,
      });
    }
  })();
  db.close();
  return compared;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

const phases: Record<string, { firstByte: number[]; html: number[]; cpu: number[]; server: number[] }> = {};
let cdp: CDPSession;
let serverPid = 0;
const CLOCK_TICKS = Number(execSync("getconf CLK_TCK", { encoding: "utf8" }).trim()) || 100;

/** CPU ms used so far by the dashboard's process and its descendants (Linux /proc): unlike wall time, not inflated by other jobs. */
function serverCpu(): number {
  const parent = new Map<number, number>();
  const ticks = new Map<number, number>();
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      parent.set(Number(entry), Number(fields[1]));
      ticks.set(Number(entry), Number(fields[11]) + Number(fields[12]));
    } catch {
      /* gone meanwhile */
    }
  }
  const inTree = (pid: number): boolean => pid === serverPid || (parent.has(pid) && pid > 1 && inTree(parent.get(pid)!));
  let total = 0;
  for (const [pid, t] of ticks) if (inTree(pid)) total += t;
  return (total * 1000) / CLOCK_TICKS;
}

/** CPU seconds the page's main thread has used so far (Chrome's ThreadTime, in thread ticks). */
async function threadTime(): Promise<number> {
  const { metrics } = (await cdp.send("Performance.getMetrics")) as { metrics: { name: string; value: number }[] };
  return metrics.find((m) => m.name === "ThreadTime")?.value ?? NaN;
}

/**
 * ms from navigation start until `ready` holds in the page (polled every animation frame);
 * also records when the server's answer arrived and the main thread's CPU time meanwhile,
 * which unlike the wall clock does not grow when other jobs share the machine's cores.
 */
async function load(page: Page, url: string, ready: string, name: string): Promise<number> {
  const cpu0 = await threadTime();
  const server0 = serverCpu();
  await page.goto(url, { waitUntil: "commit" });
  await page.waitForFunction(ready, undefined, { polling: "raf", timeout: 30_000 });
  const [now, firstByte, html] = (await page.evaluate(
    "(() => { const n = performance.getEntriesByType('navigation')[0]; return [performance.now(), n.responseStart, n.responseEnd]; })()",
  )) as number[];
  const server1 = serverCpu();
  const phase = (phases[name] ??= { firstByte: [], html: [], cpu: [], server: [] });
  phase.server.push(server1 - server0);
  phase.firstByte.push(firstByte);
  phase.html.push(html);
  const cpu1 = await threadTime();
  // A navigation may start a fresh renderer process, whose clock starts at 0.
  phase.cpu.push((cpu1 >= cpu0 ? cpu1 - cpu0 : cpu1) * 1000);
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
  // The seeded queued and running runs would start real engines (Python, PyTorch) that take
  // the cores the measurement is about: the dashboard gets an engine that only waits.
  const idleEngine = path.join(dataDir, "idle-engine.sh");
  writeFileSync(idleEngine, "#!/bin/sh\nexec sleep 86400\n");
  chmodSync(idleEngine, 0o755);
  const dashboard = await startDashboard({ dataDir, env: { CERTPRUNE_ENGINE: idleEngine } });
  serverPid = dashboard.pid;
  const browser = await launchBrowser();
  try {
    const context = await browser.newContext({ viewport: { width: 1920, height: 1080 } });
    const page = await context.newPage();
    cdp = await context.newCDPSession(page);
    await cdp.send("Performance.enable", { timeDomain: "threadTicks" } as never);
    step("signing in");
    await signIn(page, dashboard);

    const compareUrl = `${dashboard.url}/compare?${compareQuery(compared)}`;
    const compareReady = `document.querySelectorAll('[data-testid=accuracy-chart] .recharts-line-curve').length === ${COMPARE_METHODS.length}
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
          `document.querySelectorAll('[data-testid=outcome-chart] .outcome-bar').length === ${COMPARE_METHODS.length * 17}
            && document.querySelectorAll('[data-testid=time-chart] .recharts-line-curve').length === ${COMPARE_METHODS.length}
            && document.querySelectorAll('[data-testid=layer-chart] .recharts-line-curve').length === ${COMPARE_METHODS.length}`,
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
    console.log(`load average ${os.loadavg().map((x) => x.toFixed(1)).join(" ")} on ${os.cpus().length} cores`);
    console.log(`view                          first ms   median ms (of ${repeat})   budget 1000 ms`);
    for (const [name, xs] of Object.entries(results)) {
      console.log(`${name.padEnd(30)}${xs[0].toFixed(0).padStart(8)}   ${median(xs).toFixed(0).padStart(9)}            ${median(xs) < 1000 ? "ok" : "OVER"}`);
    }
    for (const [name, p] of Object.entries(phases)) {
      console.log(`${name}: median first byte ${median(p.firstByte).toFixed(0)} ms, whole HTML ${median(p.html).toFixed(0)} ms (server); browser main thread ${median(p.cpu).toFixed(0)} ms of CPU to draw`);
      console.log(`${name}: first (cold) load: first byte ${p.firstByte[0].toFixed(0)} ms, whole HTML ${p.html[0].toFixed(0)} ms; browser main thread ${p.cpu[0].toFixed(0)} ms of CPU`);
      console.log(`${name}: server CPU per load: first ${p.server[0].toFixed(0)} ms, median ${median(p.server).toFixed(0)} ms`);
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
