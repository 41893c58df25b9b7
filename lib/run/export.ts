/** A run's results as files: per-round and per-sample CSV, and one JSON document. */
import { toCsv } from "../csv";
import type { RunConfig } from "../protocol";
import type { RunView, SampleResult } from "./fold";
import { bestRound, bestRoundInfo, roundRows, type RoundRow } from "./selectors";

const ROUND_COLUMNS: (keyof RoundRow)[] = [
  "round", "remainingRatio", "remainingChannelRatio", "channels", "remainingChannels", "standardAccuracy",
  "adversarialAccuracy", "verifiedAccuracy", "verified", "falsified", "unknown", "misclassified", "samples",
  "meanVerifySeconds", "unstableRatio", "instability", "seconds",
  // Added for issue #15 (after the original columns, so that readers by position keep working):
  // what each remaining fraction counts (remainingRatio is of the pruned layers), and 95% intervals.
  "remainingOfAllWeights", "remainingOfChannels", "verifiedLo", "verifiedHi", "standardLo", "standardHi",
  "adversarialLo", "adversarialHi", "evaluationImages",
];
/** marginLower is the root bound (before branching); finalMarginLower the bound at which branch and bound closed. */
const SAMPLE_COLUMNS: (keyof SampleResult)[] = [
  "round", "index", "label", "predicted", "status", "decidedBy", "seconds", "marginLower", "domains", "finalMarginLower",
];

/** The run page's exports end lines with "\n" (as they always have). */
const NEWLINE = "\n";

/** Per-round results as CSV (fractions in [0, 1], seconds; an empty cell is a missing value). */
export function roundsCsv(view: RunView): string {
  return toCsv(roundRows(view), { columns: ROUND_COLUMNS, newline: NEWLINE });
}

/** Every verified sample of every round as CSV, by round then index. */
export function samplesCsv(view: RunView): string {
  return toCsv(sortedSamples(view), { columns: SAMPLE_COLUMNS, newline: NEWLINE });
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
    bestRoundSource: bestRoundInfo(view)?.source ?? null,
    bestRoundRule: view.finished?.bestRoundRule ?? null,
    indistinguishableRounds: view.finished?.indistinguishableRounds ?? null,
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
