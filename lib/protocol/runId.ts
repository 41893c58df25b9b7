/**
 * A run's id is a hash of the canonical JSON of its non-default settings (open_lth):
 * adding a setting with a default later does not change the id of older runs. The
 * engine computes the same id (engine/certprune/protocol.py); tests on both sides pin
 * the same hashes.
 */
import { createHash } from "node:crypto";
import { DEFAULT_CONFIG, RunConfig, type RunConfigInput } from "./config";

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

function isObject(value: unknown): value is Record<string, Json> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** The settings of `value` that differ from `defaults`; undefined when none do. */
export function nonDefault(value: Json, defaults: Json): Json | undefined {
  if (isObject(value) && isObject(defaults)) {
    const out: Record<string, Json> = {};
    for (const key of Object.keys(value)) {
      const diff = nonDefault(value[key], defaults[key] as Json);
      if (diff !== undefined) out[key] = diff;
    }
    return Object.keys(out).length ? out : undefined;
  }
  return canonicalJson(value) === canonicalJson(defaults) ? undefined : value;
}

/** JSON with sorted keys and no white space (numbers as JavaScript prints them). */
export function canonicalJson(value: Json | undefined): string {
  if (value === undefined) return "null";
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  if (isObject(value)) {
    const keys = Object.keys(value).sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson(value[k])}`).join(",")}}`;
  }
  return JSON.stringify(value);
}

export function runIdOf(config: RunConfigInput | RunConfig): string {
  const full = RunConfig.parse(config) as unknown as Json;
  const diff = nonDefault(full, DEFAULT_CONFIG as unknown as Json) ?? {};
  const digest = createHash("sha256").update(canonicalJson(diff)).digest("hex");
  return `run_${digest.slice(0, 16)}`;
}
