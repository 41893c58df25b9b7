/**
 * Comparing runs: runs whose settings differ only in their seed form one series (a
 * method on one dataset and regime); each pruning round of a series is the mean and
 * standard deviation across its seeds. Pure functions, shared by the compare page, the
 * shared comparison and the exports.
 */
import type { EventOf, RunConfig, RunStatus } from "./protocol";
import { methodLabel, METHOD_LABELS } from "./protocol/names";

/**
 * A round_finished event without its envelope, one row of a run's curve, with each
 * layer's remaining fraction of weights (name -> fraction) in place of the full layer
 * records: a comparison of many runs stays a small payload.
 */
export type RoundResult = Omit<EventOf<"round_finished">, "type" | "seq" | "time" | "layers"> & { layerRemaining: Record<string, number> };

/** Six significant digits: all a chart or table shows, and a third of the bytes of a double. */
const short = (x: number) => (Number.isInteger(x) ? x : Number(x.toPrecision(6)));

/** A stored round_finished event as a RoundResult (fractions and seconds to 6 significant digits). */
export function roundResultOf(event: EventOf<"round_finished">): RoundResult {
  const { type: _type, seq: _seq, time: _time, layers, ...result } = event;
  const layerRemaining: Record<string, number> = {};
  for (const l of layers) if (l.weights > 0) layerRemaining[l.name] = short(l.remainingWeights / l.weights);
  const rounded = Object.fromEntries(Object.entries(result).map(([k, v]) => [k, typeof v === "number" ? short(v) : v]));
  return { ...(rounded as typeof result), layerRemaining };
}

export const OUTCOMES = ["verified", "falsified", "unknown", "misclassified"] as const;
export type Outcome = (typeof OUTCOMES)[number];
export type OutcomeCounts = Record<Outcome, number>;

/** What results.compare returns for one run. */
export interface CompareRun {
  id: string;
  label: string;
  status: RunStatus;
  /** 0..1, as the overview shows it. */
  progress: number;
  sweepId: string | null;
  config: RunConfig;
  /** One per finished round, ascending. */
  rounds: RoundResult[];
  /** Outcome counts of the rounds still being verified, from the per-sample events. */
  sampleOutcomes: ({ round: number } & OutcomeCounts)[];
}

/** What results.compare returns (and a shared comparison shows). */
export interface CompareResult {
  runs: CompareRun[];
  /** Requested ids with no run (deleted, or never existed). */
  missing: string[];
}

export interface Stat {
  mean: number;
  /** Sample standard deviation across seeds (0 for a single seed). */
  std: number;
  n: number;
}

export interface SeriesPoint {
  round: number;
  /** Seeds that reached this round. */
  n: number;
  remainingRatio: Stat;
  remainingChannelRatio: Stat;
  standardAccuracy: Stat;
  adversarialAccuracy: Stat | null;
  verifiedAccuracy: Stat | null;
  meanVerifySeconds: Stat | null;
  unstableRatio: Stat | null;
  instability: Stat | null;
  /** Mean fraction of the verification samples with each outcome (null: nothing verified). */
  outcomes: OutcomeCounts | null;
  /** True when at least one seed is still verifying this round (outcomes are partial). */
  partial: boolean;
  /** Remaining fraction of each layer's weights. */
  layers: { name: string; remaining: Stat }[];
}

export interface Series {
  key: string;
  label: string;
  color: string;
  runIds: string[];
  seeds: number[];
  config: RunConfig;
  points: SeriesPoint[];
  /** Round 0, the dense network, when it has finished. */
  dense: SeriesPoint | null;
  /** The round with the highest mean verified accuracy (ties: the sparser one). */
  best: SeriesPoint | null;
}

export function stat(values: (number | null | undefined)[]): Stat | null {
  const xs = values.filter((v): v is number => typeof v === "number" && Number.isFinite(v));
  if (xs.length === 0) return null;
  const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
  const variance = xs.length > 1 ? xs.reduce((a, b) => a + (b - mean) ** 2, 0) / (xs.length - 1) : 0;
  return { mean, std: Math.sqrt(variance), n: xs.length };
}

// ------------------------------------------------------------------ settings

type Flat = Record<string, unknown>;

/** A configuration as dotted paths -> values, e.g. { "training.epochs": 200, ... }. */
export function flattenConfig(config: unknown, prefix = ""): Flat {
  const out: Flat = {};
  if (config && typeof config === "object" && !Array.isArray(config)) {
    for (const [key, value] of Object.entries(config as Record<string, unknown>)) {
      const path = prefix ? `${prefix}.${key}` : key;
      if (value && typeof value === "object" && !Array.isArray(value)) Object.assign(out, flattenConfig(value, path));
      else out[path] = value;
    }
  }
  return out;
}

export function formatSetting(value: unknown): string {
  if (value === null || value === undefined) return "default";
  if (Array.isArray(value)) return value.join(", ");
  if (typeof value === "number") return Number.isInteger(value) ? String(value) : String(Number(value.toPrecision(6)));
  return String(value);
}

export interface SettingRow {
  path: string;
  values: string[];
  differs: boolean;
}

/** Every setting of the given configurations, side by side; `differs` when they disagree. */
export function settingsTable(configs: RunConfig[]): SettingRow[] {
  const flats = configs.map((c) => flattenConfig(c));
  const paths = [...new Set(flats.flatMap((f) => Object.keys(f)))];
  return paths.map((path) => {
    const values = flats.map((f) => formatSetting(f[path]));
    return { path, values, differs: new Set(values).size > 1 };
  });
}

/** A key that is equal for runs that differ only in their seed (or device). */
export function seriesKeyOf(config: RunConfig): string {
  const flat = flattenConfig(config);
  delete flat.seed;
  delete flat.device;
  return JSON.stringify(Object.keys(flat).sort().map((k) => [k, flat[k]]));
}

// ------------------------------------------------------------------ colours

/** One colour per method, in METHOD_LABELS order, so a method looks the same on every view. */
const PALETTE = [
  "#6b7280", "#9ca3af", "#2f6fde", "#0f9d9a", "#a855f7", "#e07b00",
  "#d6336c", "#1a7f37", "#7c3aed", "#b45309", "#0e7490", "#be123c",
];
const METHOD_ORDER = Object.keys(METHOD_LABELS);
const EXTRA = ["#4338ca", "#15803d", "#c2410c", "#0369a1", "#86198f", "#854d0e"];

export function methodColor(label: string, index = 0): string {
  const i = METHOD_ORDER.indexOf(label);
  return i >= 0 ? PALETTE[i % PALETTE.length] : EXTRA[index % EXTRA.length];
}

// ------------------------------------------------------------------ aggregation

function outcomeFractions(run: CompareRun, round: number): { outcomes: OutcomeCounts; partial: boolean } | null {
  const finished = run.rounds.find((r) => r.round === round);
  const live = run.sampleOutcomes.find((o) => o.round === round);
  const counts: OutcomeCounts | null = live
    ? { verified: live.verified, falsified: live.falsified, unknown: live.unknown, misclassified: live.misclassified }
    : finished
      ? { verified: finished.verified, falsified: finished.falsified, unknown: finished.unknown, misclassified: finished.misclassified }
      : null;
  if (!counts) return null;
  const planned = finished?.samples ?? run.config.verification.samples;
  const total = Math.max(planned, OUTCOMES.reduce((a, o) => a + counts[o], 0));
  if (total === 0) return null;
  const outcomes = Object.fromEntries(OUTCOMES.map((o) => [o, counts[o] / total])) as OutcomeCounts;
  return { outcomes, partial: !finished };
}

function pointOf(round: number, runs: CompareRun[]): SeriesPoint | null {
  const results = runs.map((r) => r.rounds.find((x) => x.round === round)).filter((r): r is RoundResult => !!r);
  const outcomeList = runs.map((r) => outcomeFractions(r, round)).filter((o) => o !== null);
  if (results.length === 0 && outcomeList.length === 0) return null;
  const layerNames = [...new Set(results.flatMap((r) => Object.keys(r.layerRemaining)))];
  const outcomes = outcomeList.length
    ? (Object.fromEntries(OUTCOMES.map((o) => [o, stat(outcomeList.map((x) => x.outcomes[o]))!.mean])) as OutcomeCounts)
    : null;
  const fallback: Stat = { mean: NaN, std: 0, n: 0 };
  return {
    round,
    n: results.length,
    remainingRatio: stat(results.map((r) => r.remainingRatio)) ?? fallback,
    remainingChannelRatio: stat(results.map((r) => r.remainingChannelRatio)) ?? fallback,
    standardAccuracy: stat(results.map((r) => r.standardAccuracy)) ?? fallback,
    adversarialAccuracy: stat(results.map((r) => r.adversarialAccuracy)),
    verifiedAccuracy: stat(results.map((r) => r.verifiedAccuracy)),
    meanVerifySeconds: stat(results.map((r) => r.meanVerifySeconds)),
    unstableRatio: stat(results.map((r) => r.unstableRatio)),
    instability: stat(results.map((r) => r.instability)),
    outcomes,
    partial: outcomeList.some((o) => o.partial),
    layers: layerNames.map((name) => ({
      name,
      remaining: stat(results.map((r) => r.layerRemaining[name])) ?? fallback,
    })),
  };
}

/** The best round: highest mean verified accuracy; ties go to the sparser network. */
export function bestPoint(points: SeriesPoint[]): SeriesPoint | null {
  let best: SeriesPoint | null = null;
  for (const p of points) {
    if (p.n === 0 || !p.verifiedAccuracy) continue;
    if (
      !best ||
      p.verifiedAccuracy.mean > best.verifiedAccuracy!.mean ||
      (p.verifiedAccuracy.mean === best.verifiedAccuracy!.mean && p.remainingRatio.mean < best.remainingRatio.mean)
    ) best = p;
  }
  return best;
}

/** Groups runs into series (equal settings but the seed) and aggregates each round across seeds. */
export function aggregateSeries(runs: CompareRun[]): Series[] {
  const groups = new Map<string, CompareRun[]>();
  for (const run of runs) {
    const key = seriesKeyOf(run.config);
    groups.set(key, [...(groups.get(key) ?? []), run]);
  }
  const series: Series[] = [...groups.entries()].map(([key, members]) => {
    const rounds = [...new Set(members.flatMap((m) => [...m.rounds.map((r) => r.round), ...m.sampleOutcomes.map((o) => o.round)]))].sort((a, b) => a - b);
    const points = rounds.map((k) => pointOf(k, members)).filter((p): p is SeriesPoint => p !== null);
    const finishedPoints = points.filter((p) => p.n > 0);
    return {
      key,
      label: methodLabel(members[0].config),
      color: "",
      runIds: members.map((m) => m.id),
      seeds: members.map((m) => m.config.seed).sort((a, b) => a - b),
      config: members[0].config,
      points,
      dense: finishedPoints.find((p) => p.round === 0) ?? null,
      best: bestPoint(finishedPoints),
    };
  });
  disambiguateLabels(series);
  series.sort((a, b) => orderOf(a.label) - orderOf(b.label) || a.label.localeCompare(b.label));
  series.forEach((s, i) => (s.color = methodColor(s.label.split(" (")[0], i)));
  return series;
}

function orderOf(label: string): number {
  const i = METHOD_ORDER.indexOf(label.split(" (")[0]);
  return i < 0 ? METHOD_ORDER.length : i;
}

/** Series that share a method label get the settings that tell them apart, e.g. "IMP (epochs 2)". */
function disambiguateLabels(series: Series[]): void {
  const byLabel = new Map<string, Series[]>();
  for (const s of series) byLabel.set(s.label, [...(byLabel.get(s.label) ?? []), s]);
  for (const [label, same] of byLabel) {
    if (same.length < 2) continue;
    const rows = settingsTable(same.map((s) => s.config)).filter((r) => r.differs && r.path !== "seed" && r.path !== "device");
    same.forEach((s, i) => {
      const parts = rows.slice(0, 3).map((r) => `${r.path.split(".").pop()} ${r.values[i]}`);
      s.label = parts.length ? `${label} (${parts.join(", ")})` : `${label} (${i + 1})`;
    });
  }
}

// ------------------------------------------------------------------ Table I

export interface TableRow {
  label: string;
  color: string;
  seeds: number;
  best: SeriesPoint;
  dense: SeriesPoint | null;
  /** best minus dense, in the metric's own unit (fractions; seconds). */
  change: { standard: number | null; adversarial: number | null; verified: number | null; seconds: number | null };
}

const diff = (a: Stat | null | undefined, b: Stat | null | undefined) => (a && b ? a.mean - b.mean : null);

/** The paper's Table I: the best round of each series, with its change against round 0. */
export function tableRows(series: Series[]): TableRow[] {
  return series
    .filter((s) => s.best || s.points.some((p) => p.n > 0))
    .map((s) => {
      const best = s.best ?? s.points.filter((p) => p.n > 0).at(-1)!;
      return {
        label: s.label,
        color: s.color,
        seeds: s.seeds.length,
        best,
        dense: s.dense,
        change: {
          standard: diff(best.standardAccuracy, s.dense?.standardAccuracy),
          adversarial: diff(best.adversarialAccuracy, s.dense?.adversarialAccuracy),
          verified: diff(best.verifiedAccuracy, s.dense?.verifiedAccuracy),
          seconds: diff(best.meanVerifySeconds, s.dense?.meanVerifySeconds),
        },
      };
    });
}

// ------------------------------------------------------------------ exports

const num = (x: number | null | undefined, digits = 4) => (x == null || !Number.isFinite(x) ? "" : String(Number(x.toFixed(digits))));

/** Per-round results of every series, one row per (series, round): what the charts draw. */
export function roundsRecords(series: Series[]): Record<string, string | number>[] {
  return series.flatMap((s) =>
    s.points.filter((p) => p.n > 0).map((p) => ({
      series: s.label,
      runs: s.runIds.join(" "),
      seeds: p.n,
      round: p.round,
      remainingRatio: num(p.remainingRatio.mean, 6),
      remainingChannelRatio: num(p.remainingChannelRatio.mean, 6),
      standardAccuracy: num(p.standardAccuracy.mean),
      standardAccuracyStd: num(p.standardAccuracy.std),
      adversarialAccuracy: num(p.adversarialAccuracy?.mean),
      adversarialAccuracyStd: num(p.adversarialAccuracy?.std),
      verifiedAccuracy: num(p.verifiedAccuracy?.mean),
      verifiedAccuracyStd: num(p.verifiedAccuracy?.std),
      meanVerifySeconds: num(p.meanVerifySeconds?.mean),
      unstableRatio: num(p.unstableRatio?.mean),
      verified: num(p.outcomes?.verified),
      falsified: num(p.outcomes?.falsified),
      unknown: num(p.outcomes?.unknown),
      misclassified: num(p.outcomes?.misclassified),
    })),
  );
}

/** Table I as records (fractions and seconds; changes against the dense round). */
export function tableRecords(rows: TableRow[]): Record<string, string | number>[] {
  return rows.map((r) => ({
    series: r.label,
    seeds: r.seeds,
    bestRound: r.best.round,
    remainingRatio: num(r.best.remainingRatio.mean, 6),
    standardAccuracy: num(r.best.standardAccuracy.mean),
    standardChange: num(r.change.standard),
    adversarialAccuracy: num(r.best.adversarialAccuracy?.mean),
    adversarialChange: num(r.change.adversarial),
    verifiedAccuracy: num(r.best.verifiedAccuracy?.mean),
    verifiedAccuracyStd: num(r.best.verifiedAccuracy?.std),
    verifiedChange: num(r.change.verified),
    meanVerifySeconds: num(r.best.meanVerifySeconds?.mean),
    secondsChange: num(r.change.seconds),
  }));
}
