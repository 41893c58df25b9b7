/**
 * A run's event stream folded into what its page draws, and the pure selectors and
 * exports built on it. Pure: the same events always give the same view, whether they
 * arrive live, are replayed after a reload, or are fetched whole for a shared link.
 *
 *   let view = emptyRunView;
 *   view = foldRunEvents(view, [{ id: 1, event }, ...]);   // or runViewOf(storedEvents)
 *   certifiedCurve(view); sampleGrid(view, config, 2); roundsCsv(view); runEta(view, config)
 */
import type { EventOf, RunConfig, RunEvent, RunStatus, SampleStatus } from "./protocol";
import { plannedRounds, progressOf } from "./runProgress";

export type Epoch = EventOf<"epoch">;
export type RoundResult = EventOf<"round_finished">;
export type SampleResult = EventOf<"sample_verified">;
export type Stability = EventOf<"stability">;
export type StabilityLayer = Stability["layers"][number];
export type Artifact = Pick<EventOf<"artifact">, "round" | "kind" | "path" | "bytes">;

export interface RunView {
  lastEventId: number;
  status: RunStatus | null;
  error: string | null;
  config: RunConfig | null;
  device: string | null;
  /** The round the engine is on (its last round_started, or a later round_finished). */
  round: number;
  totalRounds: number | null;
  /** The last round_started of each round, by round. */
  roundStarts: EventOf<"round_started">[];
  epochs: Epoch[];
  roundResults: RoundResult[];
  samples: SampleResult[];
  stability: Stability[];
  /** The last artifact event per path. */
  artifacts: Artifact[];
  logs: { time: string; level: string; message: string }[];
  finished: EventOf<"finished"> | null;
  failure: EventOf<"failed"> | null;
}

export const emptyRunView: RunView = {
  lastEventId: 0,
  status: null,
  error: null,
  config: null,
  device: null,
  round: 0,
  totalRounds: null,
  roundStarts: [],
  epochs: [],
  roundResults: [],
  samples: [],
  stability: [],
  artifacts: [],
  logs: [],
  finished: null,
  failure: null,
};

const MAX_LOG_LINES = 500;

export interface StoredRunEvent {
  id: number;
  event: RunEvent;
}

/** Applies one stored event; events at or below lastEventId are ignored (replays). */
export function foldRunView(view: RunView, id: number, event: RunEvent): RunView {
  return foldRunEvents(view, [{ id, event }]);
}

/** A run's whole stored stream (e.g. fetched for a shared link) as a view. */
export function runViewOf(events: readonly StoredRunEvent[]): RunView {
  return foldRunEvents(emptyRunView, events);
}

/**
 * Applies a batch of stored events in order. The arrays are copied once per batch, not
 * once per event, so replaying a long run's thousands of events stays linear-ish.
 */
export function foldRunEvents(view: RunView, batch: readonly StoredRunEvent[]): RunView {
  const fresh = batch.filter((b, i) => b.id > view.lastEventId && (i === 0 || b.id > batch[i - 1].id));
  if (fresh.length === 0) return view;
  const next: RunView = {
    ...view,
    roundStarts: [...view.roundStarts],
    epochs: [...view.epochs],
    roundResults: [...view.roundResults],
    samples: [...view.samples],
    stability: [...view.stability],
    artifacts: [...view.artifacts],
    logs: [...view.logs],
  };
  for (const { id, event } of fresh) {
    next.lastEventId = id;
    apply(next, event);
  }
  if (next.logs.length > MAX_LOG_LINES) next.logs = next.logs.slice(-MAX_LOG_LINES);
  return next;
}

/** Mutates the draft `v` (a fresh copy made by foldRunEvents). */
function apply(v: RunView, event: RunEvent): void {
  switch (event.type) {
    case "status":
      v.status = event.status;
      v.error = event.error;
      // A failed or cancelled run launched again resumes: its old failure no longer applies.
      if (event.status === "queued" || event.status === "running") v.failure = null;
      return;
    case "started":
      v.config = event.config as unknown as RunConfig;
      v.device = event.device;
      return;
    case "round_started":
      // A resumed run repeats a round: drop what the interrupted attempt reported for it.
      v.round = event.round;
      v.totalRounds = event.rounds;
      v.roundStarts = [...v.roundStarts.filter((r) => r.round !== event.round), event].sort((a, b) => a.round - b.round);
      v.epochs = v.epochs.filter((e) => e.round < event.round);
      v.samples = v.samples.filter((s) => s.round !== event.round);
      return;
    case "epoch": {
      const last = v.epochs.at(-1);
      if (last && (last.round > event.round || (last.round === event.round && last.epoch >= event.epoch))) {
        v.epochs = v.epochs.filter((e) => !(e.round > event.round || (e.round === event.round && e.epoch >= event.epoch)));
      }
      v.epochs.push(event);
      return;
    }
    case "sample_verified": {
      const at = v.samples.findIndex((s) => s.round === event.round && s.index === event.index);
      if (at >= 0) v.samples.splice(at, 1);
      v.samples.push(event);
      return;
    }
    case "stability":
      v.stability = [...v.stability.filter((s) => s.round !== event.round), event].sort((a, b) => a.round - b.round);
      return;
    case "round_finished":
      v.roundResults = [...v.roundResults.filter((r) => r.round !== event.round), event].sort((a, b) => a.round - b.round);
      // A resumed run replays finished rounds without their round_started.
      if (event.round >= v.round) v.round = event.round;
      return;
    case "artifact": {
      const { round, kind, path, bytes } = event;
      v.artifacts = [...v.artifacts.filter((a) => a.path !== path), { round, kind, path, bytes }];
      return;
    }
    case "log":
      v.logs.push({ time: event.time, level: event.level, message: event.message });
      return;
    case "failed":
      v.failure = event;
      v.logs.push({ time: event.time, level: "error", message: event.reason });
      return;
    case "finished":
      v.finished = event;
      return;
  }
}

// ------------------------------------------------------------------ progress and ETA

export function runViewProgress(view: RunView, config: RunConfig): number {
  if (view.status === "finished") return 1;
  const roundDone = view.roundResults.some((r) => r.round === view.round);
  const last = view.epochs.at(-1);
  return progressOf(config, {
    round: roundDone ? view.round + 1 : view.round,
    rounds: view.totalRounds ?? undefined,
    epoch: roundDone ? 0 : last && last.round === view.round ? last.epoch : 0,
    samplesVerified: roundDone ? 0 : view.samples.filter((s) => s.round === view.round).length,
  });
}

const mean = (xs: number[]) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : null);
const RECENT = 20;

export interface MeasuredRates {
  /** Mean seconds per epoch over the last 20 epochs (null before the first). */
  epochSeconds: number | null;
  /** Mean seconds per verified sample over the last 20 samples (null before the first). */
  sampleSeconds: number | null;
  /** Mean seconds per finished round spent outside epochs and samples (evaluation, bounds, pruning). */
  roundOverheadSeconds: number | null;
}

export function measuredRates(view: RunView): MeasuredRates {
  const overheads = view.roundResults.map((r) => {
    const training = view.epochs.filter((e) => e.round === r.round).reduce((a, e) => a + e.seconds, 0);
    const verifying = view.samples.filter((s) => s.round === r.round).reduce((a, s) => a + s.seconds, 0);
    return Math.max(0, r.seconds - training - verifying);
  });
  return {
    epochSeconds: mean(view.epochs.slice(-RECENT).map((e) => e.seconds)),
    sampleSeconds: mean(view.samples.slice(-RECENT).map((s) => s.seconds)),
    roundOverheadSeconds: mean(overheads),
  };
}

export interface RunEta {
  seconds: number;
  /** Some remaining work has no measured rate yet (e.g. no sample verified): seconds is a lower bound. */
  lowerBound: boolean;
}

/**
 * Seconds left, from the measured epoch and sample rates: the rest of this round plus
 * every round still to come. Null when the run is not running or nothing is measured yet.
 */
export function runEta(view: RunView, config: RunConfig): RunEta | null {
  if (view.status !== "running") return null;
  const rates = measuredRates(view);
  if (rates.epochSeconds == null) return null;
  const rounds = view.totalRounds ?? plannedRounds(config);
  const epochs = config.training.epochs;
  const samples = config.verification.mode === "none" ? 0 : config.verification.samples;
  const roundDone = view.roundResults.some((r) => r.round === view.round);
  const lastEpoch = view.epochs.filter((e) => e.round === view.round).at(-1)?.epoch ?? 0;
  const samplesDone = view.samples.filter((s) => s.round === view.round).length;
  const later = Math.max(0, rounds - view.round - 1);
  const epochsLeft = (roundDone ? 0 : epochs - lastEpoch) + later * epochs;
  const samplesLeft = (roundDone ? 0 : samples - samplesDone) + later * samples;
  const overheadRounds = (roundDone ? 0 : 1) + later;
  let lowerBound = false;
  let seconds = epochsLeft * rates.epochSeconds;
  if (samplesLeft > 0) {
    if (rates.sampleSeconds == null) lowerBound = true;
    else seconds += samplesLeft * rates.sampleSeconds;
  }
  if (overheadRounds > 0) {
    if (rates.roundOverheadSeconds == null) lowerBound = true;
    else seconds += overheadRounds * rates.roundOverheadSeconds;
  }
  return { seconds: Math.max(0, seconds), lowerBound };
}

/** "45 s", "12 min", "3 h 05 min". */
export function formatDuration(seconds: number): string {
  if (seconds < 90) return `${Math.round(seconds)} s`;
  const minutes = Math.round(seconds / 60);
  if (minutes < 90) return `${minutes} min`;
  return `${Math.floor(minutes / 60)} h ${String(minutes % 60).padStart(2, "0")} min`;
}

// ------------------------------------------------------------------ selectors

/** Percent with one decimal, or an en dash for a missing value: how the page shows fractions. */
export const pct = (x: number | null | undefined) => (x == null ? "–" : `${(x * 100).toFixed(1)}%`);
export const secs = (x: number | null | undefined) => (x == null ? "–" : `${x.toFixed(2)} s`);
export const num = (x: number | null | undefined, digits = 3) => (x == null ? "–" : x.toFixed(digits));

export interface RoundRow {
  round: number;
  remainingRatio: number;
  remainingChannelRatio: number;
  channels: number;
  remainingChannels: number;
  standardAccuracy: number;
  adversarialAccuracy: number | null;
  verifiedAccuracy: number | null;
  verified: number;
  falsified: number;
  unknown: number;
  misclassified: number;
  samples: number;
  meanVerifySeconds: number | null;
  unstableRatio: number | null;
  instability: number | null;
  seconds: number;
}

/** One row per finished round: the results table, the curves and the round exports. */
export function roundRows(view: RunView): RoundRow[] {
  return view.roundResults.map((r) => ({
    round: r.round,
    remainingRatio: r.remainingRatio,
    remainingChannelRatio: r.remainingChannelRatio,
    channels: r.layers.filter((l) => l.kind === "conv").reduce((a, l) => a + l.channels, 0),
    remainingChannels: r.layers.filter((l) => l.kind === "conv").reduce((a, l) => a + l.remainingChannels, 0),
    standardAccuracy: r.standardAccuracy,
    adversarialAccuracy: r.adversarialAccuracy,
    verifiedAccuracy: r.verifiedAccuracy,
    verified: r.verified,
    falsified: r.falsified,
    unknown: r.unknown,
    misclassified: r.misclassified,
    samples: r.samples,
    meanVerifySeconds: r.meanVerifySeconds,
    unstableRatio: r.unstableRatio,
    instability: r.instability,
    seconds: r.seconds,
  }));
}

/** The best finished round by verified accuracy (earliest on ties), or null. */
export function bestRound(view: RunView): RoundResult | null {
  let best: RoundResult | null = null;
  for (const r of view.roundResults) {
    if (r.verifiedAccuracy != null && (best?.verifiedAccuracy == null || r.verifiedAccuracy > best.verifiedAccuracy)) best = r;
  }
  return best;
}

/** Rounds, ascending, that have at least one epoch / sample / stability event / finished result. */
export function roundsWith(view: RunView, what: "epochs" | "samples" | "stability" | "results"): number[] {
  const source: { round: number }[] =
    what === "epochs" ? view.epochs : what === "samples" ? view.samples : what === "stability" ? view.stability : view.roundResults;
  return [...new Set(source.map((x) => x.round))].sort((a, b) => a - b);
}

export interface SampleCell {
  index: number;
  /** null: not verified yet in this round. */
  result: SampleResult | null;
}

/**
 * The verification samples of a round, one cell per sample in index order: those
 * verified so far, then (while the round is running) the ones still to come.
 */
export function sampleGrid(view: RunView, config: RunConfig | null, round: number): SampleCell[] {
  const results = view.samples.filter((s) => s.round === round);
  const byIndex = new Map(results.map((s) => [s.index, s]));
  const finished = view.roundResults.find((r) => r.round === round);
  const planned = config && config.verification.mode !== "none" ? config.verification.samples : 0;
  const count = Math.max(finished ? finished.samples : planned, ...results.map((s) => s.index + 1), 0);
  return Array.from({ length: count }, (_, index) => ({ index, result: byIndex.get(index) ?? null }));
}

export function sampleCounts(cells: readonly SampleCell[]): Record<SampleStatus | "pending", number> {
  const counts = { verified: 0, falsified: 0, unknown: 0, misclassified: 0, pending: 0 };
  for (const c of cells) counts[c.result ? c.result.status : "pending"] += 1;
  return counts;
}

export interface CurvePoint {
  round: number;
  remainingRatio: number;
  verifiedAccuracy: number | null;
  standardAccuracy: number;
  adversarialAccuracy: number | null;
  unstableRatio: number | null;
  instability: number | null;
  meanVerifySeconds: number | null;
}

/** Certified accuracy (and friends) against the remaining ratio, one point per finished round. */
export function certifiedCurve(view: RunView): CurvePoint[] {
  return view.roundResults.map((r) => ({
    round: r.round,
    remainingRatio: r.remainingRatio,
    verifiedAccuracy: r.verifiedAccuracy,
    standardAccuracy: r.standardAccuracy,
    adversarialAccuracy: r.adversarialAccuracy,
    unstableRatio: r.unstableRatio,
    instability: r.instability,
    meanVerifySeconds: r.meanVerifySeconds,
  }));
}

export interface HistogramBin {
  from: number;
  to: number;
  count: number;
}

/** A histogram's edges (n + 1) and counts (n) as bins. */
export function histogramBins(h: { edges: number[]; counts: number[] }): HistogramBin[] {
  return h.counts.map((count, i) => ({ from: h.edges[i] ?? 0, to: h.edges[i + 1] ?? h.edges[i] ?? 0, count }));
}

// ------------------------------------------------------------------ exports

const ROUND_COLUMNS: (keyof RoundRow)[] = [
  "round", "remainingRatio", "remainingChannelRatio", "channels", "remainingChannels", "standardAccuracy",
  "adversarialAccuracy", "verifiedAccuracy", "verified", "falsified", "unknown", "misclassified", "samples",
  "meanVerifySeconds", "unstableRatio", "instability", "seconds",
];
const SAMPLE_COLUMNS: (keyof SampleResult)[] = [
  "round", "index", "label", "predicted", "status", "decidedBy", "seconds", "marginLower", "domains",
];

function csvCell(value: unknown): string {
  if (value == null) return "";
  const text = String(value);
  return /[",\n\r]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

function toCsv<T>(columns: (keyof T)[], rows: readonly T[]): string {
  const lines = [columns.join(","), ...rows.map((row) => columns.map((c) => csvCell(row[c])).join(","))];
  return lines.join("\n") + "\n";
}

/** Per-round results as CSV (fractions in [0, 1], seconds; an empty cell is a missing value). */
export function roundsCsv(view: RunView): string {
  return toCsv(ROUND_COLUMNS, roundRows(view));
}

/** Every verified sample of every round as CSV, by round then index. */
export function samplesCsv(view: RunView): string {
  return toCsv(SAMPLE_COLUMNS, sortedSamples(view));
}

function sortedSamples(view: RunView): SampleResult[] {
  return [...view.samples].sort((a, b) => a.round - b.round || a.index - b.index);
}

/** The run's results as one JSON document: settings, per-round rows with layers, per-sample outcomes. */
export function resultsJson(view: RunView, run: { id: string; label: string; config: RunConfig }): string {
  const best = bestRound(view);
  const document = {
    runId: run.id,
    label: run.label,
    status: view.status,
    config: run.config,
    bestRound: best?.round ?? null,
    bestVerifiedAccuracy: best?.verifiedAccuracy ?? null,
    rounds: roundRows(view).map((row, i) => ({
      ...row,
      layers: view.roundResults[i].layers,
      // Per-layer stable/unstable counts; the bound histograms stay on the page.
      stability: view.stability.find((s) => s.round === row.round)?.layers.map(({ histograms: _h, ...layer }) => layer) ?? null,
    })),
    samples: sortedSamples(view).map((s) => Object.fromEntries(SAMPLE_COLUMNS.map((c) => [c, s[c]]))),
  };
  return JSON.stringify(document, null, 2) + "\n";
}
