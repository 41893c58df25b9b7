/**
 * How far a run has got, as a fraction, from its configuration and the last position
 * its events reported. Shared by the server (stored progress) and the browser (live bar).
 * One verified sample counts as a tenth of an epoch: close to their cost on CPU.
 */
import type { RunConfig } from "./protocol";

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
