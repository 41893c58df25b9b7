import { readFileSync } from "node:fs";
const trace = JSON.parse(readFileSync("/tmp/views-eng/trace.json", "utf8"));
const events = (trace.traceEvents ?? trace) as any[];
const commit = events.find((e) => e.name === "DocumentLoader::CommitNavigation");
const tid = commit.tid, pid = commit.pid;
const t0 = commit.ts;
const top = events.filter((e) => e.ph === "X" && e.tid === tid && e.pid === pid && e.dur > 8000 && (e.name === "FunctionCall" || e.name === "EvaluateScript" || e.name === "ParseHTML" || e.name === "RunMicrotasks" || e.name === "Layout" || e.name === "UpdateLayoutTree" || e.name.includes("Paint") || e.name === "TimerFire" || e.name === "FireAnimationFrame" || e.name === "v8.produceCache" || e.name === "MinorGC" || e.name === "MajorGC"));
for (const e of top.sort((a, b) => a.ts - b.ts)) {
  const d = e.args?.data ?? {};
  console.log(`${((e.ts - t0) / 1000).toFixed(0).padStart(6)} +${(e.dur / 1000).toFixed(0).padStart(4)} ${e.name} ${d.functionName ?? ""} ${(d.url ?? "").split("/").pop()}`);
}
