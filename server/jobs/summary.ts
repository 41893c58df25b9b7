/** Folds engine events into a run's stored summary and progress (what the overview shows). */
import type { EngineEvent, RunConfig } from "@/lib/protocol";
import { progressOf } from "@/lib/run/progress";
import type { RunSummary } from "../store/runs";

export interface SummaryState extends RunSummary {
  samplesVerified?: number;
}

export function foldSummary(summary: SummaryState, event: EngineEvent): SummaryState {
  switch (event.type) {
    case "started":
      return { ...summary, device: event.device };
    case "round_started":
      return { ...summary, round: event.round, rounds: event.rounds, epoch: 0, samplesVerified: 0 };
    case "epoch":
      return { ...summary, round: event.round, epoch: event.epoch, epochs: event.epochs };
    case "sample_verified":
      return { ...summary, samplesVerified: (summary.samplesVerified ?? 0) + 1 };
    case "round_finished": {
      const better =
        event.verifiedAccuracy !== null &&
        (summary.bestVerifiedAccuracy == null || event.verifiedAccuracy > summary.bestVerifiedAccuracy);
      return {
        ...summary,
        lastStandardAccuracy: event.standardAccuracy,
        ...(better
          ? { bestRound: event.round, bestVerifiedAccuracy: event.verifiedAccuracy, bestRemainingRatio: event.remainingRatio }
          : {}),
      };
    }
    case "finished":
      return { ...summary, bestRound: event.bestRound ?? summary.bestRound, bestVerifiedAccuracy: event.bestVerifiedAccuracy ?? summary.bestVerifiedAccuracy };
    default:
      return summary;
  }
}

export function summaryProgress(config: RunConfig, summary: SummaryState, finished = false): number {
  return progressOf(config, {
    round: summary.round,
    rounds: summary.rounds,
    epoch: summary.epoch,
    samplesVerified: summary.samplesVerified,
    finished,
  });
}
