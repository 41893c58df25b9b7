/**
 * Comparing runs: runs whose settings differ only in their seed form one series (a
 * method on one dataset and regime); each pruning round of a series is the mean and
 * standard deviation across its seeds. Pure functions, shared by the compare page, the
 * shared comparison and the exports.
 */
import type { RunConfig } from "../protocol";
import { methodLabel, METHOD_LABELS } from "../protocol/names";
import { OUTCOMES, type CompareRun, type OutcomeCounts, type RoundResult } from "./api";
import { seriesKeyOf, settingsTable } from "./settings";

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
