"use client";
/**
 * The queue: what runs now (per worker host in multi-host mode) and what waits, in the
 * order the scheduler will start it, with when each should start and end. Estimates are
 * calibrated on this machine's finished runs (server/jobs/queueView.ts).
 */
import { useQuery } from "@tanstack/react-query";
import Link from "next/link";
import { formatEstimate } from "@/lib/estimate";
import { useTRPC } from "@/lib/trpc/react";
import type { inferRouterOutputs } from "@trpc/server";
import type { AppRouter } from "@/server/routers/_app";
import { ProgressBar } from "../StatusBadge";

type Queue = inferRouterOutputs<AppRouter>["queue"]["view"];
type Entry = Queue["running"][number];

function RunLink({ e }: { e: Entry }) {
  return (
    <>
      <Link href={`/runs/${e.id}`}>{e.label}</Link>
      {e.kind === "uploaded-model" && <span className="tag">uploaded model</span>}
      <span className="muted"> {e.id.slice(4, 12)}{e.owner ? ` · ${e.owner}` : ""}</span>
    </>
  );
}

export function QueuePanel({ highlight }: { highlight?: string }) {
  const trpc = useTRPC();
  const queue = useQuery({ ...trpc.queue.view.queryOptions(), refetchInterval: 3000 });
  if (queue.isPending) return <div className="empty">Loading the queue…</div>;
  if (queue.isError) return <div className="alert" role="alert">Could not load the queue: {queue.error.message}</div>;
  const q = queue.data;
  const cal = q.calibration;
  return (
    <div data-testid="queue" data-running={q.running.length} data-queued={q.queued.length}>
      <p className="muted">
        {q.mode === "bullmq"
          ? `Multi-host: runs go to certprune workers (${q.hosts.length} busy now).`
          : `${q.slots} engine${q.slots === 1 ? "" : "s"} at a time on this machine; higher priority first, then launch order.`}{" "}
        {cal.runs > 0
          ? `Times are estimates calibrated on the last ${cal.runs} finished run${cal.runs === 1 ? "" : "s"} here (training ×${(cal.trainFactor ?? 1).toFixed(2)}${cal.verifyFactor != null ? `, verification ×${cal.verifyFactor.toFixed(2)}` : ""}${cal.overheadFactor != null ? `, the rest of each round ×${cal.overheadFactor.toFixed(2)}` : ""} of the table estimate; short runs count for little).`
          : "Times are table estimates (no finished run on this machine to calibrate them yet)."}
      </p>
      <h2>Running ({q.running.length})</h2>
      {q.running.length === 0 ? <div className="empty">Nothing is running.</div> : (
        <table data-testid="queue-running">
          <thead><tr><th>Run</th>{q.mode === "bullmq" && <th>Host</th>}<th>Progress</th><th className="num">Left (est.)</th></tr></thead>
          <tbody>
            {q.running.map((e) => (
              <tr key={e.id} className={e.id === highlight ? "selected" : undefined}>
                <td><RunLink e={e} /></td>
                {q.mode === "bullmq" && <td>{e.worker ?? "–"}</td>}
                <td><div className="progress-cell"><ProgressBar value={e.progress} label={`progress of ${e.label}`} /><span>{Math.floor(e.progress * 100)}%</span></div></td>
                <td className="num">≈ {formatEstimate(e.remainingSeconds)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {q.mode === "bullmq" && q.hosts.length > 0 && (
        <p className="muted" data-testid="queue-hosts">{q.hosts.map((h) => `${h.worker}: ${h.runs.length} run${h.runs.length === 1 ? "" : "s"}`).join(" · ")}</p>
      )}
      <h2 style={{ marginTop: "1rem" }}>Waiting ({q.queued.length})</h2>
      {q.queued.length === 0 ? <div className="empty">No run is waiting.</div> : (
        <table data-testid="queue-waiting">
          <thead><tr><th className="num">#</th><th>Run</th><th className="num">Priority</th><th className="num">Starts in (est.)</th><th className="num">Takes (est.)</th></tr></thead>
          <tbody>
            {q.queued.map((e) => (
              <tr key={e.id} data-position={e.position} className={e.id === highlight ? "selected" : undefined}>
                <td className="num">{e.position}</td>
                <td><RunLink e={e} /></td>
                <td className="num">{e.priority}</td>
                <td className="num">≈ {formatEstimate(e.startsInSeconds) === "none" ? "now" : formatEstimate(e.startsInSeconds)}</td>
                <td className="num">≈ {formatEstimate(e.remainingSeconds)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </div>
  );
}

/** On a queued run's page: its place in the queue and what runs ahead of it. */
export function QueuePosition({ runId }: { runId: string }) {
  const trpc = useTRPC();
  const queue = useQuery({ ...trpc.queue.view.queryOptions(), refetchInterval: 3000 });
  const q = queue.data;
  const me = q?.queued.find((e) => e.id === runId);
  if (!q || !me) return null;
  const ahead = [...q.running, ...q.queued.filter((e) => (e.position ?? 0) < (me.position ?? 0))];
  return (
    <div className="muted" data-testid="queue-position">
      Position {me.position} in the queue; about {formatEstimate(me.startsInSeconds) === "none" ? "no wait" : `${formatEstimate(me.startsInSeconds)} until it starts`}.
      {ahead.length > 0 && <> Ahead of it: {ahead.slice(0, 5).map((e, i) => <span key={e.id}>{i ? ", " : ""}<Link href={`/runs/${e.id}`}>{e.label}</Link>{e.status === "running" ? " (running)" : ""}</span>)}{ahead.length > 5 ? `, and ${ahead.length - 5} more` : ""}. <Link href="/queue">See the queue</Link></>}
    </div>
  );
}
