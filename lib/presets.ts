/** Launch-form presets: settings that fill the form (anything unset keeps its default). */
import type { RunConfigInput } from "./protocol";

export interface Preset {
  id: string;
  name: string;
  description: string;
  config: RunConfigInput;
  /** Methods (METHOD_LABELS keys) to tick: more than one launches a sweep. Default: the config's. */
  methods?: string[];
  /** Seeds to launch; more than one launches a sweep. Default: the config's. */
  seeds?: number[];
}

/**
 * Issue 20's study for a newer certified-training regime: does pruning still help? cnn4 on
 * FashionMNIST at eps 0.1, Dense (round 0), IMP, IMP+NRS and Random, 3 seeds, branch and bound.
 */
function studyPreset(regime: "sabr" | "mtl-ibp", label: string, what: string, settings: Record<string, number>): Preset {
  return {
    id: `${regime}-fmnist`,
    name: `${label} on FashionMNIST (pruning study)`,
    description: `Beyond the paper (issue 20): cnn4 trained with ${label} at eps 0.1 (${what}), 20 epochs per round, Dense, IMP, IMP+NRS and Random for 4 rounds, 3 seeds, 100 samples by branch and bound at 60 s. Hours on a CPU.`,
    config: {
      data: { dataset: "fashion-mnist" },
      model: { arch: "cnn4" },
      training: { regime, epochs: 20, eps: 0.1, epsStart: 2, epsLength: 10, ...settings },
      pruning: { method: "imp", rounds: 4 },
      verification: { mode: "bab", samples: 100, timeout: 60 },
    },
    methods: ["IMP", "IMP+NRS", "Random"],
    seeds: [0, 1, 2],
  };
}

export const PRESETS: Preset[] = [
  {
    id: "smoke",
    name: "Synthetic smoke test",
    description: "A tiny MLP on synthetic data for a few epochs, no pruning: checks the whole path in seconds.",
    config: {
      data: { dataset: "synthetic" },
      model: { arch: "mlp", widths: [32, 32] },
      training: { regime: "natural", epochs: 4, epsStart: 1, epsLength: 0 },
      pruning: { method: "none", rounds: 0 },
      verification: { mode: "none", samples: 0 },
    },
  },
  {
    id: "quick-sweep",
    name: "Quick sweep (synthetic)",
    description: "IMP against Random on a small MLP and synthetic data: 3 epochs, 2 rounds pruning half the weights each, 10 samples verified by CROWN at eps 0.12. A minute or two on a laptop CPU.",
    config: {
      data: { dataset: "synthetic" },
      model: { arch: "mlp", widths: [64] },
      training: { regime: "natural", epochs: 3, lr: 0.1, epsStart: 1, epsLength: 0 },
      pruning: { method: "imp", rounds: 2, rate: 0.5, scope: "conv-linear" },
      verification: { mode: "crown", eps: 0.12, samples: 10, timeout: 5, pgdSteps: 10, pgdRestarts: 1, attackSamples: 100 },
    },
    methods: ["IMP", "Random"],
  },
  {
    id: "quick-cpu",
    name: "Quick CPU demo (FashionMNIST)",
    description: "cnn4, CROWN-IBP at eps 0.1, 3 epochs per round, IMP for 4 rounds, 50 samples by branch and bound.",
    config: {
      data: { dataset: "fashion-mnist", trainSize: 20000 },
      model: { arch: "cnn4" },
      training: { regime: "crown-ibp", epochs: 3, eps: 0.1, epsStart: 1, epsLength: 2 },
      pruning: { method: "imp", rounds: 4 },
      verification: { mode: "bab", samples: 50, timeout: 10, pgdRestarts: 5, pgdSteps: 50, attackSamples: 500 },
    },
  },
  studyPreset("sabr", "SABR", "small box 0.4 x eps", { sabrBoxScale: 0.4, sabrPgdSteps: 8 }),
  studyPreset("mtl-ibp", "MTL-IBP", "alpha 0.01, one attack step of 10 x eps", { mtlAlpha: 0.01, mtlAttackSteps: 1, mtlAttackStep: 10 }),
  {
    id: "paper-fmnist-certified",
    name: "Paper: FashionMNIST, CROWN-IBP",
    description: "The paper's certified setting: cnn7, eps 0.1, 200 epochs per round, IMP 16 rounds, 200 samples, 300 s each.",
    config: {
      data: { dataset: "fashion-mnist" },
      model: { arch: "cnn7" },
      training: { regime: "crown-ibp", epochs: 200, eps: 0.1 },
      pruning: { method: "imp", rounds: 16 },
      verification: { mode: "bab", samples: 200, timeout: 300 },
    },
  },
  {
    id: "paper-cifar-fgsm",
    name: "Paper: CIFAR-10, FGSM + GradAlign",
    description: "The paper's adversarial setting: cnn7, eps 2/255, 200 epochs per round, IMP 16 rounds, 200 samples.",
    config: {
      data: { dataset: "cifar10" },
      model: { arch: "cnn7" },
      training: { regime: "fgsm", epochs: 200, eps: 2 / 255 },
      pruning: { method: "imp", rounds: 16 },
      verification: { mode: "bab", samples: 200, timeout: 300 },
    },
  },
];
