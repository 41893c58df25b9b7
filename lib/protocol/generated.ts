/**
 * Generated from engine/schemas/registry.json (the engine's registries: train/regimes/,
 * train/regularizers.py, pruning/registry.py, models.py) by `npm run schemas`; do not edit.
 * lib/protocol/names.ts re-exports these. To add a regime or a pruning method, see docs/extending.md.
 */

/** Training regimes (training.regime), in registry order. */
export const REGIMES = [
  "natural",
  "fgsm",
  "ibp",
  "crown-ibp",
  "sabr",
  "mtl-ibp"
] as const;

/** Each regime's label, help and optimizer defaults. */
export const REGIME_INFO = {
  "natural": {
    "label": "Natural",
    "help": "Cross-entropy on clean images (SGD 0.01, momentum 0.9, weight decay 5e-4).",
    "certified": false,
    "optimizer": "SGD",
    "lr": 0.01,
    "weightDecay": 0.0005
  },
  "fgsm": {
    "label": "FGSM+GradAlign",
    "help": "Cross-entropy at an FGSM example plus the GradAlign penalty (SGD); keeps the epoch with the best FGSM test accuracy.",
    "certified": false,
    "optimizer": "SGD",
    "lr": 0.01,
    "weightDecay": 0.0005
  },
  "ibp": {
    "label": "IBP",
    "help": "Worst-case cross-entropy from interval bounds over the eps box, eps ramped up (Adam 1e-3).",
    "certified": true,
    "optimizer": "Adam",
    "lr": 0.001,
    "weightDecay": 0.00001
  },
  "crown-ibp": {
    "label": "CROWN-IBP",
    "help": "Worst-case cross-entropy from CROWN-IBP bounds mixed into IBP bounds as eps ramps up (Adam 1e-3); the paper's default.",
    "certified": true,
    "optimizer": "Adam",
    "lr": 0.001,
    "weightDecay": 0.00001
  },
  "sabr": {
    "label": "SABR",
    "help": "Worst-case cross-entropy from interval bounds over a small box (sabrBoxScale x eps) around a PGD point inside the eps box (Mueller et al. 2023; Adam 1e-3).",
    "certified": true,
    "optimizer": "Adam",
    "lr": 0.001,
    "weightDecay": 0.00001
  },
  "mtl-ibp": {
    "label": "MTL-IBP",
    "help": "A convex combination of the adversarial cross-entropy (weight 1 - mtlAlpha) and the IBP worst-case cross-entropy (weight mtlAlpha) (De Palma et al. 2024; Adam 1e-3).",
    "certified": true,
    "optimizer": "Adam",
    "lr": 0.001,
    "weightDecay": 0.00001
  }
} as const;

/** Regularisers (training.regularizer). */
export const REGULARIZERS = [
  "none",
  "rs",
  "nrs",
  "slim"
] as const;

/** Each regulariser's help; stability ones read IBP bounds at the full eps. */
export const REGULARIZER_INFO = {
  "none": {
    "help": "No regulariser.",
    "stability": false
  },
  "rs": {
    "help": "ReLU stability (Xiao et al. 2019): penalises neurons whose bounds straddle 0.",
    "stability": true
  },
  "nrs": {
    "help": "Neuron ReLU stability (the paper's): RS scaled by each channel's BatchNorm gamma.",
    "stability": true
  },
  "slim": {
    "help": "Network Slimming: L1 on BatchNorm gammas (weight 1e-4).",
    "stability": false
  }
} as const;

/** Pruning methods (pruning.method); "none" is the dense run, no pruning. */
export const PRUNING_METHODS = [
  "none",
  "random",
  "imp",
  "snip",
  "taylor",
  "hydra",
  "struct-lth",
  "slim",
  "nrs-channel"
] as const;

/** Each pruning method's label, help, unit, default rate and inputs. */
export const PRUNING_METHOD_INFO = {
  "random": {
    "label": "Random",
    "help": "Removes surviving weights uniformly at random (a baseline).",
    "unit": "weights",
    "structured": false,
    "defaultRate": 0.2,
    "needs": [
      "generator"
    ]
  },
  "imp": {
    "label": "IMP",
    "help": "Iterative magnitude pruning: removes the smallest trained weights globally.",
    "unit": "weights",
    "structured": false,
    "defaultRate": 0.2,
    "needs": []
  },
  "snip": {
    "label": "SNIP",
    "help": "Connection sensitivity |w * dL/dw| of the initial weights on the regime's loss.",
    "unit": "weights",
    "structured": false,
    "defaultRate": 0.2,
    "needs": [
      "batches",
      "init_state",
      "loss"
    ]
  },
  "taylor": {
    "label": "Taylor",
    "help": "First-order Taylor importance |w * dL/dw| of the trained weights on the regime's loss.",
    "unit": "weights",
    "structured": false,
    "defaultRate": 0.2,
    "needs": [
      "batches",
      "loss"
    ]
  },
  "hydra": {
    "label": "HYDRA",
    "help": "Learns an importance score per weight on the regime's robust loss (Adam, hydraEpochs epochs), keeps the top scores.",
    "unit": "weights",
    "structured": false,
    "defaultRate": 0.2,
    "needs": [
      "epoch_batches",
      "loss"
    ]
  },
  "struct-lth": {
    "label": "StructLTH",
    "help": "Structured lottery tickets (IMP-Refill): ranks channels by the summed magnitude of their surviving filter weights.",
    "unit": "channels",
    "structured": true,
    "defaultRate": 0.11,
    "needs": []
  },
  "slim": {
    "label": "Slim",
    "help": "Network Slimming: removes the channels with the smallest BatchNorm |gamma| (train with the slim regulariser).",
    "unit": "channels",
    "structured": true,
    "defaultRate": 0.11,
    "needs": []
  },
  "nrs-channel": {
    "label": "NRS-channel",
    "help": "Removes the channels whose ReLUs are least stable under interval bounds, relative to their BatchNorm gamma (train with the nrs regulariser).",
    "unit": "channels",
    "structured": true,
    "defaultRate": 0.11,
    "needs": [
      "batches",
      "relu_bounds"
    ]
  }
} as const;

/** Methods that remove whole channels (their schedule counts channels). */
export const STRUCTURED_METHODS = [
  "struct-lth",
  "slim",
  "nrs-channel"
] as const;

/** Default pruning rate per round by unit (pruning.rate null). */
export const DEFAULT_RATES = {
  "weights": 0.2,
  "channels": 0.11
} as const;

/** The paper's methods as (label, pruning method, regulariser), in Table I order. */
export const PAPER_METHODS = [
  {
    "label": "Dense",
    "method": "none",
    "regularizer": "none"
  },
  {
    "label": "Random",
    "method": "random",
    "regularizer": "none"
  },
  {
    "label": "IMP",
    "method": "imp",
    "regularizer": "none"
  },
  {
    "label": "SNIP",
    "method": "snip",
    "regularizer": "none"
  },
  {
    "label": "Taylor",
    "method": "taylor",
    "regularizer": "none"
  },
  {
    "label": "HYDRA",
    "method": "hydra",
    "regularizer": "none"
  },
  {
    "label": "IMP+RS",
    "method": "imp",
    "regularizer": "rs"
  },
  {
    "label": "IMP+NRS",
    "method": "imp",
    "regularizer": "nrs"
  },
  {
    "label": "HYDRA+NRS",
    "method": "hydra",
    "regularizer": "nrs"
  },
  {
    "label": "StructLTH",
    "method": "struct-lth",
    "regularizer": "none"
  },
  {
    "label": "Slim",
    "method": "slim",
    "regularizer": "slim"
  },
  {
    "label": "NRS-channel",
    "method": "nrs-channel",
    "regularizer": "nrs"
  }
] as const;

/** Trainable architectures (model.arch, besides an uploaded ONNX model). */
export const ARCHITECTURES = [
  "cnn7",
  "cnn4",
  "mlp"
] as const;

/** Each architecture's help. */
export const ARCHITECTURE_INFO = {
  "cnn7": {
    "help": "The paper's CNN7: 5 conv layers with BatchNorm, a 100-unit hidden layer."
  },
  "cnn4": {
    "help": "A small CNN for quick runs: 2 stride-2 conv layers with BatchNorm, a 100-unit hidden layer."
  },
  "mlp": {
    "help": "A fully connected network with hidden layers of model.widths."
  }
} as const;
