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
  /** The researcher's tags and notes (absent in rows made before they existed). */
  tags?: string[];
  notes?: string;
  startedAt?: number | null;
  finishedAt?: number | null;
}

/** What the overview carries of a stored run besides its settings and summary. */
export function overviewExtras(run: { tags: string[]; notes: string; startedAt: number | null; finishedAt: number | null }) {
  return { tags: run.tags, notes: run.notes, startedAt: run.startedAt, finishedAt: run.finishedAt };
}

/** Seconds a run has taken (finished) or is taking (running); null before it started. */
export function durationOf(run: Pick<OverviewRun, "startedAt" | "finishedAt" | "status">, now = Date.now()): number | null {
  if (run.startedAt == null) return null;
  const end = run.finishedAt ?? (run.status === "running" ? now : null);
  return end == null ? null : Math.max(0, (end - run.startedAt) / 1000);
}

/** An uploaded ONNX model verified as it is (no training, no pruning). */
export const isUploadedModel = (run: { config: RunConfig }) => run.config.model.arch === "onnx";

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
  tags?: string[];
  notes?: string;
  startedAt?: number | null;
  finishedAt?: number | null;
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

export type SortKey = "created" | "label" | "status" | "progress" | "dataset" | "arch" | "regime" | "method" | "verifier" | "verified" | "remaining" | "duration";
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
  /** Runs carrying this tag ("" for any). */
  tag: string;
}

export const NO_FILTERS: Filters = { search: "", status: "", dataset: "", regime: "", method: "", tag: "" };

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

/** The method column: the pruning method, or "uploaded model" for a verified ONNX upload. */
export function methodOf(run: OverviewRun): string {
  return isUploadedModel(run) ? "uploaded model" : methodLabel(run.config);
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
    case "duration": return durationOf(run);
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
    if (filters.tag && !(run.tags ?? []).includes(filters.tag)) return false;
    if (!words.length) return true;
    const haystack = [run.label, run.id, run.status, methodOf(run), run.config.data.dataset, run.config.model.arch,
      run.config.training.regime, run.config.verification.mode, run.sweepId ?? "", `seed ${run.config.seed}`,
      ...(run.tags ?? []).map((t) => `#${t}`), run.notes ?? ""].join(" ").toLowerCase();
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
  /** Every run of a group has this dataset: groups never mix datasets. */
  dataset: string;
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
 * the place of its first run) followed by its runs unless it is collapsed. A group is a
 * value of the field on one dataset: results on different datasets are never pooled.
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
    const key = groupBy === "data.dataset" ? `${groupBy}=${value}` : `${groupBy}=${value}|data.dataset=${run.config.data.dataset}`;
    if (!groups.has(key)) {
      groups.set(key, []);
      order.push(key);
    }
    groups.get(key)!.push(run);
  }
  const rows: Row[] = [];
  for (const item of order) {
    if (typeof item !== "string") {
      rows.push({ kind: "run", run: item, grouped: false });
      continue;
    }
    const members = groups.get(item)!;
    const key = item;
    const isCollapsed = collapsed.has(key);
    const value = groupValue(members[0], groupBy)!;
    rows.push({ kind: "group", key, field: groupBy, value, dataset: members[0].config.data.dataset, runs: members, collapsed: isCollapsed });
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
      durationSeconds: durationOf(r) == null ? "" : Math.round(durationOf(r)!),
      tags: (r.tags ?? []).join(" "),
    })),
  );
}
