"use client";
/**
 * A run, live by id: its record and event stream (useLiveRun) drawn by RunDashboard,
 * with cancel and the VNN-COMP bundle download. Shared links draw the same dashboard
 * from a view fetched by token, read-only (see RunDashboard).
 */
import { useMe } from "@/components/auth/AuthGuard";
import { QueuePosition } from "@/components/runs/QueuePanel";
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
  const { run, view, connection, cancel, onRetried } = useLiveRun(id, initialRun);
  const me = useMe();
  if (run.isPending) return <div className="empty">Loading run…</div>;
  if (run.isError) {
    const notFound = run.error.data?.code === "NOT_FOUND" || run.error.data?.code === "BAD_REQUEST";
    return (
      <div className="alert" role="alert" data-testid="run-not-found">
        {notFound ? <>There is no run <code>{id}</code>: it may have been deleted, or the link is mistyped. <a href="/">Back to the runs</a></> : <>Could not load run {id}: {run.error.message}</>}
      </div>
    );
  }
  // The server decides (by account id); by name here only to hide buttons that would be refused.
  const owner = run.data.owner;
  const manage = !!me.data?.user && (owner === null || owner === me.data.user.name);
  return (
    <RunDashboard
      run={run.data}
      view={view}
      connection={connection}
      cancel={cancel}
      manage={manage}
      onRetried={onRetried}
      queueSlot={<QueuePosition runId={id} />}
      bundleHref={(round) => `/runs/${encodeURIComponent(id)}/bundle?round=${round}`}
      initialState={initialState}
      onStateChange={writeStateToUrl}
    />
  );
}
