/** A configuration as dotted settings: side by side for comparing, and as the key of a series. */
import type { RunConfig } from "../protocol";

type Flat = Record<string, unknown>;

/** A configuration as dotted paths -> values, e.g. { "training.epochs": 200, ... }. */
export function flattenConfig(config: unknown, prefix = ""): Flat {
  const out: Flat = {};
  if (config && typeof config === "object" && !Array.isArray(config)) {
    for (const [key, value] of Object.entries(config as Record<string, unknown>)) {
      const path = prefix ? `${prefix}.${key}` : key;
      if (value && typeof value === "object" && !Array.isArray(value)) Object.assign(out, flattenConfig(value, path));
      else out[path] = value;
    }
  }
  return out;
}

export function formatSetting(value: unknown): string {
  if (value === null || value === undefined) return "default";
  if (Array.isArray(value)) return value.join(", ");
  if (typeof value === "number") return Number.isInteger(value) ? String(value) : String(Number(value.toPrecision(6)));
  return String(value);
}

export interface SettingRow {
  path: string;
  values: string[];
  differs: boolean;
}

/** Every setting of the given configurations, side by side; `differs` when they disagree. */
export function settingsTable(configs: RunConfig[]): SettingRow[] {
  const flats = configs.map((c) => flattenConfig(c));
  const paths = [...new Set(flats.flatMap((f) => Object.keys(f)))];
  return paths.map((path) => {
    const values = flats.map((f) => formatSetting(f[path]));
    return { path, values, differs: new Set(values).size > 1 };
  });
}

/** A key that is equal for runs that differ only in their seed (or device). */
export function seriesKeyOf(config: RunConfig): string {
  const flat = flattenConfig(config);
  delete flat.seed;
  delete flat.device;
  return JSON.stringify(Object.keys(flat).sort().map((k) => [k, flat[k]]));
}
