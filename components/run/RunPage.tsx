"use client";
/**
 * A run, live by id: its record and event stream (useLiveRun) drawn by RunDashboard,
 * with cancel and the VNN-COMP bundle download. Shared links draw the same dashboard
 * from a view fetched by token, read-only (see RunDashboard).
 */
import { runQuery, type RunViewState } from "@/lib/viewState";
import { RunDashboard } from "./RunDashboard";
import { useLiveRun, type StoredRun } from "./useLiveRun";

export { RunDashboard, type RunDashboardProps, type RunRecord, type Connection, type CancelControl } from "./RunDashboard";

/** Keeps the selected round and layer in the address bar, so that a reload or a copied URL opens on them. */
function writeStateToUrl(state: RunViewState) {
  const query = runQuery(state);
  window.history.replaceState(null, "", `${window.location.pathname}${query ? `?${query}` : ""}`);
}

export function RunPage({ id, initialRun, initialState }: { id: string; initialRun?: StoredRun; initialState?: RunViewState }) {
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
      initialState={initialState}
      onStateChange={writeStateToUrl}
    />
  );
}
