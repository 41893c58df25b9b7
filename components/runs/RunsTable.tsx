"use client";
/** The runs overview: every run with its status, progress and best certified result. */
import { useQuery } from "@tanstack/react-query";
import Link from "next/link";
import { useTRPC } from "@/lib/trpc/react";
import { ProgressBar, StatusBadge } from "../StatusBadge";

const percent = (x: number | null | undefined) => (x == null ? "–" : `${(x * 100).toFixed(1)}%`);

export function RunsTable() {
  const trpc = useTRPC();
  const runs = useQuery({ ...trpc.runs.list.queryOptions(), refetchInterval: 3000 });
  if (runs.isPending) return <div className="empty">Loading runs…</div>;
  if (runs.isError) return <div className="alert">Could not load runs: {runs.error.message}</div>;
  if (runs.data.length === 0)
    return (
      <div className="empty">
        No runs yet. <Link href="/runs/new">Launch one</Link> — the synthetic smoke test takes seconds.
      </div>
    );
  return (
    <table data-testid="runs-table">
      <thead>
        <tr>
          <th>Run</th><th>Status</th><th>Progress</th><th>Dataset</th><th>Regime</th><th>Method</th>
          <th className="num">Best verified</th><th className="num">at remaining</th>
        </tr>
      </thead>
      <tbody>
        {runs.data.map((run) => (
          <tr key={run.id}>
            <td><Link href={`/runs/${run.id}`}>{run.label}</Link> <span className="muted">{run.id.slice(4, 12)}</span></td>
            <td><StatusBadge status={run.status} /></td>
            <td><ProgressBar value={run.progress} label={`progress of ${run.label}`} /></td>
            <td>{run.config.data.dataset}</td>
            <td>{run.config.training.regime}</td>
            <td>{run.config.pruning.method}</td>
            <td className="num">{percent(run.summary.bestVerifiedAccuracy)}</td>
            <td className="num">{run.summary.bestRemainingRatio == null ? "–" : run.summary.bestRemainingRatio.toFixed(3)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
