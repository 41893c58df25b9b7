/**
 * The runs overview as pure functions: search, filter, sort and group runs into table
 * rows, and the CSV of what the table shows. The page only renders what these return.
 */
import { flattenConfig, formatSetting } from "./compare/settings";
import { toCsv } from "./csv";
import type { RunConfig, RunStatus } from "./protocol";
import { DEFAULT_SETTINGS as DEFAULT_CONFIG } from "./protocol/defaults";
import { methodLabel } from "./protocol/names";

/** What the overview needs of a run (runs.list returns more). */
export interface OverviewRun {
  id: string;
  label: string;
  status: RunStatus;
  progress: number;
  config: RunConfig;
  summary: { bestVerifiedAccuracy?: number | null; bestRemainingRatio?: number | null; bestRound?: number | null; round?: number; rounds?: number };
  sweepId: string | null;
  createdAt: number;
}

/**
 * A run as the overview receives it: only its settings that differ from the defaults
 * (a thousand full configurations would be most of the page's weight).
 */
export interface CompactRun {
  id: string;
  label: string;
  status: RunStatus;
  progress: number;
  sweepId: string | null;
  createdAt: number;
  summary: OverviewRun["summary"];
  settings: Record<string, unknown>;
}

/** `defaults` with `diff` laid over it, object by object (arrays and values replaced). */
export function withDefaults<T>(defaults: T, diff: unknown): T {
  if (!diff || typeof diff !== "object" || Array.isArray(diff) || !defaults || typeof defaults !== "object" || Array.isArray(defaults)) {
    return (diff === undefined ? defaults : diff) as T;
  }
  const out: Record<string, unknown> = { ...(defaults as Record<string, unknown>) };
  for (const [key, value] of Object.entries(diff)) out[key] = withDefaults(out[key], value);
  return out as T;
}

export function expandRun(run: CompactRun): OverviewRun {
  const { settings, ...rest } = run;
  return { ...rest, config: withDefaults(DEFAULT_CONFIG, settings) };
}

export type SortKey = "created" | "label" | "status" | "progress" | "dataset" | "arch" | "regime" | "method" | "verifier" | "verified" | "remaining";
export interface Sort {
  key: SortKey;
  descending: boolean;
}

export interface Filters {
  search: string;
  status: RunStatus | "";
  dataset: string;
  regime: string;
  method: string;
}

export const NO_FILTERS: Filters = { search: "", status: "", dataset: "", regime: "", method: "" };

/** Every field a table can be grouped by: sweep, status, method, and every setting but the seed. */
export const GROUP_FIELDS: { key: string; label: string }[] = [
  { key: "", label: "no grouping" },
  { key: "sweep", label: "sweep" },
  { key: "status", label: "status" },
  { key: "method", label: "method" },
  ...Object.keys(flattenConfig(DEFAULT_CONFIG))
    .filter((path) => path !== "seed")
    .map((path) => ({ key: path, label: path })),
];

const STATUS_ORDER: Record<RunStatus, number> = { running: 0, queued: 1, failed: 2, cancelled: 3, finished: 4 };

export function methodOf(run: OverviewRun): string {
  return methodLabel(run.config);
}

function sortValue(run: OverviewRun, key: SortKey): string | number | null {
  switch (key) {
    case "created": return run.createdAt;
    case "label": return run.label.toLowerCase();
    case "status": return STATUS_ORDER[run.status];
    case "progress": return run.progress;
    case "dataset": return run.config.data.dataset;
    case "arch": return run.config.model.arch;
    case "regime": return run.config.training.regime;
    case "method": return methodOf(run);
    case "verifier": return run.config.verification.mode;
    case "verified": return run.summary.bestVerifiedAccuracy ?? null;
    case "remaining": return run.summary.bestRemainingRatio ?? null;
  }
}

/** Sorted copy; missing values go last whichever the direction; ties keep newest first. */
export function sortRuns(runs: OverviewRun[], sort: Sort): OverviewRun[] {
  const dir = sort.descending ? -1 : 1;
  return [...runs].sort((a, b) => {
    const x = sortValue(a, sort.key);
    const y = sortValue(b, sort.key);
    if (x === null || y === null) {
      if (x !== y) return x === null ? 1 : -1;
    } else if (x !== y) return (x < y ? -1 : 1) * dir;
    return b.createdAt - a.createdAt || a.id.localeCompare(b.id);
  });
}

export function filterRuns(runs: OverviewRun[], filters: Filters): OverviewRun[] {
  const words = filters.search.toLowerCase().split(/\s+/).filter(Boolean);
  return runs.filter((run) => {
    if (filters.status && run.status !== filters.status) return false;
    if (filters.dataset && run.config.data.dataset !== filters.dataset) return false;
    if (filters.regime && run.config.training.regime !== filters.regime) return false;
    if (filters.method && methodOf(run) !== filters.method) return false;
    if (!words.length) return true;
    const haystack = [run.label, run.id, run.status, methodOf(run), run.config.data.dataset, run.config.model.arch,
      run.config.training.regime, run.config.verification.mode, run.sweepId ?? "", `seed ${run.config.seed}`].join(" ").toLowerCase();
    return words.every((w) => haystack.includes(w));
  });
}

/** The value a run is grouped under (null: not in any group, e.g. a run outside every sweep). */
export function groupValue(run: OverviewRun, key: string): string | null {
  if (key === "sweep") return run.sweepId;
  if (key === "status") return run.status;
  if (key === "method") return methodOf(run);
  return formatSetting(flattenConfig(run.config)[key]);
}

export interface GroupRow {
  kind: "group";
  key: string;
  field: string;
  value: string;
  runs: OverviewRun[];
  collapsed: boolean;
}
export interface RunRow {
  kind: "run";
  run: OverviewRun;
  grouped: boolean;
}
export type Row = GroupRow | RunRow;

/**
 * Table rows: runs in sort order; with a group field, each group's header row first (at
 * the place of its first run) followed by its runs unless it is collapsed.
 */
export function overviewRows(runs: OverviewRun[], groupBy: string, collapsed: ReadonlySet<string>): Row[] {
  if (!groupBy) return runs.map((run) => ({ kind: "run", run, grouped: false }));
  const groups = new Map<string, OverviewRun[]>();
  const order: (string | OverviewRun)[] = [];
  for (const run of runs) {
    const value = groupValue(run, groupBy);
    if (value === null) {
      order.push(run);
      continue;
    }
    if (!groups.has(value)) {
      groups.set(value, []);
      order.push(value);
    }
    groups.get(value)!.push(run);
  }
  const rows: Row[] = [];
  for (const item of order) {
    if (typeof item !== "string") {
      rows.push({ kind: "run", run: item, grouped: false });
      continue;
    }
    const members = groups.get(item)!;
    const key = `${groupBy}=${item}`;
    const isCollapsed = collapsed.has(key);
    rows.push({ kind: "group", key, field: groupBy, value: item, runs: members, collapsed: isCollapsed });
    if (!isCollapsed) for (const run of members) rows.push({ kind: "run", run, grouped: true });
  }
  return rows;
}

/** The table as CSV, one line per run, in the table's order. */
export function runsCsv(runs: OverviewRun[]): string {
  return toCsv(
    runs.map((r) => ({
      id: r.id,
      label: r.label,
      status: r.status,
      progress: Number(r.progress.toFixed(4)),
      sweep: r.sweepId ?? "",
      dataset: r.config.data.dataset,
      model: r.config.model.arch,
      regime: r.config.training.regime,
      method: methodOf(r),
      verifier: r.config.verification.mode,
      epochs: r.config.training.epochs,
      rounds: r.config.pruning.rounds,
      seed: r.config.seed,
      bestVerifiedAccuracy: r.summary.bestVerifiedAccuracy ?? "",
      bestRemainingRatio: r.summary.bestRemainingRatio ?? "",
      bestRound: r.summary.bestRound ?? "",
      createdAt: new Date(r.createdAt).toISOString(),
    })),
  );
}
