"use client";
/**
 * What a share link shows, to anyone who has it: the comparison or the run it names,
 * as it was shared (methods shown, metric, layer), read-only. Revoked, unknown and
 * malformed links get a plain explanation instead.
 */
import { useQuery } from "@tanstack/react-query";
import { useSubscription } from "@trpc/tanstack-react-query";
import { useCallback, useEffect, useRef, useState } from "react";
import { CompareView } from "@/components/compare/CompareView";
import { RunDashboard, type Connection } from "@/components/run/RunDashboard";
import type { RunConfig, RunEvent, RunStatus } from "@/lib/protocol";
import { emptyRunView, foldRunEvents, type RunView, type StoredRunEvent } from "@/lib/runView";
import { useTRPC } from "@/lib/trpc/react";
import { CompareViewState, DEFAULT_COMPARE_STATE } from "@/lib/viewState";

function ReadOnlyBanner({ kind, createdAt }: { kind: string; createdAt: number }) {
  return (
    <div className="readonly-banner" role="note">
      <span aria-hidden>🔒</span>
      <span>A read-only {kind} shared on {new Date(createdAt).toLocaleDateString("en", { year: "numeric", month: "short", day: "numeric" })}. Nothing can be launched, cancelled or deleted from here.</span>
    </div>
  );
}

/** A shared run, live while it runs: its events stream by token and fold into the run page's view. */
function SharedRun({ token, run }: { token: string; run: { id: string; label: string; status: RunStatus; config: RunConfig; error: string | null } }) {
  const trpc = useTRPC();
  const [view, setView] = useState<RunView>(emptyRunView);
  const pending = useRef<StoredRunEvent[]>([]);
  const timer = useRef<ReturnType<typeof setTimeout> | null>(null);
  const flush = useCallback(() => {
    timer.current = null;
    const batch = pending.current;
    pending.current = [];
    if (batch.length) setView((v) => foldRunEvents(v, batch));
  }, []);
  useEffect(() => () => {
    if (timer.current != null) clearTimeout(timer.current);
  }, []);
  const subscription = useSubscription(
    trpc.shares.runEvents.subscriptionOptions(
      { token },
      {
        onData: (tracked: { id: string; data: RunEvent }) => {
          pending.current.push({ id: Number(tracked.id), event: tracked.data });
          timer.current ??= setTimeout(flush, 50);
        },
      },
    ),
  );
  const status = view.status ?? run.status;
  const ended = status === "finished" || status === "failed" || status === "cancelled";
  const connection: Connection =
    subscription.status === "error" ? { state: "error", message: subscription.error?.message } : ended ? { state: "ended" } : subscription.status === "pending" ? { state: "live" } : { state: "connecting" };
  return <RunDashboard run={run} view={view} connection={connection} readOnly />;
}

export function SharedView({ token }: { token: string }) {
  const trpc = useTRPC();
  const share = useQuery({ ...trpc.shares.view.queryOptions({ token }), retry: false, refetchOnWindowFocus: false });
  if (share.isPending) return <div className="panel empty">Opening the shared link…</div>;
  if (share.isError) {
    const code = share.error.data?.code;
    return (
      <div className="panel" data-testid="share-refused" role="alert">
        <h1>{code === "FORBIDDEN" ? "This link was revoked" : "This link does not open anything"}</h1>
        <p className="muted">{share.error.message}. Ask the researcher who sent it for a new link.</p>
      </div>
    );
  }
  const data = share.data;
  if (data.kind === "comparison" && data.comparison) {
    const parsed = CompareViewState.safeParse(data.state);
    return (
      <div data-testid="shared-comparison">
        <div className="page-head"><h1>{data.title}</h1><span className="sub">shared comparison</span></div>
        <ReadOnlyBanner kind="comparison" createdAt={data.createdAt} />
        <CompareView result={data.comparison} state={parsed.success ? parsed.data : DEFAULT_COMPARE_STATE} title={data.title} />
      </div>
    );
  }
  if (data.kind === "run" && data.run) {
    return (
      <div data-testid="shared-run">
        <ReadOnlyBanner kind="run" createdAt={data.createdAt} />
        <SharedRun token={token} run={data.run} />
      </div>
    );
  }
  return <div className="alert" role="alert">This link shows something this version of CertPrune cannot draw.</div>;
}
