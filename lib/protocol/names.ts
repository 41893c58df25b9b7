/**
 * The protocol's names: datasets, models, regimes, methods and their labels, run
 * statuses. Plain constants with no zod, so that pages which only show runs (overview,
 * compare, shared views) do not ship the schema library to the browser. config.ts and
 * events.ts build their schemas from these.
 */

export const DATASETS = ["synthetic", "fashion-mnist", "cifar10", "svhn", "imagenet64"] as const;
export const ARCHS = ["cnn7", "cnn4", "mlp", "onnx"] as const;
export const REGIMES = ["natural", "fgsm", "ibp", "crown-ibp"] as const;
export const REGULARIZERS = ["none", "rs", "nrs", "slim"] as const;
export const PRUNING_METHODS = [
  "none", "random", "imp", "snip", "taylor", "hydra", "struct-lth", "slim", "nrs-channel",
] as const;
export const STRUCTURED_METHODS = ["struct-lth", "slim", "nrs-channel"] as const;
export const VERIFICATION_MODES = ["none", "ibp", "crown", "alpha-crown", "bab"] as const;
export const DEVICES = ["auto", "cpu", "cuda"] as const;

/** The paper's methods as (pruning method, regulariser) pairs. */
export const METHOD_LABELS: Record<string, { method: (typeof PRUNING_METHODS)[number]; regularizer: (typeof REGULARIZERS)[number] }> = {
  Dense: { method: "none", regularizer: "none" },
  Random: { method: "random", regularizer: "none" },
  IMP: { method: "imp", regularizer: "none" },
  SNIP: { method: "snip", regularizer: "none" },
  Taylor: { method: "taylor", regularizer: "none" },
  HYDRA: { method: "hydra", regularizer: "none" },
  "IMP+RS": { method: "imp", regularizer: "rs" },
  "IMP+NRS": { method: "imp", regularizer: "nrs" },
  "HYDRA+NRS": { method: "hydra", regularizer: "nrs" },
  StructLTH: { method: "struct-lth", regularizer: "none" },
  Slim: { method: "slim", regularizer: "slim" },
  "NRS-channel": { method: "nrs-channel", regularizer: "nrs" },
};

/** The label a researcher knows a run's method by, e.g. "IMP+NRS". */
export function methodLabel(config: { pruning: { method: string }; training: { regularizer: string } }): string {
  for (const [label, pair] of Object.entries(METHOD_LABELS)) {
    if (pair.method === config.pruning.method && pair.regularizer === config.training.regularizer) return label;
  }
  const base = Object.entries(METHOD_LABELS).find(([, p]) => p.method === config.pruning.method)?.[0] ?? config.pruning.method;
  return config.training.regularizer === "none" ? base : `${base}+${config.training.regularizer.toUpperCase()}`;
}

export const RUN_STATUSES = ["queued", "running", "finished", "failed", "cancelled"] as const;
export type RunStatus = (typeof RUN_STATUSES)[number];
export const TERMINAL_STATUSES: RunStatus[] = ["finished", "failed", "cancelled"];
