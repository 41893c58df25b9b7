"use client";
/**
 * Everything the run page shows, drawn from a run's record and its folded event view.
 * It does not fetch the run: RunPage feeds it live by id (SSE), and a shared link can feed
 * it the same view built from events fetched by token (runViewOf), read-only. The parts
 * live beside it: ProgressLine, SettingsPanel, RunActions, RunNotes, AuditPanel.
 */
import { useMemo, useState, type ReactNode } from "react";
import { ShareButton } from "@/components/share/ShareButton";
import type { RunConfig, RunStatus } from "@/lib/protocol";
import { defaultRate, STRUCTURED_METHODS, methodLabel } from "@/lib/protocol/names";
import { pct } from "@/lib/format";
import type { RunView } from "@/lib/run/fold";
import { bestRound, certifiedCurve } from "@/lib/run/selectors";
import { remainingText } from "@/lib/sparsity";
import { DEFAULT_RUN_STATE, type RunViewState } from "@/lib/viewState";
import { StatusBadge } from "../StatusBadge";
import { AuditPanel } from "./AuditPanel";
import { CertifiedChart } from "./CertifiedChart";
import { EngineLog } from "./EngineLog";
import { ExportPanel } from "./ExportPanel";
import { NeuronStability } from "./NeuronStability";
import { FailureNotice, ProgressLine, type Connection } from "./ProgressLine";
import { ResultsTable } from "./ResultsTable";
import { RunActions, type CancelControl } from "./RunActions";
import { RunNotes } from "./RunNotes";
import type { RoundChoice, RoundControl } from "./RoundSelect";
import { SampleGrid } from "./SampleGrid";
import { SettingsPanel } from "./SettingsPanel";
import { SparsityTable } from "./SparsityTable";
import { StabilityTrendChart } from "./StabilityTrendChart";
import { TrainingChart } from "./TrainingChart";
import styles from "./run.module.css";

export type { Connection, CancelControl };

/** The run's stored record (runs.get), or what a shared link carries of it. */
export interface RunRecord {
  id: string;
  label: string;
  status: RunStatus;
  config: RunConfig;
  error: string | null;
  /** The researcher's tags and notes (absent on shared pages made before they existed). */
  tags?: string[];
  notes?: string;
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
  /** The signed-in researcher owns the run: show retry, delete and the notes editor. */
  manage?: boolean;
  /** After a retry: the page resumes its event stream. */
  onRetried?: () => void;
  /** Shown under the progress bar while the run waits (its place in the queue). */
  queueSlot?: ReactNode;
}

export function RunDashboard({ run, view, connection, cancel, bundleHref, readOnly, initialState, onStateChange, shareToken, manage, onRetried, queueSlot }: RunDashboardProps) {
  const config = run.config;
  const status = view.status ?? run.status;
  const active = status === "queued" || status === "running";
  const uploaded = config.model.arch === "onnx";
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
        {!readOnly && (manage || cancel) && <RunActions runId={run.id} status={status} cancel={active ? cancel : undefined} onRetried={onRetried} uploaded={uploaded} />}
      </div>
      {(run.tags?.length || run.notes || (manage && !readOnly)) ? (
        <RunNotes key={`${run.label}|${run.tags?.join(",")}|${run.notes}`} runId={run.id} label={run.label} tags={run.tags ?? []} notes={run.notes ?? ""} editable={!!manage && !readOnly} />
      ) : null}
      <FailureNotice view={view} error={run.error} status={status} />

      <section className="panel" aria-label="Progress">
        <ProgressLine view={view} config={config} status={status} connection={connection} queueSlot={queueSlot} />
      </section>

      <section className="panel" aria-label="Settings and headline numbers">
        <div className="stats">
          <Stat name="dataset" value={config.data.dataset} />
          <Stat name="model" value={config.model.arch === "mlp" ? `mlp ${config.model.widths.join("-")}` : config.model.arch} />
          {uploaded ? (
            <Stat name="kind" value="uploaded model" testId="run-kind" />
          ) : (
            <>
              <Stat name="training regime" value={config.training.regime} />
              <Stat name="pruning" value={config.pruning.method === "none" ? "none" : `${methodLabel(config)} × ${config.pruning.schedule === "one-shot" ? "one shot" : config.pruning.rounds}`} />
            </>
          )}
          <Stat name="verifier" value={verifying ? `${config.verification.mode}, ${config.verification.samples} samples` : "off"} />
          <Stat name={`standard accuracy${view.roundResults.length ? `, round ${view.roundResults.at(-1)!.round}` : ""}`} value={pct(view.roundResults.at(-1)?.standardAccuracy)} />
          <Stat
            name={best ? (uploaded ? "verified accuracy" : `best verified accuracy (round ${best.round}, ${remainingText(best.remainingRatio)} of pruned layers left)`) : "best verified accuracy"}
            value={pct(best?.verifiedAccuracy)}
            testId="best-verified"
          />
        </div>
      </section>

      <SettingsPanel config={config} plan={view.plan} />

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
        <section className="panel">
          {uploaded ? (
            <><h2>Training</h2><div className="empty" data-testid="no-training">Not trained here: an uploaded model is verified as it is.</div></>
          ) : (
            <TrainingChart epochs={view.epochs} filename={`${file}-training`} ratios={ratios} />
          )}
        </section>
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

/** Where the run's remaining ratio should end: (1 - rate)^rounds, or the one-shot target. */
function plannedRatio(config: RunConfig): number | null {
  const { method, schedule, targetRatio, rate, rounds } = config.pruning;
  if (method === "none" || rounds === 0) return null;
  if (schedule === "one-shot") return targetRatio;
  const structured = (STRUCTURED_METHODS as readonly string[]).includes(method);
  const kept = Math.pow(1 - (rate ?? defaultRate(method) ?? 0), rounds);
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
