"use client";
/**
 * What a share link shows, to anyone who has it: the comparison or the run it names,
 * as it was shared (methods shown, metric, layer), read-only. Revoked, unknown and
 * malformed links get a plain explanation instead.
 */
import { useQuery } from "@tanstack/react-query";
import { useSubscription } from "@trpc/tanstack-react-query";
import { CompareView } from "@/components/compare/CompareView";
import { sentence } from "@/lib/format";
import { RunDashboard, type Connection } from "@/components/run/RunDashboard";
import { useRunEventFold } from "@/components/run/useRunEventFold";
import type { RunConfig, RunEvent, RunStatus } from "@/lib/protocol";
import { useTRPC } from "@/lib/trpc/react";
import { parseRunQuery, runQuery, type RunViewState } from "@/lib/viewState";

function ReadOnlyBanner({ kind, createdAt }: { kind: string; createdAt: number }) {
  return (
    <div className="readonly-banner" role="note">
      <span>A read-only {kind} shared on {new Date(createdAt).toLocaleDateString("en", { year: "numeric", month: "short", day: "numeric" })}. Nothing can be launched, cancelled or deleted from here.</span>
    </div>
  );
}

/** Why a link opens nothing (revoked, unknown, malformed), in words for whoever followed it. */
export function ShareRefused({ revoked, message }: { revoked: boolean; message: string }) {
  return (
    <div className="panel" data-testid="share-refused" role="alert">
      <h1>{revoked ? "This link was revoked" : "This link does not open anything"}</h1>
      <p className="muted">{sentence(message)} Ask the researcher who sent it for a new link.</p>
    </div>
  );
}

/** The shared page's address keeps the selected round and layer, like the run page's. */
function writeStateToUrl(state: RunViewState) {
  const query = runQuery(state);
  window.history.replaceState(null, "", `${window.location.pathname}${query ? `?${query}` : ""}`);
}

/** A shared run, live while it runs: its events stream by token and fold into the run page's view. */
function SharedRun({ token, run, initialState }: {
  token: string;
  run: { id: string; label: string; status: RunStatus; config: RunConfig; error: string | null };
  initialState: RunViewState;
}) {
  const trpc = useTRPC();
  const { view, push } = useRunEventFold();
  const subscription = useSubscription(
    trpc.shares.runEvents.subscriptionOptions(
      { token },
      { onData: (tracked: { id: string; data: RunEvent }) => push(Number(tracked.id), tracked.data) },
    ),
  );
  const status = view.status ?? run.status;
  const ended = status === "finished" || status === "failed" || status === "cancelled";
  const connection: Connection =
    subscription.status === "error" ? { state: "error", message: subscription.error?.message } : ended ? { state: "ended" } : subscription.status === "pending" ? { state: "live" } : { state: "connecting" };
  return <RunDashboard run={run} view={view} connection={connection} readOnly shareToken={token} initialState={initialState} onStateChange={writeStateToUrl} />;
}

const SHARE_RECHECK_MS = 30_000;

/** `query`: the page's URL query; ?round=&layer= there override the link's saved view. */
export function SharedView({ token, query = {} }: { token: string; query?: Record<string, string | string[] | undefined> }) {
  const trpc = useTRPC();
  const share = useQuery({ ...trpc.shares.view.queryOptions({ token }), retry: false, refetchOnWindowFocus: false });
  // An open page stops showing the run or comparison soon after the link is revoked.
  const stillOpen = useQuery({ ...trpc.shares.status.queryOptions({ token }), enabled: share.isSuccess, retry: false, refetchInterval: SHARE_RECHECK_MS });
  if (share.isPending) return <div className="panel empty">Opening the shared link…</div>;
  if (share.isError) return <ShareRefused revoked={share.error.data?.code === "FORBIDDEN"} message={share.error.message} />;
  if (stillOpen.isError) return <ShareRefused revoked={stillOpen.error.data?.code === "FORBIDDEN"} message={stillOpen.error.message} />;
  const data = share.data;
  if (data.kind === "comparison" && data.comparison) {
    return (
      <div data-testid="shared-comparison">
        <div className="page-head"><h1>{data.title}</h1><span className="sub">shared comparison</span></div>
        <ReadOnlyBanner kind="comparison" createdAt={data.createdAt} />
        <CompareView result={data.comparison} state={data.state} title={data.title} />
      </div>
    );
  }
  if (data.kind === "run" && data.run) {
    const initialState = parseRunQuery(query, data.state);
    return (
      <div data-testid="shared-run">
        <ReadOnlyBanner kind="run" createdAt={data.createdAt} />
        <SharedRun token={token} run={data.run} initialState={initialState} />
      </div>
    );
  }
  return <div className="alert" role="alert">This link shows something this version of CertPrune cannot draw.</div>;
}
