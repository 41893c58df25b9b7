"use client";
/**
 * Where a run stands: percent done (counting batches of the current epoch and samples
 * verified, from the engine's progress events), the round and phase, and a live estimate
 * of the time left that moves between epoch events. Also the failure or cancellation notice.
 */
import type { RunConfig, RunStatus } from "@/lib/protocol";
import { formatDuration } from "@/lib/format";
import type { RunView } from "@/lib/run/fold";
import { roundPosition, runEta, runViewProgress } from "@/lib/run/progress";
import { ProgressBar } from "../StatusBadge";
import styles from "./run.module.css";

export interface Connection {
  state: "connecting" | "live" | "reconnecting" | "ended" | "error";
  message?: string;
}

const CONNECTION_TEXT: Record<Connection["state"], string> = {
  connecting: "connecting…",
  live: "live",
  reconnecting: "reconnecting…",
  ended: "stream ended",
  error: "connection lost",
};

const PHASE_TEXT: Record<string, string> = {
  setup: "setting up",
  train: "training",
  evaluate: "evaluating",
  stability: "bounding neurons",
  verify: "verifying",
  prune: "pruning",
  export: "exporting the model",
};

/** What the engine is doing now, in words. */
function phaseText(view: RunView, config: RunConfig, uploaded: boolean): string {
  const { epochs, samples } = roundPosition(view);
  const p = view.progress;
  const lastEpoch = view.epochs.filter((e) => e.round === view.round).at(-1);
  if (p && p.round === view.round) {
    if (p.phase === "train" && p.total > 0) return `epoch ${p.epoch ?? epochs + 1} of ${config.training.epochs}: batch ${p.done} of ${p.total}`;
    if (p.phase === "verify" && p.total > 0) return `verifying sample ${Math.max(samples, p.done)} of ${p.total}`;
    return `${PHASE_TEXT[p.phase] ?? p.phase}${p.total > 0 ? ` ${p.done} of ${p.total}` : ""}`;
  }
  if (samples > 0) return `verifying sample ${samples} of ${config.verification.samples}`;
  if (uploaded) return "loading the model and verifying";
  const verifying = config.verification.mode !== "none" && config.verification.samples > 0;
  if (lastEpoch && lastEpoch.epoch >= lastEpoch.epochs) return verifying ? "evaluating, bounding and verifying" : "evaluating";
  if (lastEpoch) return `epoch ${lastEpoch.epoch} of ${lastEpoch.epochs} done`;
  return "training the first epoch";
}

export function ProgressLine({ view, config, status, connection, queueSlot }: {
  view: RunView; config: RunConfig; status: RunStatus; connection?: Connection; queueSlot?: React.ReactNode;
}) {
  const uploaded = config.model.arch === "onnx";
  const progress = status === "finished" ? 1 : runViewProgress(view, config);
  const totalRounds = view.totalRounds;
  const roundDone = view.roundResults.some((r) => r.round === view.round);
  const eta = runEta(view, config);
  const running = status === "running";
  const phase = running && (totalRounds != null || view.progress) && !roundDone ? phaseText(view, config, uploaded) : "";
  const where =
    totalRounds == null ? (status === "queued" ? "queued: waiting for a free engine slot" : running ? "starting the engine" : "")
    : uploaded ? "uploaded model: verification only"
    : totalRounds === 1 ? "dense network, no pruning"
    : `round ${view.round} of ${totalRounds - 1}`;
  return (
    <>
      <div className="row">
        <strong data-testid="progress-text">{Math.floor(progress * 100)}%</strong>
        <span data-testid="progress-where">{where}</span>
        {phase && <span className="muted" data-testid="progress-phase">· {phase}</span>}
        {eta && (
          <span className="muted" data-testid="eta" title="from the measured time per epoch (and per batch within the current epoch), per verified sample and per round">
            · about {eta.lowerBound ? "≥ " : ""}{formatDuration(eta.seconds)} left
          </span>
        )}
        {view.device && <span className="muted">· on {view.device}</span>}
        <span className="spacer" />
        {connection && (
          <span className={connection.state === "error" ? styles.connectionError : "muted"} data-testid="connection" title={connection.message}>
            {CONNECTION_TEXT[connection.state]}{connection.state === "error" && connection.message ? `: ${connection.message}` : ""}
          </span>
        )}
      </div>
      <ProgressBar value={progress} label="run progress" />
      {status === "queued" && queueSlot}
    </>
  );
}

export function FailureNotice({ view, error, status }: { view: RunView; error: string | null; status: RunStatus }) {
  if (status === "cancelled") {
    return <div className={styles.notice} role="status">Cancelled{view.error ? `: ${view.error}` : ""}. Its finished rounds are below; Retry resumes it from its last finished phase.</div>;
  }
  if (status !== "failed") return null;
  const failure = view.failure;
  return (
    <div className="alert" role="alert" data-testid="run-failure">
      <strong>Failed{failure?.phase ? ` while ${failure.phase === "train" ? "training" : `in phase “${failure.phase}”`}` : ""}:</strong>{" "}
      {failure?.reason ?? view.error ?? error ?? "the engine stopped without saying why"}
      {failure?.detail && (
        <details>
          <summary>Details from the engine</summary>
          <pre className={styles.detail}>{failure.detail}</pre>
        </details>
      )}
    </div>
  );
}
