"use client";
/**
 * A run, live: the event stream (SSE, resumed after reconnects by its tracked ids) is
 * folded into a view; the progress bar, charts and log redraw as events arrive.
 */
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useSubscription } from "@trpc/tanstack-react-query";
import { useReducer } from "react";
import type { RunEvent } from "@/lib/protocol";
import { emptyRunView, foldRunView, runViewProgress, type RunView } from "@/lib/runView";
import { useTRPC } from "@/lib/trpc/react";
import { ProgressBar, StatusBadge } from "../StatusBadge";
import { TrainingChart } from "./TrainingChart";

const pct = (x: number | null | undefined) => (x == null ? "–" : `${(x * 100).toFixed(1)}%`);

function reducer(view: RunView, batch: { id: string; data: RunEvent }) {
  return foldRunView(view, Number(batch.id), batch.data);
}

export function RunPage({ id }: { id: string }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const run = useQuery(trpc.runs.get.queryOptions({ id }));
  const [view, dispatch] = useReducer(reducer, emptyRunView);
  const subscription = useSubscription(
    trpc.runs.events.subscriptionOptions({ id }, { enabled: run.isSuccess, onData: (tracked) => dispatch(tracked) }),
  );
  const cancel = useMutation(
    trpc.runs.cancel.mutationOptions({ onSuccess: () => queryClient.invalidateQueries({ queryKey: trpc.runs.get.queryKey({ id }) }) }),
  );

  if (run.isPending) return <div className="empty">Loading run…</div>;
  if (run.isError) return <div className="alert" role="alert">{run.error.message}</div>;
  const config = run.data.config;
  const status = view.status ?? run.data.status;
  const progress = status === "finished" ? 1 : runViewProgress(view, config);
  const lastEpoch = view.epochs.at(-1);
  const totalRounds = view.totalRounds;
  const active = status === "queued" || status === "running";

  return (
    <>
      <div className="row">
        <h1>{run.data.label}</h1>
        <StatusBadge status={status} />
        <span className="muted">{id}</span>
        <span className="spacer" />
        {active && (
          <button className="danger" onClick={() => cancel.mutate({ id })} disabled={cancel.isPending}>
            {cancel.isPending ? "Cancelling…" : "Cancel run"}
          </button>
        )}
      </div>
      {(view.error || run.data.error) && status === "failed" && (
        <div className="alert" role="alert">Failed: {view.error ?? run.data.error}</div>
      )}
      <section className="panel">
        <div className="row">
          <strong data-testid="progress-text">{Math.floor(progress * 100)}%</strong>
          <span className="muted">
            {totalRounds === 1 ? "dense network, no pruning" : totalRounds ? `round ${view.round} of ${totalRounds - 1}` : "waiting for the engine"}
            {lastEpoch ? ` · epoch ${lastEpoch.epoch} of ${lastEpoch.epochs}` : ""}
            {view.device ? ` · on ${view.device}` : ""}
          </span>
          <span className="spacer" />
          <span className="muted">{active ? (subscription.status === "pending" ? "live" : subscription.status) : "stream ended"}</span>
        </div>
        <ProgressBar value={progress} label="run progress" />
      </section>
      <section className="panel">
        <div className="stats">
          <div className="stat"><div className="value">{config.data.dataset}</div><div className="name">dataset</div></div>
          <div className="stat"><div className="value">{config.model.arch}</div><div className="name">model</div></div>
          <div className="stat"><div className="value">{config.training.regime}</div><div className="name">regime</div></div>
          <div className="stat"><div className="value">{pct(lastEpoch?.testAccuracy ?? lastEpoch?.trainAccuracy)}</div><div className="name">latest {lastEpoch?.testAccuracy != null ? "test" : "train"} accuracy</div></div>
          <div className="stat"><div className="value">{pct(view.finished?.bestVerifiedAccuracy ?? run.data.summary.bestVerifiedAccuracy)}</div><div className="name">best verified accuracy</div></div>
        </div>
      </section>
      <section className="panel">
        <h2>Training</h2>
        <TrainingChart epochs={view.epochs} />
      </section>
      <section className="panel">
        <h2>Engine log</h2>
        <div className="log" data-testid="engine-log">
          {view.logs.length === 0 ? <span className="muted">No messages yet.</span> : view.logs.map((l, i) => (
            <div key={i} className={l.level}>{l.time.slice(11, 19)} {l.level} {l.message}</div>
          ))}
        </div>
      </section>
    </>
  );
}
