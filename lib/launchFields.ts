/**
 * The launch form's fields, derived from the run configuration's schema (lib/protocol),
 * so every setting the engine knows has a field, with its default and help text, and a
 * setting added to the protocol appears in the form without touching it. The form keeps
 * text as typed; `configFromValues` turns it back into settings for the server to judge.
 */
import { z } from "zod";
import { DEFAULT_CONFIG, RunConfig, type RunConfigInput } from "./protocol";

export type FieldKind = "select" | "number" | "list" | "checkbox" | "text";

export interface FieldSpec {
  path: string;
  label: string;
  help: string;
  kind: FieldKind;
  options?: string[];
  nullable: boolean;
}

/** Settings the form shows up front; the rest are under "All settings". */
export const MAIN_FIELDS = [
  "data.dataset", "data.trainSize", "model.arch", "model.widths", "training.regime", "training.epochs", "training.eps",
  "pruning.rounds", "verification.mode", "verification.samples", "verification.timeout",
];
/** Settings the form sets in other ways: the method checkboxes and the seeds field. */
export const SPECIAL_FIELDS = ["pruning.method", "training.regularizer", "seed"];

const LABELS: Record<string, string> = {
  "data.dataset": "Dataset",
  "data.trainSize": "Training images",
  "data.testSize": "Test images",
  "model.arch": "Model",
  "model.widths": "MLP widths",
  "training.regime": "Training regime",
  "training.epochs": "Epochs per round",
  "training.eps": "Training epsilon",
  "training.lr": "Learning rate",
  "training.lossFusion": "Loss fusion (CROWN-IBP)",
  "training.ibpInit": "IBP initialisation",
  "training.fastWarmup": "Short warm-up regularisers",
  "training.sabrBoxScale": "SABR box scale (lambda)",
  "training.sabrPgdSteps": "SABR PGD steps",
  "training.mtlAlpha": "MTL-IBP alpha",
  "training.mtlAttackSteps": "MTL-IBP attack steps",
  "training.mtlAttackStep": "MTL-IBP attack step (x eps)",
  "pruning.rounds": "Pruning rounds",
  "pruning.rate": "Pruning rate",
  "verification.mode": "Verifier",
  "verification.samples": "Verification samples",
  "verification.timeout": "Timeout per sample (s)",
  "verification.eps": "Verification epsilon",
  "verification.pgdSteps": "PGD steps",
  "verification.pgdRestarts": "PGD restarts",
  "verification.attackSamples": "Attack images",
};

const words = (key: string) => key.replace(/([a-z])([A-Z])/g, "$1 $2").toLowerCase().replace(/^./, (c) => c.toUpperCase());

interface JsonSchema {
  type?: string;
  enum?: string[];
  anyOf?: JsonSchema[];
  description?: string;
  properties?: Record<string, JsonSchema>;
}

function fieldOf(path: string, schema: JsonSchema): FieldSpec {
  const variants = schema.anyOf ?? [schema];
  const nullable = variants.some((v) => v.type === "null");
  const value = variants.find((v) => v.type !== "null") ?? schema;
  const kind: FieldKind = value.enum ? "select" : value.type === "boolean" ? "checkbox" : value.type === "array" ? "list"
    : value.type === "number" || value.type === "integer" ? "number" : "text";
  return { path, label: LABELS[path] ?? words(path.split(".").pop()!), help: schema.description ?? "", kind, options: value.enum, nullable };
}

/** Every setting of the run configuration, in the schema's order. */
export function allFields(): FieldSpec[] {
  const schema = z.toJSONSchema(RunConfig, { io: "input" }) as JsonSchema;
  const out: FieldSpec[] = [];
  for (const [key, value] of Object.entries(schema.properties ?? {})) {
    if (value.properties) for (const [inner, s] of Object.entries(value.properties)) out.push(fieldOf(`${key}.${inner}`, s));
    else out.push(fieldOf(key, value));
  }
  return out;
}

export type FormValues = Record<string, string | boolean>;

export function getPath(config: unknown, path: string): unknown {
  return path.split(".").reduce<unknown>((obj, key) => (obj as Record<string, unknown> | undefined)?.[key], config);
}

/** The form's values for a configuration (unset settings show their defaults). */
export function valuesFrom(config: RunConfigInput, fields: FieldSpec[]): FormValues {
  const values: FormValues = {};
  for (const f of fields) {
    const v = getPath(config, f.path) ?? getPath(DEFAULT_CONFIG, f.path);
    values[f.path] = f.kind === "checkbox" ? Boolean(v) : v == null ? "" : Array.isArray(v) ? v.join(", ") : String(v);
  }
  return values;
}

/** A typed number, or the text itself, so that the server's message says what is wrong with it. */
function numberOrText(raw: string): number | string {
  const n = Number(raw);
  return raw.trim() !== "" && Number.isFinite(n) ? n : raw;
}

/** The configuration the form describes: `base` (e.g. the preset) overlaid with every field's value. */
export function configFromValues(base: RunConfigInput, values: FormValues, fields: FieldSpec[]): RunConfigInput {
  const config = structuredClone(base) as Record<string, unknown>;
  for (const f of fields) {
    if (!(f.path in values)) continue;
    const raw = values[f.path];
    let value: unknown;
    if (f.kind === "checkbox") value = raw === true;
    else if (typeof raw !== "string") continue;
    else if (f.kind === "number") value = raw.trim() === "" ? null : numberOrText(raw);
    else if (f.kind === "list") value = raw.trim() === "" ? (f.nullable ? null : []) : raw.split(/[\s,]+/).filter(Boolean).map(numberOrText);
    else value = raw === "" && f.nullable ? null : raw; // an empty optional text or select: its default
    const [group, key] = f.path.split(".");
    if (key === undefined) config[group] = value;
    else config[group] = { ...((config[group] as object) ?? {}), [key]: value };
  }
  return config as RunConfigInput;
}

/** "0, 1, 2" -> [0, 1, 2]; anything else is left for the server to refuse with a message. */
export function parseSeeds(text: string): number[] | string {
  const parts = text.split(/[\s,]+/).filter(Boolean);
  if (parts.length === 0) return [];
  const seeds = parts.map(Number);
  return seeds.every((s) => Number.isInteger(s)) ? seeds : text;
}
