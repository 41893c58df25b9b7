/**
 * The run configuration: small typed groups of settings, each with a default and a
 * one-line description (open_lth's hparams, in zod). This file is the single source of
 * truth: `npm run schemas` exports it to engine/schemas/run-config.schema.json, which
 * the engine validates against and takes its defaults from.
 */
import { z } from "zod";
import { ARCHS, DATASETS, DEVICES, PRUNING_METHODS, REGIMES, REGULARIZERS, VERIFICATION_MODES } from "./names";

const int = (min: number, max: number) => z.number().int().min(min).max(max);
const nullableDefault = <T extends z.ZodType>(schema: T, description: string) =>
  schema.nullable().default(null).describe(description);

export const DataConfig = z
  .object({
    dataset: z.enum(DATASETS).default("fashion-mnist").describe("Dataset to train and verify on."),
    root: nullableDefault(
      z.string().min(1).max(1024),
      "Folder holding the dataset files; null uses the dataset's default place.",
    ),
    trainSize: nullableDefault(int(1, 10_000_000), "Use only the first N training images (null: all)."),
    testSize: nullableDefault(int(1, 10_000_000), "Use only the first N test images (null: all); standard and adversarial accuracy use the first verification.attackSamples of them."),
    augment: z.boolean().default(true).describe("Random crop, plus horizontal flip on CIFAR-10 and FashionMNIST."),
  })
  .strict();

export const ModelConfig = z
  .object({
    arch: z.enum(ARCHS).default("cnn7").describe("Network: the paper's cnn7, a small cnn4, an MLP, or an uploaded ONNX model."),
    widths: z.array(int(1, 8192)).min(1).max(16).default([100, 100]).describe("Hidden widths of the MLP."),
    onnx: nullableDefault(
      z.string().min(1).max(1024),
      "With arch 'onnx': path of the uploaded model (verified only, not trained or pruned).",
    ),
  })
  .strict();

export const TrainingConfig = z
  .object({
    regime: z.enum(REGIMES).default("crown-ibp").describe("Training regime."),
    epochs: int(1, 1000).default(200).describe("Epochs per round."),
    batchSize: int(1, 4096).default(128).describe("Mini-batch size."),
    lr: nullableDefault(z.number().positive().max(10), "Learning rate (null: the regime's default)."),
    weightDecay: nullableDefault(z.number().min(0).max(1), "Weight decay (null: the regime's default)."),
    lrMilestones: nullableDefault(
      z.array(int(1, 1000)).max(16),
      "Epochs at which the learning rate is multiplied by lrGamma (null: 70% and 85% of the epochs).",
    ),
    lrGamma: z.number().positive().max(1).default(0.1).describe("Learning-rate decay factor."),
    gradClip: z.number().positive().max(1000).default(8).describe("Gradient-norm clip."),
    eps: nullableDefault(z.number().min(0).max(1), "Training epsilon in [0,1] pixel space (null: the dataset's)."),
    epsStart: int(1, 1000).default(11).describe("Epoch at which the epsilon ramp starts."),
    epsLength: int(0, 1000).default(80).describe("Length of the epsilon ramp in epochs."),
    fgsmStep: z.number().positive().max(10).default(1.25).describe("FGSM step as a multiple of epsilon."),
    gradAlignWeight: z.number().min(0).max(100).default(0.2).describe("GradAlign penalty weight."),
    regularizer: z.enum(REGULARIZERS).default("none").describe("Stability or sparsity regulariser."),
    regularizerWeight: nullableDefault(z.number().min(0).max(100), "Regulariser weight (null: the paper's)."),
  })
  .strict();

export const PruningConfig = z
  .object({
    method: z.enum(PRUNING_METHODS).default("imp").describe("Pruning method."),
    rounds: int(0, 40).default(16).describe("Pruning rounds after the dense round 0."),
    rate: nullableDefault(
      z.number().gt(0).lt(1),
      "Fraction of what remains removed per round (null: 0.2 of weights, 0.11 of channels).",
    ),
    scope: z.enum(["conv", "conv-linear"]).default("conv").describe("Which layers are pruned."),
    schedule: z.enum(["iterative", "one-shot"]).default("iterative").describe("Prune round by round, or once."),
    targetRatio: nullableDefault(z.number().gt(0).lt(1), "One-shot: remaining ratio to reach."),
    rewind: z.enum(["init", "finetune"]).default("init").describe("Rewind to initial weights, or fine-tune."),
    hydraEpochs: int(1, 200).default(20).describe("Epochs of HYDRA score training."),
  })
  .strict();

export const VerificationConfig = z
  .object({
    mode: z.enum(VERIFICATION_MODES).default("bab").describe("Verifier: incomplete bounds, or complete BaB."),
    eps: nullableDefault(z.number().min(0).max(1), "Verification epsilon (null: the training epsilon)."),
    samples: int(0, 10_000).default(200).describe("Verify the first N test images."),
    timeout: z.number().positive().max(3600).default(300).describe("Seconds per sample before 'unknown'."),
    pgdSteps: int(0, 10_000).default(100).describe("PGD steps per restart."),
    pgdRestarts: int(0, 1000).default(30).describe("PGD random restarts."),
    attackSamples: z
      .union([int(1, 1_000_000), z.null()])
      .default(1000)
      .describe("The first N test images (at most testSize) on which each round's standard and adversarial (PGD) accuracy are both measured (null: all)."),
  })
  .strict();

export const RunConfig = z
  .object({
    data: DataConfig.prefault({}),
    model: ModelConfig.prefault({}),
    training: TrainingConfig.prefault({}),
    pruning: PruningConfig.prefault({}),
    verification: VerificationConfig.prefault({}),
    seed: int(0, 2 ** 31 - 1).default(0).describe("Random seed."),
    device: z.enum(DEVICES).default("auto").describe("Where the engine computes."),
  })
  .strict();

/** What a client sends: any subset of the settings. */
export type RunConfigInput = z.input<typeof RunConfig>;
/** What the engine receives: every setting filled in. */
export type RunConfig = z.output<typeof RunConfig>;

export const DEFAULT_CONFIG: RunConfig = RunConfig.parse({});

