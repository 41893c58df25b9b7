/**
 * The dashboard under load, on loopback only: 20 concurrent launches and 50 SSE
 * subscribers to the live runs of a real `next start` dashboard running the real engine
 * (CERTPRUNE_MAX_RUNS=2), while 4 clients keep asking tRPC queries.
 *
 *     export CERTPRUNE_NEXT_DIR=.next   # the build to serve (npx next build first)
 *     npx tsx bench/load.ts [--runs 20] [--subscribers 50] [--deadline 420]
 *
 * Prints: launch latency, dropped events (each subscriber's received ids against the ids
 * stored in SQLite for its run: every stored id must arrive, once), duplicated events,
 * errors, p50/p95 event-to-browser latency (arrival minus the time the engine or server
 * stamped on the event; live events only, not the replay at connect), and p50/p95 tRPC
 * query latency under that load. Bounded: it stops by itself after --deadline seconds at
 * the latest, and stops the dashboard and its engines.
 */
import Database from "better-sqlite3";
import path from "node:path";
import { RESEARCHER, sessionCookie, startDashboard, type Dashboard } from "@/tests/harness";

const arg = (name: string, fallback: number) => {
  const i = process.argv.indexOf(name);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
};
const RUNS = arg("--runs", 20);
const SUBSCRIBERS = arg("--subscribers", 50);
const DEADLINE_S = arg("--deadline", 420);
const QUERY_CLIENTS = 4;

const config = (seed: number) => ({
  data: { dataset: "synthetic", trainSize: 512, testSize: 256 },
  model: { arch: "mlp", widths: [16] },
  training: { regime: "natural", epochs: 5, epsStart: 1, epsLength: 0 },
  pruning: { method: "none", rounds: 0 },
  verification: { mode: "none", samples: 0 },
  seed,
});

const percentile = (values: number[], p: number) => {
  if (!values.length) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
};
const fmt = (ms: number) => (Number.isFinite(ms) ? `${ms.toFixed(0)} ms` : "–");

interface Subscriber {
  runId: string;
  connectedAt: number;
  ids: number[];
  latencies: number[];
  error: string | null;
  ended: boolean;
}

/** One subscription as the browser's httpSubscriptionLink makes it: SSE over GET, tracked ids. */
async function subscribe(dashboard: Dashboard, cookie: string, runId: string, signal: AbortSignal): Promise<Subscriber> {
  const sub: Subscriber = { runId, connectedAt: Date.now(), ids: [], latencies: [], error: null, ended: false };
  try {
    const url = `${dashboard.url}/api/trpc/runs.events?input=${encodeURIComponent(JSON.stringify({ id: runId }))}`;
    const res = await fetch(url, { headers: { cookie, accept: "text/event-stream" }, signal });
    if (!res.ok || !res.body) throw new Error(`HTTP ${res.status}`);
    sub.connectedAt = Date.now();
    const decoder = new TextDecoder();
    let buffer = "";
    for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
      buffer += decoder.decode(chunk, { stream: true });
      let cut;
      while ((cut = buffer.indexOf("\n\n")) >= 0) {
        const message = buffer.slice(0, cut);
        buffer = buffer.slice(cut + 2);
        const field = (name: string) => message.split("\n").find((l) => l.startsWith(`${name}:`))?.slice(name.length + 1).trim();
        const kind = field("event");
        if (kind === "return") {
          sub.ended = true;
          return sub;
        }
        if (kind === "serialized-error") throw new Error(field("data") ?? "error");
        const id = field("id");
        const data = field("data");
        if (!id || !data) continue;
        // Progress events are streamed under the last stored event's id, not stored: not counted.
        if (JSON.parse(data).type === "progress") continue;
        const arrived = Date.now();
        sub.ids.push(Number(id));
        const stamped = Date.parse(JSON.parse(data).time);
        if (stamped >= sub.connectedAt) sub.latencies.push(arrived - stamped);
      }
    }
  } catch (error) {
    if (!signal.aborted) sub.error = (error as Error).message;
  }
  return sub;
}

async function main() {
  const started = Date.now();
  const deadline = new AbortController();
  const timer = setTimeout(() => deadline.abort(), DEADLINE_S * 1000);
  const dashboard = await startDashboard({ env: { CERTPRUNE_MAX_RUNS: "2" } });
  let errors = 0;
  try {
    const cookie = await sessionCookie(dashboard, RESEARCHER);

    // 20 launches at once.
    const launches = await Promise.all(
      Array.from({ length: RUNS }, async (_, seed) => {
        const t0 = performance.now();
        const res = await fetch(`${dashboard.url}/api/trpc/runs.create`, {
          method: "POST",
          headers: { cookie, "content-type": "application/json" },
          body: JSON.stringify({ config: config(seed) }),
        });
        const body = await res.json();
        if (!res.ok) errors++;
        return { id: body.result?.data?.id as string, ms: performance.now() - t0 };
      }),
    );
    const runIds = launches.map((l) => l.id).filter(Boolean);

    // 50 subscribers, spread over the runs.
    const subscribers = Array.from({ length: SUBSCRIBERS }, (_, i) => subscribe(dashboard, cookie, runIds[i % runIds.length], deadline.signal));

    // Queries while all that goes on, until every subscription has ended.
    const queryLatencies: number[] = [];
    let queryErrors = 0;
    let done = false;
    const queryClients = Array.from({ length: QUERY_CLIENTS }, async (_, c) => {
      let i = 0;
      while (!done && !deadline.signal.aborted) {
        const url = i++ % 2 === 0
          ? `${dashboard.url}/api/trpc/runs.list`
          : `${dashboard.url}/api/trpc/runs.get?input=${encodeURIComponent(JSON.stringify({ id: runIds[(c + i) % runIds.length] }))}`;
        const t0 = performance.now();
        try {
          const res = await fetch(url, { headers: { cookie }, signal: deadline.signal });
          await res.arrayBuffer();
          if (res.ok) queryLatencies.push(performance.now() - t0);
          else queryErrors++;
        } catch {
          if (!deadline.signal.aborted) queryErrors++;
        }
        await new Promise((r) => setTimeout(r, 100));
      }
    });
    const results = await Promise.all(subscribers);
    done = true;
    await Promise.all(queryClients);

    // Compare with what the dashboard stored.
    const db = new Database(path.join(dashboard.dataDir, "certprune.db"), { readonly: true });
    const storedIds = new Map<string, number[]>();
    for (const id of runIds) {
      storedIds.set(id, (db.prepare(`SELECT id FROM events WHERE run_id = ? ORDER BY id`).all(id) as { id: number }[]).map((r) => r.id));
    }
    const statuses = db.prepare(`SELECT status, COUNT(*) AS n FROM runs GROUP BY status`).all() as { status: string; n: number }[];
    db.close();
    let dropped = 0;
    let duplicated = 0;
    let delivered = 0;
    for (const sub of results) {
      const got = new Set(sub.ids);
      duplicated += sub.ids.length - got.size;
      delivered += sub.ids.length;
      if (sub.ended) dropped += storedIds.get(sub.runId)!.filter((id) => !got.has(id)).length;
    }
    const unfinished = results.filter((s) => !s.ended).length;
    errors += results.filter((s) => s.error).length;
    const eventLatencies = results.flatMap((s) => s.latencies);

    console.log(`dashboard under load: ${RUNS} concurrent launches, ${SUBSCRIBERS} SSE subscribers, ${QUERY_CLIENTS} query clients`);
    console.log(`  launch (runs.create) latency  p50 ${fmt(percentile(launches.map((l) => l.ms), 50))}  p95 ${fmt(percentile(launches.map((l) => l.ms), 95))}`);
    console.log(`  runs at the end               ${statuses.map((s) => `${s.n} ${s.status}`).join(", ")}`);
    console.log(`  events delivered              ${delivered} (${eventLatencies.length} live)`);
    console.log(`  dropped events                ${dropped}`);
    console.log(`  duplicated events             ${duplicated}`);
    console.log(`  subscriptions not ended       ${unfinished}`);
    console.log(`  errors                        ${errors} (+ ${queryErrors} failed queries)`);
    console.log(`  event-to-browser latency      p50 ${fmt(percentile(eventLatencies, 50))}  p95 ${fmt(percentile(eventLatencies, 95))}`);
    console.log(`  tRPC query latency            p50 ${fmt(percentile(queryLatencies, 50))}  p95 ${fmt(percentile(queryLatencies, 95))}  (${queryLatencies.length} queries)`);
    console.log(`  took ${((Date.now() - started) / 1000).toFixed(0)} s${deadline.signal.aborted ? " (stopped at the deadline)" : ""}`);
    if (dropped || duplicated || errors || unfinished) process.exitCode = 1;
  } finally {
    clearTimeout(timer);
    deadline.abort();
    await dashboard.stop();
  }
}

void main();
