/**
 * lib/protocol/generated.ts from engine/schemas/registry.json (the engine's registries, written by
 * `python -m certprune.describe`). One direction: the Python records are the source, this
 * renders their facts as TypeScript constants, names.ts re-exports them. `npm run schemas`
 * runs both steps; generated.test.ts fails when generated.ts is stale.
 */

export interface Registry {
  regimes: { name: string; label: string; help: string; certified: boolean; optimizer: string; lr: number; weightDecay: number }[];
  regularizers: { name: string; help: string; stability: boolean }[];
  pruningMethods: { name: string; label: string; help: string; unit: string; structured: boolean; defaultRate: number; needs: string[] }[];
  defaultRates: Record<string, number>;
  paperMethods: { label: string; method: string; regularizer: string }[];
  architectures: { name: string; help: string }[];
}

const HEADER = `/**
 * Generated from engine/schemas/registry.json (the engine's registries: train/regimes/,
 * train/regularizers.py, pruning/registry.py, models.py) by \`npm run schemas\`; do not edit.
 * lib/protocol/names.ts re-exports these. To add a regime or a pruning method, see docs/extending.md.
 */
`;

const byName = <T extends { name: string }>(items: T[]) =>
  Object.fromEntries(items.map(({ name, ...rest }) => [name, rest]));

function constant(doc: string, name: string, value: unknown): string {
  return `/** ${doc} */\nexport const ${name} = ${JSON.stringify(value, null, 2)} as const;\n`;
}

/** The text of lib/protocol/generated.ts for a registry. */
export function renderGenerated(registry: Registry): string {
  const methods = registry.pruningMethods;
  return [
    HEADER,
    constant("Training regimes (training.regime), in registry order.", "REGIMES", registry.regimes.map((r) => r.name)),
    constant("Each regime's label, help and optimizer defaults.", "REGIME_INFO", byName(registry.regimes)),
    constant("Regularisers (training.regularizer).", "REGULARIZERS", registry.regularizers.map((r) => r.name)),
    constant("Each regulariser's help; stability ones read IBP bounds at the full eps.", "REGULARIZER_INFO", byName(registry.regularizers)),
    constant('Pruning methods (pruning.method); "none" is the dense run, no pruning.', "PRUNING_METHODS", ["none", ...methods.map((m) => m.name)]),
    constant("Each pruning method's label, help, unit, default rate and inputs.", "PRUNING_METHOD_INFO", byName(methods)),
    constant("Methods that remove whole channels (their schedule counts channels).", "STRUCTURED_METHODS", methods.filter((m) => m.structured).map((m) => m.name)),
    constant("Default pruning rate per round by unit (pruning.rate null).", "DEFAULT_RATES", registry.defaultRates),
    constant("The paper's methods as (label, pruning method, regulariser), in Table I order.", "PAPER_METHODS", registry.paperMethods),
    constant("Trainable architectures (model.arch, besides an uploaded ONNX model).", "ARCHITECTURES", registry.architectures.map((a) => a.name)),
    constant("Each architecture's help.", "ARCHITECTURE_INFO", byName(registry.architectures)),
  ].join("\n");
}

/**
 * The text of lib/protocol/defaults.ts: every setting's default as a plain object, for
 * browser code that must stay light (no zod). Rendered from config.ts's DEFAULT_CONFIG.
 */
export function renderDefaults(defaults: unknown): string {
  return `/**
 * Every setting's default as a plain object, for browser code that must stay light
 * (the overview shows each run's settings as differences from these). Generated from the
 * zod schema in config.ts (the source of truth) by \`npm run schemas\`; do not edit.
 * protocol.test.ts fails if the two drift.
 */
import type { RunConfig } from "./config";

export const DEFAULT_SETTINGS: RunConfig = ${JSON.stringify(defaults, null, 2)};
`;
}
