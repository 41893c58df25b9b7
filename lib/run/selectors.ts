/** Pure selectors on a run view: the rows, curves, grids and histograms the run page draws. */
import type { RunConfig, SampleStatus } from "../protocol";
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
export function bestRound(view: RunView): RoundFinished | null {
  let best: RoundFinished | null = null;
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
