/**
 * How far a run has got, as a fraction, from its configuration and the last position
 * its events reported, and how long it has left. Shared by the server (stored progress)
 * and the browser (live bar, ETA). One verified sample counts as a tenth of an epoch:
 * close to their cost on CPU.
 */
import type { RunConfig } from "../protocol";
import type { RunView } from "./fold";

export interface RunPosition {
  round?: number;
  rounds?: number;
  epoch?: number;
  samplesVerified?: number;
  finished?: boolean;
}

const SAMPLES_PER_EPOCH_UNIT = 10;

export function plannedRounds(config: RunConfig): number {
  if (config.pruning.method === "none") return 1;
  return config.pruning.schedule === "one-shot" ? 2 : config.pruning.rounds + 1;
}

export function progressOf(config: RunConfig, position: RunPosition): number {
  if (position.finished) return 1;
  const verifyUnits = config.verification.mode === "none" ? 0 : config.verification.samples / SAMPLES_PER_EPOCH_UNIT;
  const perRound = config.training.epochs + verifyUnits;
  const rounds = position.rounds ?? plannedRounds(config);
  const round = position.round ?? 0;
  const done =
    round * perRound +
    Math.min(position.epoch ?? 0, config.training.epochs) +
    Math.min(position.samplesVerified ?? 0, config.verification.samples) / SAMPLES_PER_EPOCH_UNIT;
  return Math.max(0, Math.min(0.999, done / (rounds * perRound)));
}

// ------------------------------------------------------------------ a run view's progress and ETA

/**
 * Where the current round stands, counting the part of an epoch (batches) or of the
 * verification (samples) that the latest progress event reports.
 */
export function roundPosition(view: RunView): { epochs: number; samples: number; epochFraction: number } {
  const last = view.epochs.filter((e) => e.round === view.round).at(-1);
  const epochs = last?.epoch ?? 0;
  let samples = view.samples.filter((s) => s.round === view.round).length;
  let epochFraction = 0;
  const p = view.progress;
  if (p && p.round === view.round && p.total > 0) {
    if (p.phase === "train" && (p.epoch ?? epochs + 1) === epochs + 1) epochFraction = Math.min(0.999, p.done / p.total);
    if (p.phase === "verify") samples = Math.max(samples, p.done);
  }
  return { epochs, samples, epochFraction };
}

export function runViewProgress(view: RunView, config: RunConfig): number {
  if (view.status === "finished") return 1;
  const roundDone = view.roundResults.some((r) => r.round === view.round);
  const at = roundPosition(view);
  return progressOf(config, {
    round: roundDone ? view.round + 1 : view.round,
    rounds: view.totalRounds ?? undefined,
    epoch: roundDone ? 0 : at.epochs + at.epochFraction,
    samplesVerified: roundDone ? 0 : at.samples,
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
  const p = view.progress;
  // Before the first epoch ends: its pace so far (batches done in the seconds spent).
  if (rates.epochSeconds == null && p?.phase === "train" && p.done > 0 && p.total > 0) rates.epochSeconds = p.seconds / (p.done / p.total);
  if (rates.epochSeconds == null) return null;
  const rounds = view.totalRounds ?? plannedRounds(config);
  const epochs = config.training.epochs;
  const samples = config.verification.mode === "none" ? 0 : config.verification.samples;
  const roundDone = view.roundResults.some((r) => r.round === view.round);
  const at = roundPosition(view);
  const lastEpoch = at.epochs + at.epochFraction;
  const samplesDone = at.samples;
  const later = Math.max(0, rounds - view.round - 1);
  const epochsLeft = (roundDone ? 0 : Math.max(0, epochs - lastEpoch)) + later * epochs;
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

