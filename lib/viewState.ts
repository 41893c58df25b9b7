/**
 * The state of a view that a link carries: what is on screen besides the runs (which
 * methods are hidden, which metric and layer are shown). The compare page keeps it in
 * its URL; a share link stores it, validated on the server by lib/viewStateSchema.ts.
 * Plain code with no zod, so the pages that read and write it stay light.
 */

export const COMPARE_METRICS = ["verified", "standard", "adversarial", "unstable"] as const;
export type CompareMetric = (typeof COMPARE_METRICS)[number];

/** Bounds on what a link may carry. */
export const LIMITS = { label: 200, hidden: 100, round: 1000 } as const;

export interface CompareViewState {
  metric: CompareMetric;
  /** Series labels switched off in the legend. */
  hidden: string[];
  /** The layer whose sparsity is drawn (null: the first). */
  layer: string | null;
  /** The settings table shows only the settings that differ. */
  onlyDiff: boolean;
}

export interface RunViewState {
  /** The round selected on the run page (null: the latest). */
  round: number | null;
  /** The layer selected for the stability histograms (null: the first). */
  layer: string | null;
}

export const DEFAULT_COMPARE_STATE: CompareViewState = { metric: "verified", hidden: [], layer: null, onlyDiff: true };
export const DEFAULT_RUN_STATE: RunViewState = { round: null, layer: null };

const validLabel = (s: string | undefined): s is string => s != null && s.length > 0 && s.length <= LIMITS.label;
const first = (query: Record<string, string | string[] | undefined>, key: string) => {
  const v = query[key];
  return Array.isArray(v) ? v[0] : v;
};

/** The compare page's URL query for runs and state (defaults left out, so links stay short and readable). */
export function compareQuery(runIds: string[], state: Partial<CompareViewState> = {}): string {
  const parts = [`runs=${runIds.map(encodeURIComponent).join(",")}`];
  if (state.metric && state.metric !== "verified") parts.push(`metric=${state.metric}`);
  if (state.hidden?.length) parts.push(`hide=${encodeURIComponent(state.hidden.join("|"))}`);
  if (state.layer) parts.push(`layer=${encodeURIComponent(state.layer)}`);
  if (state.onlyDiff === false) parts.push("all=1");
  return parts.join("&");
}

/** Runs and state from the compare page's URL query; anything malformed falls back to defaults. */
export function parseCompareQuery(query: Record<string, string | string[] | undefined>): { runIds: string[]; state: CompareViewState } {
  const runIds = (first(query, "runs") ?? "").split(",").map((s) => s.trim()).filter((s) => /^run_[0-9a-f]{16}$/.test(s));
  const metric = first(query, "metric");
  const hidden = (first(query, "hide") ?? "").split("|").filter(Boolean).slice(0, LIMITS.hidden);
  const layer = first(query, "layer");
  const valid = hidden.every(validLabel) && (layer === undefined || layer === "" || validLabel(layer));
  const state: CompareViewState = valid
    ? {
        metric: COMPARE_METRICS.includes(metric as CompareMetric) ? (metric as CompareMetric) : "verified",
        hidden,
        layer: layer || null,
        onlyDiff: first(query, "all") !== "1",
      }
    : DEFAULT_COMPARE_STATE;
  return { runIds: [...new Set(runIds)].slice(0, 200), state };
}

/** The run page's URL query for its state, e.g. "round=3&layer=conv2" ("" for the defaults). */
export function runQuery(state: Partial<RunViewState>): string {
  const parts: string[] = [];
  if (state.round != null) parts.push(`round=${state.round}`);
  if (state.layer) parts.push(`layer=${encodeURIComponent(state.layer)}`);
  return parts.join("&");
}

/**
 * The run page's state from its URL query (?round=3&layer=conv2); each malformed value falls
 * back to `fallback`'s (a share link's saved state, or the defaults).
 */
export function parseRunQuery(query: Record<string, string | string[] | undefined>, fallback: RunViewState = DEFAULT_RUN_STATE): RunViewState {
  const roundText = first(query, "round");
  const round = roundText != null && /^\d{1,4}$/.test(roundText) && Number(roundText) <= LIMITS.round ? Number(roundText) : null;
  const layer = first(query, "layer");
  return {
    round: round ?? fallback.round,
    layer: validLabel(layer) ? layer : fallback.layer,
  };
}

// ------------------------------------------------------------------ the runs table

/** The runs table's state in its URL: filters, grouping, sort and hidden columns. */
export interface RunsTableState {
  search: string;
  status: string;
  dataset: string;
  regime: string;
  method: string;
  tag: string;
  /** "" for no grouping. */
  groupBy: string;
  sort: { key: string; descending: boolean };
  /** Column ids switched off in the column chooser. */
  hidden: string[];
}

export const DEFAULT_RUNS_TABLE_STATE: RunsTableState = {
  search: "", status: "", dataset: "", regime: "", method: "", tag: "", groupBy: "sweep",
  sort: { key: "created", descending: true }, hidden: [],
};

const FILTER_KEYS = [["q", "search"], ["status", "status"], ["dataset", "dataset"], ["regime", "regime"], ["method", "method"], ["tag", "tag"]] as const;
const SHORT_TEXT = 200;

/** "q=imp&group=method&sort=verified.desc&hide=seed,regime" ("" for the defaults). */
export function runsTableQuery(state: RunsTableState): string {
  const q = new URLSearchParams();
  for (const [key, field] of FILTER_KEYS) if (state[field]) q.set(key, state[field]);
  if (state.groupBy !== DEFAULT_RUNS_TABLE_STATE.groupBy) q.set("group", state.groupBy || "none");
  const sort = DEFAULT_RUNS_TABLE_STATE.sort;
  if (state.sort.key !== sort.key || state.sort.descending !== sort.descending) q.set("sort", `${state.sort.key}.${state.sort.descending ? "desc" : "asc"}`);
  if (state.hidden.length) q.set("hide", state.hidden.join(","));
  return q.toString();
}

/**
 * The runs table's state from its URL query; a malformed value falls back to its default.
 * `sortKeys` and `groupKeys` are what the table knows (an unknown one is ignored).
 */
export function parseRunsTableQuery(
  query: Record<string, string | string[] | undefined>,
  known: { sortKeys: readonly string[]; groupKeys: readonly string[]; columns: readonly string[] },
): RunsTableState {
  const state: RunsTableState = { ...DEFAULT_RUNS_TABLE_STATE, hidden: [] };
  for (const [key, field] of FILTER_KEYS) {
    const v = first(query, key);
    if (v && v.length <= SHORT_TEXT) state[field] = v;
  }
  const group = first(query, "group");
  if (group === "none") state.groupBy = "";
  else if (group && known.groupKeys.includes(group)) state.groupBy = group;
  const sort = /^([a-z]+)\.(asc|desc)$/.exec(first(query, "sort") ?? "");
  if (sort && known.sortKeys.includes(sort[1])) state.sort = { key: sort[1], descending: sort[2] === "desc" };
  state.hidden = (first(query, "hide") ?? "").split(",").filter((c) => known.columns.includes(c));
  return state;
}
