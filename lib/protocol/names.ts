/**
 * The protocol's names: datasets, models, regimes, methods and their labels, run
 * statuses. Plain constants with no zod, so that pages which only show runs (overview,
 * compare, shared views) do not ship the schema library to the browser. config.ts and
 * events.ts build their schemas from these.
 *
 * Regimes, regularisers, pruning methods (with their units, default rates and labels)
 * and architectures are the engine's registries, generated into ./generated.ts by
 * `npm run schemas` (see engine/certprune/describe.py): never copy them here by hand.
 */
import { ARCHITECTURES, PAPER_METHODS, PRUNING_METHOD_INFO, PRUNING_METHODS, REGULARIZERS } from "./generated";

export {
  ARCHITECTURES, ARCHITECTURE_INFO, DEFAULT_RATES, PAPER_METHODS, PRUNING_METHOD_INFO, PRUNING_METHODS, REGIMES,
  REGIME_INFO, REGULARIZERS, REGULARIZER_INFO, STRUCTURED_METHODS,
} from "./generated";

export const DATASETS = ["synthetic", "fashion-mnist", "cifar10", "svhn", "imagenet64"] as const;
/** The engine's architectures, plus "onnx": an uploaded model (verified only). */
export const ARCHS = [...ARCHITECTURES, "onnx"] as const;
export const VERIFICATION_MODES = ["none", "ibp", "crown", "alpha-crown", "bab"] as const;
export const DEVICES = ["auto", "cpu", "cuda"] as const;

export type PruningMethod = (typeof PRUNING_METHODS)[number];
export type Regularizer = (typeof REGULARIZERS)[number];

/** The paper's methods as (pruning method, regulariser) pairs, by the label the paper uses. */
export const METHOD_LABELS: Record<string, { method: PruningMethod; regularizer: Regularizer }> = Object.fromEntries(
  PAPER_METHODS.map(({ label, method, regularizer }) => [label, { method, regularizer }]),
);

/**
 * The fraction of what remains a method removes per round when pruning.rate is null (the
 * engine's default: 0.2 of weights, 0.11 of channels); null for "none" or an unknown method.
 */
export function defaultRate(method: string): number | null {
  const info = (PRUNING_METHOD_INFO as Record<string, { defaultRate: number } | undefined>)[method];
  return info ? info.defaultRate : null;
}

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
