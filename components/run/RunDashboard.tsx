"use client";
/**
 * Everything the run page shows, drawn from a run's record and its folded event view.
 * It does not fetch: RunPage feeds it live by id (SSE), and a shared link can feed it
 * the same view built from events fetched by token (runViewOf), read-only.
 */
import Link from "next/link";
import { useMemo, useState } from "react";
import { AuditSummary } from "@/components/audit/AuditSummary";
import { ShareButton } from "@/components/share/ShareButton";
import type { RunConfig, RunStatus } from "@/lib/protocol";
import { STRUCTURED_METHODS, methodLabel } from "@/lib/protocol/names";
import { formatDuration, pct } from "@/lib/format";
import type { RunView } from "@/lib/run/fold";
import { runEta, runViewProgress } from "@/lib/run/progress";
import { bestRound, certifiedCurve } from "@/lib/run/selectors";
import { DEFAULT_RUN_STATE, runQuery, type RunViewState } from "@/lib/viewState";
import { ProgressBar, StatusBadge } from "../StatusBadge";
import { CertifiedChart } from "./CertifiedChart";
import { EngineLog } from "./EngineLog";
import { ExportPanel } from "./ExportPanel";
import { NeuronStability } from "./NeuronStability";
import { ResultsTable } from "./ResultsTable";
import { RoundSelect, useRoundChoice, type RoundChoice, type RoundControl } from "./RoundSelect";
import { SampleGrid } from "./SampleGrid";
import { SparsityTable } from "./SparsityTable";
import { StabilityTrendChart } from "./StabilityTrendChart";
import { TrainingChart } from "./TrainingChart";
import styles from "./run.module.css";

/** The run's stored record (runs.get), or what a shared link carries of it. */
export interface RunRecord {
  id: string;
  label: string;
  status: RunStatus;
  config: RunConfig;
  error: string | null;
}

export interface Connection {
  state: "connecting" | "live" | "reconnecting" | "ended" | "error";
  message?: string;
}

export interface CancelControl {
  onCancel: () => void;
  pending: boolean;
  /** The server's refusal, e.g. "sign in to cancel runs". */
  error: string | null;
}

export interface RunDashboardProps {
  run: RunRecord;
  view: RunView;
  /** The live stream's state; absent for a static (shared) view. */
  connection?: Connection;
  /** Absent: no cancel button (read-only pages, or a run that cannot be cancelled). */
  cancel?: CancelControl;
  /** Where a round's ONNX + VNNLIB bundle downloads from; absent: no bundle download. */
  bundleHref?: (round: number) => string;
  /** A shared, read-only page: no actions, and says so. */
  readOnly?: boolean;
  /** The selected round and layer to open on (from the URL, or a share link's saved view). */
  initialState?: RunViewState;
  /** Called when the selection changes (the run page writes it into its URL). */
  onStateChange?: (state: RunViewState) => void;
  /** A share link's token: the audit and the model inspector are read through it. */
  shareToken?: string;
}

const CONNECTION_TEXT: Record<Connection["state"], string> = {
  connecting: "connecting…",
  live: "live",
  reconnecting: "reconnecting…",
  ended: "stream ended",
  error: "connection lost",
};

export function RunDashboard({ run, view, connection, cancel, bundleHref, readOnly, initialState, onStateChange, shareToken }: RunDashboardProps) {
  const config = run.config;
  const status = view.status ?? run.status;
  const active = status === "queued" || status === "running";
  const verifying = config.verification.mode !== "none" && config.verification.samples > 0;
  const curve = useMemo(() => certifiedCurve(view), [view]);
  const ratios = useMemo(() => {
    const map = new Map<number, number>();
    for (const r of view.roundStarts) map.set(r.round, r.remainingRatio);
    for (const r of view.roundResults) map.set(r.round, r.remainingRatio);
    return map;
  }, [view]);
  const best = bestRound(view);
  const file = run.id;

  // One selected round (and layer) for the whole page: every round selector moves it, the
  // URL carries it (?round=3&layer=conv2), and so does a share link made from the page.
  const [selection, setSelection] = useState<RunViewState>(initialState ?? DEFAULT_RUN_STATE);
  const [roundChoice, setRoundChoice] = useState<RoundChoice | null>(selection.round);
  const select = (patch: Partial<RunViewState>) => {
    const next = { ...selection, ...patch };
    setSelection(next);
    onStateChange?.(next);
  };
  const roundControl: RoundControl = {
    value: roundChoice,
    onChange: (round) => {
      setRoundChoice(round);
      select({ round: round === "all" ? null : round });
    },
  };
  const layerControl = { value: selection.layer, onChange: (layer: string) => select({ layer }) };

  return (
    <div className={styles.root} data-testid="run-page" data-read-only={readOnly ? "true" : undefined}>
      <div className="row">
        <h1 className={styles.h1}>{run.label}</h1>
        <StatusBadge status={status} />
        <span className="muted">{run.id}</span>
        {readOnly && <span className={styles.readOnly}>shared, read-only</span>}
        <span className="spacer" />
        {!readOnly && (
          <span className={styles.shareSlot} data-testid="run-share">
            <ShareButton target={{ kind: "run", runId: run.id, state: selection }} label="Share" />
          </span>
        )}
        {cancel && !readOnly && active && <CancelButton cancel={cancel} />}
      </div>
      <FailureNotice view={view} run={run} status={status} />

      <section className="panel" aria-label="Progress">
        <ProgressLine view={view} config={config} status={status} connection={connection} />
      </section>

      <section className="panel" aria-label="Settings and headline numbers">
        <div className="stats">
          <Stat name="dataset" value={config.data.dataset} />
          <Stat name="model" value={config.model.arch === "mlp" ? `mlp ${config.model.widths.join("-")}` : config.model.arch} />
          <Stat name="training regime" value={config.training.regime} />
          <Stat name="pruning" value={config.pruning.method === "none" ? "none" : `${methodLabel(config)} × ${config.pruning.schedule === "one-shot" ? "one shot" : config.pruning.rounds}`} />
          <Stat name="verifier" value={verifying ? `${config.verification.mode}, ${config.verification.samples} samples` : "off"} />
          <Stat name={`standard accuracy${view.roundResults.length ? `, round ${view.roundResults.at(-1)!.round}` : ""}`} value={pct(view.roundResults.at(-1)?.standardAccuracy)} />
          <Stat
            name={best ? `best verified accuracy (round ${best.round}, ${(best.remainingRatio * 100).toPrecision(3)}% left)` : "best verified accuracy"}
            value={pct(best?.verifiedAccuracy)}
            testId="best-verified"
          />
        </div>
      </section>

      <div className={styles.cols2}>
        <section className="panel"><CertifiedChart curve={curve} verifying={verifying} filename={`${file}-certified-accuracy`} plannedRatio={plannedRatio(config)} /></section>
        <section className="panel"><StabilityTrendChart curve={curve} verifying={verifying} filename={`${file}-instability`} /></section>
      </div>

      <section className="panel" aria-labelledby="results-heading">
        <h2 id="results-heading">Results per round</h2>
        <ResultsTable view={view} runningRound={active ? view.round : null} />
        <ExportPanel run={run} view={view} bundleHref={readOnly ? undefined : bundleHref} ratios={ratios} />
      </section>

      {verifying && <AuditPanel runId={run.id} view={view} ratios={ratios} round={roundControl} token={shareToken} />}

      <div className={styles.cols2}>
        <section className="panel"><TrainingChart epochs={view.epochs} filename={`${file}-training`} ratios={ratios} /></section>
        <section className="panel" aria-labelledby="samples-heading">
          <h2 id="samples-heading">Verification samples</h2>
          <SampleGrid view={view} config={config} ratios={ratios} round={roundControl} />
        </section>
      </div>

      <section className="panel" aria-labelledby="stability-heading">
        <h2 id="stability-heading">Neuron stability</h2>
        <NeuronStability stability={view.stability} verifying={verifying} filename={`${file}-stability`} ratios={ratios} round={roundControl} layer={layerControl} />
      </section>

      <div className={styles.cols2}>
        <section className="panel" aria-labelledby="sparsity-heading">
          <h2 id="sparsity-heading">Per-layer sparsity</h2>
          <SparsityTable results={view.roundResults} ratios={ratios} round={roundControl} />
        </section>
        <section className="panel" aria-labelledby="log-heading">
          <h2 id="log-heading">Engine log</h2>
          <EngineLog logs={view.logs} />
        </section>
      </div>
    </div>
  );
}

/**
 * The independent audit (onnxruntime) of the selected round: clean accuracy recomputed on
 * the verification samples, every counterexample replayed; a mismatch is shown loudly. With
 * a link to the round's model in the inspector (through the share link on shared pages).
 */
function AuditPanel({ runId, view, ratios, round: control, token }: {
  runId: string;
  view: RunView;
  ratios: ReadonlyMap<number, number>;
  round: RoundControl;
  token?: string;
}) {
  const rounds = view.roundResults.filter((r) => r.samples > 0).map((r) => r.round);
  const [round] = useRoundChoice(rounds, null, control);
  const k = typeof round === "number" ? round : null;
  const inspectHref = k == null ? null : token ? `/share/${encodeURIComponent(token)}/inspect?${runQuery({ round: k })}` : `/runs/${runId}/inspect?${runQuery({ round: k })}`;
  return (
    <section className="panel" aria-labelledby="audit-heading" data-testid="audit-panel" data-round={k ?? undefined}>
      <div className={styles.sectionControls}>
        <h2 id="audit-heading" style={{ margin: 0 }}>Independent audit</h2>
        <RoundSelect label="Round" rounds={rounds} value={round} onChange={control.onChange} ratios={ratios} testId="audit-round" />
        <span className="spacer" />
        {inspectHref && <Link href={inspectHref} data-testid="inspect-link">Inspect round {k}&rsquo;s model →</Link>}
      </div>
      {k == null ? (
        <div className="empty">Each round is audited with a second runtime (onnxruntime) once it has finished verifying.</div>
      ) : (
        <AuditSummary runId={runId} round={k} token={token} />
      )}
    </section>
  );
}

/** Where the run's remaining ratio should end: (1 - rate)^rounds, or the one-shot target. */
function plannedRatio(config: RunConfig): number | null {
  const { method, schedule, targetRatio, rate, rounds } = config.pruning;
  if (method === "none" || rounds === 0) return null;
  if (schedule === "one-shot") return targetRatio;
  const structured = (STRUCTURED_METHODS as readonly string[]).includes(method);
  const kept = Math.pow(1 - (rate ?? (structured ? 0.11 : 0.2)), rounds);
  return structured ? kept * kept : kept; // a channel goes with its weights in and out
}

function Stat({ name, value, testId }: { name: string; value: string; testId?: string }) {
  return (
    <div className="stat">
      <div className="value" data-testid={testId}>{value}</div>
      <div className="name">{name}</div>
    </div>
  );
}

function CancelButton({ cancel }: { cancel: CancelControl }) {
  const [confirming, setConfirming] = useState(false);
  return (
    <span className={styles.cancel}>
      {cancel.error && <span className={styles.cancelError} role="alert">{cancel.error}</span>}
      {confirming ? (
        <>
          <span>Stop this run? Finished rounds are kept.</span>
          <button className="danger" onClick={() => { setConfirming(false); cancel.onCancel(); }} autoFocus>Yes, cancel the run</button>
          <button className="secondary" onClick={() => setConfirming(false)}>Keep running</button>
        </>
      ) : (
        <button className="danger" onClick={() => setConfirming(true)} disabled={cancel.pending}>
          {cancel.pending ? "Cancelling…" : "Cancel run"}
        </button>
      )}
    </span>
  );
}

function FailureNotice({ view, run, status }: { view: RunView; run: RunRecord; status: RunStatus }) {
  if (status === "cancelled") {
    return <div className={styles.notice} role="status">Cancelled{view.error ? `: ${view.error}` : ""}. Its finished rounds are below; launching the same settings again resumes it.</div>;
  }
  if (status !== "failed") return null;
  const failure = view.failure;
  return (
    <div className="alert" role="alert" data-testid="run-failure">
      <strong>Failed{failure?.phase ? ` while ${failure.phase === "train" ? "training" : `in phase “${failure.phase}”`}` : ""}:</strong>{" "}
      {failure?.reason ?? view.error ?? run.error ?? "the engine stopped without saying why"}
      {failure?.detail && (
        <details>
          <summary>Details from the engine</summary>
          <pre className={styles.detail}>{failure.detail}</pre>
        </details>
      )}
    </div>
  );
}

function ProgressLine({ view, config, status, connection }: { view: RunView; config: RunConfig; status: RunStatus; connection?: Connection }) {
  const progress = status === "finished" ? 1 : runViewProgress(view, config);
  const totalRounds = view.totalRounds;
  const roundEpochs = view.epochs.filter((e) => e.round === view.round);
  const lastEpoch = roundEpochs.at(-1);
  const roundDone = view.roundResults.some((r) => r.round === view.round);
  const verifying = config.verification.mode !== "none" && config.verification.samples > 0;
  const samplesDone = view.samples.filter((s) => s.round === view.round).length;
  const eta = runEta(view, config);
  const running = status === "running";

  let phase = "";
  if (running && totalRounds != null && !roundDone) {
    if (samplesDone > 0) phase = `verifying sample ${samplesDone} of ${config.verification.samples}`;
    else if (lastEpoch && lastEpoch.epoch >= lastEpoch.epochs) phase = verifying ? "evaluating, bounding and verifying" : "evaluating";
    else if (lastEpoch) phase = `epoch ${lastEpoch.epoch} of ${lastEpoch.epochs}`;
    else phase = "training the first epoch";
  }
  const where =
    totalRounds == null ? (status === "queued" ? "queued: waiting for a free engine slot" : running ? "waiting for the engine" : "")
    : totalRounds === 1 ? "dense network, no pruning"
    : `round ${view.round} of ${totalRounds - 1}`;
  return (
    <>
      <div className="row">
        <strong data-testid="progress-text">{Math.floor(progress * 100)}%</strong>
        <span data-testid="progress-where">{where}</span>
        {phase && <span className="muted" data-testid="progress-phase">· {phase}</span>}
        {eta && (
          <span className="muted" data-testid="eta" title="from the measured time per epoch, per verified sample and per round">
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
    </>
  );
}
