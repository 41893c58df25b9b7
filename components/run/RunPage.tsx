"use client";
/**
 * A run, live by id: its record and event stream (useLiveRun) drawn by RunDashboard,
 * with cancel and the VNN-COMP bundle download. Shared links draw the same dashboard
 * from a view fetched by token, read-only (see RunDashboard).
 */
import { RunDashboard } from "./RunDashboard";
import { useLiveRun, type StoredRun } from "./useLiveRun";

export { RunDashboard, type RunDashboardProps, type RunRecord, type Connection, type CancelControl } from "./RunDashboard";

export function RunPage({ id, initialRun }: { id: string; initialRun?: StoredRun }) {
  const { run, view, connection, cancel } = useLiveRun(id, initialRun);
  if (run.isPending) return <div className="empty">Loading run…</div>;
  if (run.isError) return <div className="alert" role="alert">Could not load run {id}: {run.error.message}</div>;
  return (
    <RunDashboard
      run={run.data}
      view={view}
      connection={connection}
      cancel={cancel}
      bundleHref={(round) => `/runs/${encodeURIComponent(id)}/bundle?round=${round}`}
    />
  );
}
