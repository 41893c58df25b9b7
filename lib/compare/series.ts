/**
 * Comparing runs: runs whose settings differ only in their seed form one series (a
 * method on one dataset and regime); each pruning round of a series is the mean and
 * standard deviation across its seeds, with a 95% interval: of the mean across seeds
 * (t) when there are several, of the one run's count (Wilson) when there is one. The
 * best round is the engine's (per run, from results.compare), never picked here. Pure
 * functions, shared by the compare page, the shared comparison and the exports.
 */
import { accuracyInterval, evaluationImages } from "../accuracy";
import type { RunConfig } from "../protocol";
import { methodLabel, METHOD_LABELS } from "../protocol/names";
import { remainingOf } from "../sparsity";
import { type Interval, meanInterval, wilson } from "../stats";
import { OUTCOMES, type CompareRun, type OutcomeCounts, type RoundResult } from "./api";
import { seriesKeyOf, settingsTable } from "./settings";

export interface Stat {
  mean: number;
  /** Sample standard deviation across seeds (0 for a single seed). */
  std: number;
  n: number;
  /** 95% interval: of the mean across seeds (ciKind "t"), or Wilson of the count at one run's n (see stat); null when unknown. */
  ci?: Interval | null;
  ciKind?: "t" | "wilson" | null;
}

/** One run's best round as the engine decided it. */
export interface SeedBest {
  runId: string;
  seed: number;
  round: number;
  source: "engine" | "summary";
  /** Rounds within noise of the best (null: not recorded by this run's engine). */
  indistinguishable: number[] | null;
}

export interface SeriesPoint {
  round: number;
  /** Seeds that reached this round. */
  n: number;
  remainingRatio: Stat;
  remainingChannelRatio: Stat;
  /** Remaining fraction of all weights / of the pruned layers' channels (null: not recorded). */
  remainingAll: Stat | null;
  remainingChannels: Stat | null;
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
  /**
   * The engine's best round: when every seed's best is the same round, that round's point;
   * otherwise each seed at its own best round, aggregated (`bestMixed`), with `round` the
   * most common one. Null when no run has a best round yet.
   */
  best: SeriesPoint | null;
  /** Each run's best round (engine's, or its summary's while running). */
  bestRounds: SeedBest[];
  bestMixed: boolean;
  /** The engine's rule in words (null: not stated by these runs' engine). */
  bestRule: string | null;
}

/**
 * Mean, sample std and a 95% interval across seeds. `count(mean)`, when the statistic is
 * a count out of n (accuracies), gives the Wilson interval of that count at one run's n:
 * with one seed it is the interval; with several, the interval is the wider of the
 * t-interval of the mean and it (ciKind says which), since the seeds verify the same
 * images, their spread alone misses the sampling of those images (two seeds that agree
 * would give a t-interval of width 0).
 */
export function stat(values: (number | null | undefined)[], count?: (mean: number) => Interval | null): Stat | null {
  const xs = values.filter((v): v is number => typeof v === "number" && Number.isFinite(v));
  const m = meanInterval(xs);
  if (!m) return null;
  const binomial = count?.(m.mean) ?? null;
  if (m.n === 1) return { mean: m.mean, std: 0, n: 1, ci: binomial, ciKind: binomial ? "wilson" : null };
  // A fraction's interval stays within [0, 1].
  const t = count ? { lo: Math.max(0, m.ci!.lo), hi: Math.min(1, m.ci!.hi) } : m.ci!;
  if (binomial && binomial.hi - binomial.lo > t.hi - t.lo) return { mean: m.mean, std: m.std, n: m.n, ci: binomial, ciKind: "wilson" };
  return { mean: m.mean, std: m.std, n: m.n, ci: t, ciKind: "t" };
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

/**
 * The method's colour for the first series of each method; a further series of the same
 * method (another regime, other epochs) takes the next colour no series uses yet, so two
 * curves on one chart never share a colour.
 */
function assignColors(series: Series[]): void {
  const used = new Set<string>();
  let extra = 0;
  series.forEach((s, i) => {
    let color = methodColor(s.label.split(" (")[0], i);
    while (used.has(color) && extra < EXTRA.length + PALETTE.length) {
      const pool = [...EXTRA, ...PALETTE];
      color = pool[extra++ % pool.length];
    }
    used.add(color);
    s.color = color;
  });
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

/** Each run's result at `round` (or at its own round in `pick`, by run id). */
function pointOf(round: number, runs: CompareRun[], pick?: Map<string, number>): SeriesPoint | null {
  const roundOf = (r: CompareRun) => pick?.get(r.id) ?? round;
  const members = runs.filter((r) => !pick || pick.has(r.id));
  const pairs = members.map((run) => ({ run, result: run.rounds.find((x) => x.round === roundOf(run)) })).filter((x): x is { run: CompareRun; result: RoundResult } => !!x.result);
  const results = pairs.map((x) => x.result);
  const outcomeList = members.map((r) => outcomeFractions(r, roundOf(r))).filter((o) => o !== null);
  const images = evaluationImages(pairs[0]?.run.config);
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
    remainingAll: recorded(results, "all"),
    remainingChannels: recorded(results, "channels"),
    standardAccuracy: stat(results.map((r) => r.standardAccuracy), (mean) => accuracyInterval(mean, images)) ?? fallback,
    adversarialAccuracy: stat(results.map((r) => r.adversarialAccuracy), (mean) => accuracyInterval(mean, images)),
    verifiedAccuracy: stat(results.map((r) => r.verifiedAccuracy), (mean) => (results.length === 1 ? wilson(results[0].verified, results[0].samples) : accuracyInterval(mean, Math.min(...results.map((r) => r.samples))))),
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

/** A sparsity basis other than the scope, only when every run at this round recorded it. */
function recorded(results: RoundResult[], basis: "all" | "channels"): Stat | null {
  const xs = results.map((r) => remainingOf(r, basis));
  return xs.length && xs.every((x) => x != null) ? stat(xs) : null;
}

/** Each run's best round as results.compare reports it (the engine's; the summary's while running). */
export function seedBests(runs: CompareRun[]): SeedBest[] {
  return runs.flatMap((r) => (r.best ? [{ runId: r.id, seed: r.config.seed, round: r.best.round, source: r.best.source, indistinguishable: r.best.indistinguishable }] : []));
}

/** The series' best point from its runs' own best rounds (module doc of Series.best). */
function bestOf(runs: CompareRun[], bests: SeedBest[]): { best: SeriesPoint | null; mixed: boolean } {
  if (bests.length === 0) return { best: null, mixed: false };
  const rounds = bests.map((b) => b.round);
  const counts = new Map<number, number>();
  for (const k of rounds) counts.set(k, (counts.get(k) ?? 0) + 1);
  // The most common round; ties to the earliest (the engine's own tie rule).
  const modal = [...counts.entries()].sort((a, b) => b[1] - a[1] || a[0] - b[0])[0][0];
  const mixed = counts.size > 1;
  const point = pointOf(modal, runs, new Map(bests.map((b) => [b.runId, b.round])));
  return { best: point && point.n > 0 ? point : null, mixed };
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
    const bestRounds = seedBests(members);
    const { best, mixed } = bestOf(members, bestRounds);
    return {
      key,
      label: methodLabel(members[0].config),
      color: "",
      runIds: members.map((m) => m.id),
      seeds: members.map((m) => m.config.seed).sort((a, b) => a - b),
      config: members[0].config,
      points,
      dense: finishedPoints.find((p) => p.round === 0) ?? null,
      best,
      bestRounds,
      bestMixed: mixed,
      bestRule: members.find((m) => m.best?.rule)?.best?.rule ?? null,
    };
  });
  disambiguateLabels(series);
  series.sort((a, b) => orderOf(a.label) - orderOf(b.label) || a.label.localeCompare(b.label));
  assignColors(series);
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
