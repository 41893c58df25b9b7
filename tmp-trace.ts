import { readFileSync, writeFileSync } from "node:fs";
import { launchBrowser } from "@/tests/harness";
(async () => {
  const browser = await launchBrowser();
  const ctx = await browser.newContext({ viewport: { width: 1920, height: 1080 } });
  const cookie = readFileSync("/tmp/views-eng/cookie", "utf8").trim().split("=");
  await ctx.addCookies([{ name: cookie[0], value: cookie.slice(1).join("="), url: "http://127.0.0.1:3917" }]);
  const page = await ctx.newPage();
  const ids = readFileSync("/tmp/views-eng/ids.txt", "utf8").trim();
  const url = `http://127.0.0.1:3917/compare?runs=${ids}`;
  await page.goto(url); await page.waitForTimeout(1500);
  await browser.startTracing(page, { path: "/tmp/views-eng/trace.json", categories: ["devtools.timeline", "v8.execute", "blink.user_timing", "loading"] });
  await page.goto(url, { waitUntil: "commit" });
  await page.waitForFunction(`document.querySelectorAll('[data-testid=accuracy-chart] .recharts-line-curve').length === 10 && document.querySelectorAll('.outcome-bar').length === 170`, undefined, { polling: "raf" });
  console.log("ready", await page.evaluate("performance.now()"));
  await browser.stopTracing();
  await browser.close();
  const trace = JSON.parse(readFileSync("/tmp/views-eng/trace.json", "utf8"));
  const events = (trace.traceEvents ?? trace) as any[];
  const nav = events.find((e) => e.name === "navigationStart" || e.name === "NavigationStartToFirstPaint" )?.ts ?? Math.min(...events.filter((e) => e.ts > 0).map((e) => e.ts));
  // main-thread top-level tasks with their durations, start relative to first event
  const main = events.filter((e) => e.name === "RunTask" && e.dur > 15000);
  const t0 = Math.min(...events.filter((e) => e.ph === "X" && e.ts > 0).map((e) => e.ts));
  const byName = new Map<string, number>();
  for (const e of events.filter((e) => e.ph === "X" && e.dur)) byName.set(e.name, (byName.get(e.name) ?? 0) + e.dur / 1000);
  console.log([...byName].sort((a, b) => b[1] - a[1]).slice(0, 20).map(([k, v]) => `${v.toFixed(0).padStart(6)} ms ${k}`).join("\n"));
  console.log("long tasks:", main.map((e) => `${((e.ts - t0) / 1000).toFixed(0)}+${(e.dur / 1000).toFixed(0)} (tid ${e.tid})`).join(", "));
})();
