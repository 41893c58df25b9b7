/**
 * The run configuration: small typed groups of settings, each with a default and a
 * one-line description (open_lth's hparams, in zod). This file is the single source of
 * truth: `npm run schemas` exports it to engine/schemas/run-config.schema.json, which
 * the engine validates against and takes its defaults from.
 */
import { z } from "zod";
import { ARCHS, DATASETS, DEFAULT_RATES, DEVICES, PRUNING_METHODS, REGIMES, REGULARIZERS, VERIFICATION_MODES } from "./names";

const int = (min: number, max: number) => z.number().int().min(min).max(max);
const nullableDefault = <T extends z.ZodType>(schema: T, description: string) =>
  schema.nullable().default(null).describe(description);

export const DataConfig = z
  .object({
    dataset: z.enum(DATASETS).default("fashion-mnist").describe("The dataset the network is trained on and verified on; its epsilon and normalisation come with it. Paper: FashionMNIST, SVHN, CIFAR-10 (and ImageNet 64x64)."),
    root: nullableDefault(
      z.string().min(1).max(1024),
      "Folder holding the dataset files; empty: the dataset's usual place on this server.",
    ),
    trainSize: nullableDefault(int(1, 10_000_000), "Train on only the first N training images, to make quick runs quicker (images; empty: all of them, as in the paper)."),
    testSize: nullableDefault(int(1, 10_000_000), "Keep only the first N test images (images; empty: all, as in the paper). Standard and adversarial accuracy use the first 'Attack images' of them; verification uses the first 'Verification samples'."),
    augment: z.boolean().default(true).describe("Training-time augmentation: random crop, plus a horizontal flip on CIFAR-10 and FashionMNIST. Paper: on."),
  })
  .strict();

export const ModelConfig = z
  .object({
    arch: z.enum(ARCHS).default("cnn7").describe("The network: cnn7 is the paper's only model (5 conv blocks + 2 linear layers, 0.58M parameters on FashionMNIST); cnn4 (2 conv + 2 linear) and MLPs are smaller, for quick runs."),
    widths: z.array(int(1, 8192)).min(1).max(16).default([100, 100]).describe("Neurons in each hidden layer of the MLP, first layer first (e.g. 100, 100). Only used when the model is an MLP."),
    onnx: nullableDefault(
      z.string().min(1).max(1024),
      "Set by the upload page: the uploaded ONNX model, which is verified as it is (not trained or pruned).",
    ),
  })
  .strict();

export const TrainingConfig = z
  .object({
    regime: z.enum(REGIMES).default("crown-ibp").describe("How the network is trained: natural (plain cross-entropy), fgsm (FGSM + GradAlign adversarial training), ibp and crown-ibp (certified training; crown-ibp is the paper's), sabr and mtl-ibp (newer certified training, beyond the paper). Paper: crown-ibp, and fgsm for its adversarial setting."),
    epochs: int(1, 1000).default(200).describe("Passes over the training set in every round, the dense round 0 and each round after pruning (epochs; the learning rate and epsilon schedules restart each round). Paper: 200 (300 at eps 8/255)."),
    batchSize: int(1, 4096).default(128).describe("Training images per optimiser step (images). Paper: 128."),
    lr: nullableDefault(z.number().positive().max(10), "Step size of the optimiser (empty: the regime's default). Paper: Adam 0.001 for CROWN-IBP, SGD 0.01 for FGSM."),
    weightDecay: nullableDefault(z.number().min(0).max(1), "L2 penalty on the weights (empty: the regime's default). Paper: 1e-5 for CROWN-IBP (0 with RS/NRS), 5e-4 for FGSM."),
    lrMilestones: nullableDefault(
      z.array(int(1, 1000)).max(16),
      "Epochs at which the learning rate is multiplied by the decay factor (epochs, comma-separated; empty: at 70% and 85% of the epochs). Paper: 140 and 170 of 200.",
    ),
    lrGamma: z.number().positive().max(1).default(0.1).describe("What the learning rate is multiplied by at each milestone. Paper: 0.1."),
    gradClip: z.number().positive().max(1000).default(8).describe("Gradients are scaled down to at most this L2 norm before each step. Paper: 8."),
    eps: nullableDefault(z.number().min(0).max(1), "Radius of the L-infinity ball trained against, in [0,1] pixel units (empty: the dataset's). Paper: 0.1 on FashionMNIST, 2/255 (and 8/255) on CIFAR-10 and SVHN."),
    epsStart: int(1, 1000).default(11).describe("Certified and adversarial training: the epoch at which epsilon starts to grow from 0 (epochs before it train naturally). Paper: 11."),
    epsLength: int(0, 1000).default(80).describe("Epochs over which epsilon grows from 0 to its full value (a smoothed ramp; 0: full epsilon at once). Paper: 80 (121 at 8/255)."),
    fgsmStep: z.number().positive().max(10).default(1.25).describe("FGSM training: the attack step, as a multiple of epsilon, taken from a random start. Paper: 1.25."),
    gradAlignWeight: z.number().min(0).max(100).default(0.2).describe("FGSM training: weight of GradAlign's penalty (1 - cosine between input gradients at x and at a random point of the ball), which prevents catastrophic overfitting. Paper: 0.2."),
    regularizer: z.enum(REGULARIZERS).default("none").describe("Stability or sparsity regulariser."),
    regularizerWeight: nullableDefault(z.number().min(0).max(100), "Weight of the regulariser in the loss (empty: the paper's: NRS/RS 0.01 under FGSM, 0.001 under CROWN-IBP; Slimming 1e-4)."),
    lossFusion: z.boolean().default(false).describe("CROWN-IBP only: bound the cross-entropy itself in one backward pass (auto_LiRPA's loss fusion). About 6x cheaper per batch on cnn7; a looser, different objective (docs/benchmarks.md)."),
    ibpInit: z.boolean().default(false).describe("Shi et al. 2021's IBP initialisation: weights drawn so that interval bounds keep their width from layer to layer (for the short warm-up of certified training)."),
    fastWarmup: z.boolean().default(false).describe("Shi et al. 2021's warm-up regularisers (bound tightness and ReLU balance) added while eps ramps up, weight 0.5 x (1 - eps / training eps)."),
    sabrBoxScale: z.number().gt(0).max(1).default(0.4).describe("SABR: radius of the propagated box as a fraction of eps (lambda; the paper's 0.4 for MNIST at 0.1, 0.1 and 0.7 for CIFAR-10 at 2/255 and 8/255; 1 is plain IBP)."),
    sabrPgdSteps: int(1, 1000).default(8).describe("SABR: PGD steps that place the small box (8, step 0.5 x eps, as CTRAIN)."),
    mtlAlpha: z.number().min(0).max(1).default(0.01).describe("MTL-IBP: weight of the IBP loss, 1 - alpha on the adversarial loss (the paper's 0.01 for MNIST at 0.1; 0.004 and 0.5 for CIFAR-10 at 2/255 and 8/255)."),
    mtlAttackSteps: int(1, 1000).default(1).describe("MTL-IBP: attack steps for the adversarial point (the paper's 1 for MNIST, 8 for CIFAR-10 at 2/255)."),
    mtlAttackStep: z.number().positive().max(100).default(10).describe("MTL-IBP: attack step as a multiple of eps (the paper's 10 with one step, 0.25 with eight)."),
  })
  .strict();

export const PruningConfig = z
  .object({
    method: z.enum(PRUNING_METHODS).default("imp").describe("Pruning method."),
    rounds: int(0, 40).default(16).describe("How many times the network is pruned, retrained and verified after the dense round 0 (rounds). Paper: 16 (0.8^16 = 2.8% of the weights remain)."),
    rate: nullableDefault(
      z.number().gt(0).lt(1),
      `Fraction of what remains that each round removes (empty: ${DEFAULT_RATES.weights} of the weights for weight pruning, ${DEFAULT_RATES.channels} of the channels for channel pruning, as in the paper).`,
    ),
    scope: z.enum(["conv", "conv-linear"]).default("conv").describe("Which layers lose weights: conv layers only (the paper), or conv and linear layers."),
    schedule: z.enum(["iterative", "one-shot"]).default("iterative").describe("Iterative: prune a fraction of what remains every round (the paper). One shot: prune to the target ratio at once, then retrain."),
    targetRatio: nullableDefault(z.number().gt(0).lt(1), "One-shot schedule only: the fraction of the pruned layers' weights to keep (e.g. 0.1 keeps 10%)."),
    rewind: z.enum(["init", "finetune"]).default("init").describe("After pruning, restart the surviving weights from their initial values (lottery-ticket rewinding, the paper's choice) or keep training them (fine-tuning, which the paper finds collapses by round 3)."),
    hydraEpochs: int(1, 200).default(20).describe("HYDRA only: epochs spent learning a score per weight (weights frozen) before each pruning. Paper: 20."),
  })
  .strict();

export const VerificationConfig = z
  .object({
    mode: z.enum(VERIFICATION_MODES).default("bab").describe("How robustness is proven: IBP, CROWN or alpha-CROWN bounds (fast, may leave samples unknown), or complete branch and bound (bab, the paper: beta-CROWN). none: no verification."),
    eps: nullableDefault(z.number().min(0).max(1), "Radius of the L-infinity ball to prove robustness in, in [0,1] pixel units (empty: the training epsilon). Paper: as trained (0.1 on FashionMNIST)."),
    samples: int(0, 10_000).default(200).describe("How many test images are verified each round, the first N of the test set (images). Verified accuracy is the fraction proven robust. Paper: 200."),
    timeout: z.number().positive().max(3600).default(300).describe("Time the verifier may spend on one image before calling it unknown (seconds). Paper: 300."),
    pgdSteps: int(0, 10_000).default(100).describe("PGD attack run before verification (a found attack settles a sample as falsified): gradient steps per restart. Paper: 100 restarts of PGD."),
    pgdRestarts: int(0, 1000).default(30).describe("PGD attack: restarts from random points in the epsilon ball (restarts). Paper: 100."),
    attackSamples: z
      .union([int(1, 1_000_000), z.null()])
      .default(1000)
      .describe("Standard and adversarial (PGD) accuracy of each round are both measured on the first N test images (images, at most the test images kept; empty: all)."),
  })
  .strict();

export const RunConfig = z
  .object({
    data: DataConfig.prefault({}),
    model: ModelConfig.prefault({}),
    training: TrainingConfig.prefault({}),
    pruning: PruningConfig.prefault({}),
    verification: VerificationConfig.prefault({}),
    seed: int(0, 2 ** 31 - 1).default(0).describe("Seeds the initial weights, data order and attacks: the same settings and seed give the same run. The paper averages 5 seeds."),
    device: z.enum(DEVICES).default("auto").describe("auto uses a CUDA GPU when there is one, else the CPU; cpu or cuda force one."),
  })
  .strict();

/** What a client sends: any subset of the settings. */
export type RunConfigInput = z.input<typeof RunConfig>;
/** What the engine receives: every setting filled in. */
export type RunConfig = z.output<typeof RunConfig>;

export const DEFAULT_CONFIG: RunConfig = RunConfig.parse({});

