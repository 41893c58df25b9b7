/** Pure selectors on a run view: the rows, curves, grids and histograms the run page draws. */
import { accuracyInterval, evaluationImages } from "../accuracy";
import type { RunConfig, SampleStatus } from "../protocol";
import { remainingOf } from "../sparsity";
import { wilson } from "../stats";
import type { RoundFinished, RunView, SampleResult } from "./fold";

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
  /** Remaining fraction of all weights / of the pruned layers' channels (lib/sparsity; null: not recorded). */
  remainingOfAllWeights: number | null;
  remainingOfChannels: number | null;
  /** 95% Wilson intervals: verified of the samples, standard and adversarial of the evaluation images (null: unknown). */
  verifiedLo: number | null;
  verifiedHi: number | null;
  standardLo: number | null;
  standardHi: number | null;
  adversarialLo: number | null;
  adversarialHi: number | null;
  /** Images standard and adversarial accuracy were measured on (lib/accuracy; null: unknown). */
  evaluationImages: number | null;
}

/** One row per finished round: the results table, the curves and the round exports. */
export function roundRows(view: RunView): RoundRow[] {
  const images = evaluationImages(view.config);
  return view.roundResults.map((r) => {
    const verified = r.verifiedAccuracy == null ? null : wilson(r.verified, r.samples);
    const standard = accuracyInterval(r.standardAccuracy, images);
    const adversarial = accuracyInterval(r.adversarialAccuracy, images);
    return {
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
    remainingOfAllWeights: remainingOf(r, "all"),
    remainingOfChannels: remainingOf(r, "channels"),
    verifiedLo: verified?.lo ?? null,
    verifiedHi: verified?.hi ?? null,
    standardLo: standard?.lo ?? null,
    standardHi: standard?.hi ?? null,
    adversarialLo: adversarial?.lo ?? null,
    adversarialHi: adversarial?.hi ?? null,
    evaluationImages: images,
    };
  });
}

/**
 * The best round: the engine's (its `finished` event: the most verified samples, ties to
 * the earliest round). Before the run finishes, the leader so far by the same rule
 * (`bestRoundInfo` says which). Null when nothing is verified.
 */
export function bestRound(view: RunView): RoundFinished | null {
  if (view.finished) {
    const k = view.finished.bestRound;
    return k == null ? null : (view.roundResults.find((r) => r.round === k) ?? null);
  }
  let best: RoundFinished | null = null;
  for (const r of view.roundResults) {
    if (r.verifiedAccuracy != null && (best?.verifiedAccuracy == null || r.verifiedAccuracy > best.verifiedAccuracy)) best = r;
  }
  return best;
}

/** Where the best round comes from, and the rounds within noise of it (null: not recorded). */
export function bestRoundInfo(view: RunView): { round: number; source: "engine" | "so far"; rule: string | null; indistinguishable: number[] | null } | null {
  const best = bestRound(view);
  if (!best) return null;
  const f = view.finished;
  return { round: best.round, source: f ? "engine" : "so far", rule: f?.bestRoundRule ?? null, indistinguishable: f?.indistinguishableRounds ?? null };
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
  /** Remaining fraction of all weights / of channels (null: not recorded; remainingRatio is of the pruned layers). */
  remainingOfAllWeights?: number | null;
  remainingOfChannels?: number | null;
  /** 95% Wilson intervals [lo, hi] of the accuracies (null: unknown). */
  verifiedCi?: [number, number] | null;
  standardCi?: [number, number] | null;
  adversarialCi?: [number, number] | null;
}

/** Certified accuracy (and friends) against the remaining ratio, one point per finished round. */
export function certifiedCurve(view: RunView): CurvePoint[] {
  const rows = roundRows(view);
  const pair = (lo: number | null, hi: number | null): [number, number] | null => (lo == null || hi == null ? null : [lo, hi]);
  return view.roundResults.map((r, i) => ({
    round: r.round,
    remainingRatio: r.remainingRatio,
    verifiedAccuracy: r.verifiedAccuracy,
    standardAccuracy: r.standardAccuracy,
    adversarialAccuracy: r.adversarialAccuracy,
    unstableRatio: r.unstableRatio,
    instability: r.instability,
    meanVerifySeconds: r.meanVerifySeconds,
    remainingOfAllWeights: rows[i].remainingOfAllWeights,
    remainingOfChannels: rows[i].remainingOfChannels,
    verifiedCi: pair(rows[i].verifiedLo, rows[i].verifiedHi),
    standardCi: pair(rows[i].standardLo, rows[i].standardHi),
    adversarialCi: pair(rows[i].adversarialLo, rows[i].adversarialHi),
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
