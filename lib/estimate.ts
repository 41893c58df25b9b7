/**
 * How long a run will take, estimated from its settings: for every round, epochs x the
 * cost of an epoch (training images x a measured cost per image for the model, regime and
 * input size), plus the evaluation, the PGD attack and the verification of the samples.
 * An estimate, and said to be one: real times depend on the machine, its load, and (for
 * complete verification) on how hard each sample is.
 *
 * Where the figures come from:
 * - TRAIN_US: microseconds per training image (batch 128, forward + backward + step) from
 *   `.venv/bin/python bench/estimate_costs.py --batches 8 --repeat 2` (medians) on the
 *   development machine: 2 CPU cores, PyTorch 2.13 (CPU), measured 2026-12-02 07:56 UTC
 *   (otherwise idle; load 1.7, the benchmark's own two threads). The PyTorch 1.13 table
 *   it replaces put the quick CPU demo's training at 1.35x what it took; the small models'
 *   figures are still noisy (a few milliseconds per batch, mostly Python and thread
 *   start-up, swinging 2-5x between runs). CROWN-IBP is timed inside its eps ramp
 *   (CROWN-IBP + IBP bounds); after the ramp it costs what IBP costs, and the estimate
 *   uses each figure for its own epochs. A GPU is typically 20-100x faster.
 * - 3x64x64 (ImageNet 64) is not measured: 3x32x32 figures x 4 (four times the pixels).
 * - VERIFY_SECONDS: typical seconds per sample (the attack and the bounds), capped at
 *   the timeout. CROWN on cnn4: the engine's meanVerifySeconds on synthetic data
 *   (10 samples, 3 rounds, this machine, 2026-11-24); on mlp: under 0.03 s per sample in
 *   the quick sweep preset (30 samples, 2026-12-02, PyTorch 2.13). The rest are rough: scaled from
 *   those (IBP cheaper, alpha-CROWN dearer), and BaB on cnn7 of the order the paper
 *   reports (tens of seconds to the timeout per sample on a GPU).
 */
import type { RunConfig } from "./protocol";
import { REGIME_INFO } from "./protocol/names";
import { plannedRounds } from "./run/progress";

type Shape = "1x16x16" | "1x28x28" | "3x32x32";
/** The built-in networks; an uploaded ONNX model is verified only (no training), costed like cnn7. */
type Arch = Exclude<RunConfig["model"]["arch"], "onnx">;
type Regime = RunConfig["training"]["regime"];
/** Regimes whose cost per image was measured; the others are costed from them (unmeasuredCost). */
type MeasuredRegime = "natural" | "fgsm" | "ibp" | "crown-ibp";

/**
 * Regimes added after the table was measured (e.g. SABR, MTL-IBP): an adversarial attack
 * plus an IBP bound per step, so FGSM's cost plus IBP's. Not measured: calibration on
 * finished runs of this machine corrects it.
 */
function regimeCost(costs: Record<MeasuredRegime, number>, regime: Regime): number {
  if (regime in costs) return costs[regime as MeasuredRegime];
  return costs.fgsm + costs.ibp;
}

const TRAIN_US: Record<Shape, Record<Arch, Record<MeasuredRegime, number>>> = {
  "1x16x16": {
    mlp: { natural: 8, fgsm: 25, ibp: 22, "crown-ibp": 54 },
    cnn4: { natural: 25, fgsm: 113, ibp: 75, "crown-ibp": 350 },
    cnn7: { natural: 300, fgsm: 1180, ibp: 902, "crown-ibp": 4463 },
  },
  "1x28x28": {
    mlp: { natural: 9, fgsm: 36, ibp: 28, "crown-ibp": 92 },
    cnn4: { natural: 49, fgsm: 241, ibp: 149, "crown-ibp": 892 },
    cnn7: { natural: 780, fgsm: 3179, ibp: 2484, "crown-ibp": 12967 },
  },
  "3x32x32": {
    mlp: { natural: 18, fgsm: 92, ibp: 55, "crown-ibp": 262 },
    cnn4: { natural: 62, fgsm: 329, ibp: 216, "crown-ibp": 1256 },
    cnn7: { natural: 1051, fgsm: 4098, ibp: 3320, "crown-ibp": 16787 },
  },
};
/** Input size, cost multiplier over that size, and the number of training and test images. */
const DATASETS: Record<RunConfig["data"]["dataset"], { shape: Shape; scale: number; train: number; test: number }> = {
  synthetic: { shape: "1x16x16", scale: 1, train: 2000, test: 500 },
  "fashion-mnist": { shape: "1x28x28", scale: 1, train: 60_000, test: 10_000 },
  cifar10: { shape: "3x32x32", scale: 1, train: 50_000, test: 10_000 },
  svhn: { shape: "3x32x32", scale: 1, train: 73_257, test: 26_032 },
  imagenet64: { shape: "3x32x32", scale: 4, train: 1_281_167, test: 50_000 },
};

const VERIFY_SECONDS: Record<RunConfig["verification"]["mode"], Record<Arch, number>> = {
  none: { mlp: 0, cnn4: 0, cnn7: 0 },
  ibp: { mlp: 0.02, cnn4: 0.5, cnn7: 2 },
  crown: { mlp: 0.02, cnn4: 4, cnn7: 20 },
  "alpha-crown": { mlp: 0.5, cnn4: 10, cnn7: 60 },
  bab: { mlp: 1, cnn4: 20, cnn7: 120 },
};

/**
 * Certified-trained networks (IBP, CROWN-IBP, SABR, MTL-IBP) are mostly decided by their
 * bounds in a fraction of a second: seconds per sample measured on this machine, 2026-12-02
 * (PyTorch 2.13): cnn4 after CROWN-IBP at eps 0.1, mean 0.03-0.17 s per sample under branch
 * and bound in every round of the reduced reproduction (docs/reproduction.md), the same
 * order under the quick CPU demo; cnn7 after IBP, 200 images under branch and bound at a
 * 60 s timeout: mean 0.81 s (docs/benchmarks.md, "The attack in two parts"); mlp and the
 * other cnn7 modes scaled from these. Naturally and adversarially trained networks leave
 * most samples to run to the timeout (VERIFY_SECONDS above).
 */
const CERTIFIED_VERIFY_SECONDS: Record<RunConfig["verification"]["mode"], Record<Arch, number>> = {
  none: { mlp: 0, cnn4: 0, cnn7: 0 },
  ibp: { mlp: 0.01, cnn4: 0.02, cnn7: 0.1 },
  crown: { mlp: 0.02, cnn4: 0.05, cnn7: 0.5 },
  "alpha-crown": { mlp: 0.05, cnn4: 0.1, cnn7: 2 },
  bab: { mlp: 0.1, cnn4: 0.2, cnn7: 1 },
};

/**
 * Starting the engine (Python, PyTorch, the dataset) before its first event: seconds,
 * measured here 2026-12-02 (PyTorch 2.13, lazy imports): the smoke preset's whole run
 * took 2.6 s, of which training was under 0.1 s (bench/estimate_error.ts).
 */
const ENGINE_START_SECONDS = 2.5;

export interface Estimate {
  rounds: number;
  /** Seconds to start the engine process. */
  start: number;
  /** Seconds, per part, for the whole run. */
  training: number;
  evaluation: number;
  attack: number;
  verification: number;
  total: number;
  perRound: number;
  notes: string[];
}

const us = (x: number) => x * 1e-6;

export function estimateRun(config: RunConfig): Estimate {
  const data = DATASETS[config.data.dataset];
  const uploaded = config.model.arch === "onnx";
  const arch: Arch = config.model.arch === "onnx" ? "cnn7" : config.model.arch;
  const costs = TRAIN_US[data.shape][arch];
  const perImage = (regime: Regime) => us(regimeCost(costs, regime)) * data.scale;
  const images = Math.min(config.data.trainSize ?? data.train, data.train);
  const testImages = Math.min(config.data.testSize ?? data.test, data.test);
  const rounds = uploaded ? 1 : plannedRounds(config);
  const epochs = uploaded ? 0 : config.training.epochs;
  const notes: string[] = [];

  // CROWN-IBP costs its full price only while eps ramps up; afterwards it is plain IBP.
  let epochSeconds: number;
  if (config.training.regime === "crown-ibp") {
    const rampEpochs = Math.max(0, Math.min(epochs - config.training.epsStart + 1, config.training.epsLength));
    epochSeconds = epochs ? images * ((rampEpochs * perImage("crown-ibp") + (epochs - rampEpochs) * perImage("ibp")) / epochs) : 0;
  } else {
    epochSeconds = images * perImage(config.training.regime);
  }
  let training = rounds * epochs * epochSeconds;
  if (config.pruning.method === "hydra") {
    training += (rounds - 1) * config.pruning.hydraEpochs * epochSeconds;
    notes.push(`HYDRA trains scores for ${config.pruning.hydraEpochs} epochs before each pruning`);
  }
  // Test accuracy after every epoch: a forward pass, about a third of a training step.
  const evaluation = rounds * epochs * testImages * (perImage("natural") / 3);

  const v = config.verification;
  const pgdPerImage = v.pgdRestarts * v.pgdSteps * perImage("natural");
  const attackImages = v.mode === "none" || v.pgdSteps === 0 ? 0 : Math.min(v.attackSamples ?? testImages, testImages);
  const attack = rounds * (attackImages + (v.mode === "none" ? 0 : v.samples)) * pgdPerImage;
  const certified = !uploaded && (REGIME_INFO as Record<string, { certified: boolean }>)[config.training.regime]?.certified;
  const perSample = Math.min(v.timeout, (certified ? CERTIFIED_VERIFY_SECONDS : VERIFY_SECONDS)[v.mode][arch]);
  if (uploaded) notes.push("an uploaded ONNX model is verified only; its verification is costed like cnn7's");
  const verification = rounds * v.samples * perSample;
  if (v.mode === "bab") notes.push(`complete verification varies most: hard samples run to the ${v.timeout} s timeout`);
  if (config.data.dataset === "imagenet64") notes.push("ImageNet 64 is extrapolated from CIFAR-sized inputs");
  if (config.device === "cuda") notes.push("measured on CPU; a GPU is typically 20-100x faster at training");

  const total = ENGINE_START_SECONDS + training + evaluation + attack + verification;
  return { rounds, start: ENGINE_START_SECONDS, training, evaluation, attack, verification, total, perRound: (total - ENGINE_START_SECONDS) / rounds, notes };
}

/** "3 min", "2.5 h", "4 days": rounded the way an estimate should be; "none" for a part that takes no time. */
export function formatEstimate(seconds: number): string {
  if (seconds <= 0) return "none";
  if (seconds < 1) return "< 1 s";
  if (seconds < 60) return `${Math.round(seconds)} s`;
  if (seconds < 3600) return `${Math.round(seconds / 60)} min`;
  if (seconds < 86400 * 2) return `${(seconds / 3600).toFixed(seconds < 36_000 ? 1 : 0)} h`;
  return `${(seconds / 86400).toFixed(seconds < 864_000 ? 1 : 0)} days`;
}

// ------------------------------------------------------------------ calibration on this machine

/**
 * How this machine's measured speed compares with the table above, from finished runs
 * (server/jobs/calibration.ts), as medians over the runs of each run's factor:
 * measured against table seconds for training (epoch events' seconds), verification
 * (sample events' seconds), the per-round work outside them (PGD, bounds, pruning,
 * export) and the set-up (engine start to its first round).
 *
 * Each factor is shrunk towards 1 by CALIBRATION_PRIOR_SECONDS: (measured + K) / (table + K).
 * A run that spent 2 s where the table said 0.07 s (a smoke run: per-epoch overhead the
 * table ignores) says little about a 200 s training run; unshrunk, its ratio of 29 made
 * every later estimate 5x too high. A run of minutes keeps nearly its raw ratio.
 * Null where no finished run measured that part.
 */
export interface Calibration {
  trainFactor: number | null;
  verifyFactor: number | null;
  /** Measured / table seconds of the rounds' other work (the table's `attack` part). */
  overheadFactor: number | null;
  /** Measured / table seconds from the engine's start to its first round (imports, the dataset): paid once per run. */
  startFactor: number | null;
  /** Finished runs the figures come from. */
  runs: number;
}

/** Seconds of evidence, at a factor of 1, that each run's measured seconds are weighed against. */
export const CALIBRATION_PRIOR_SECONDS = 30;

/** One run's calibration factor for one part: (measured + K) / (table + K). */
export function shrunkFactor(measuredSeconds: number, tableSeconds: number, prior = CALIBRATION_PRIOR_SECONDS): number {
  return (Math.max(0, measuredSeconds) + prior) / (Math.max(0, tableSeconds) + prior);
}

export const NO_CALIBRATION: Calibration = { trainFactor: null, verifyFactor: null, overheadFactor: null, startFactor: null, runs: 0 };

/** The estimate with this machine's measured factors applied (unchanged parts where none is measured). */
export function calibrate(estimate: Estimate, calibration: Calibration): Estimate {
  if (calibration.runs === 0) return estimate;
  const tf = calibration.trainFactor ?? 1;
  const vf = calibration.verifyFactor ?? 1;
  const training = estimate.training * tf;
  const evaluation = estimate.evaluation * tf;
  const attack = estimate.attack * (calibration.overheadFactor ?? 1);
  const verification = estimate.verification * vf;
  const start = estimate.start * (calibration.startFactor ?? 1);
  const total = start + training + evaluation + attack + verification;
  return {
    ...estimate,
    start,
    training,
    evaluation,
    attack,
    verification,
    total,
    perRound: (total - start) / estimate.rounds,
  };
}
