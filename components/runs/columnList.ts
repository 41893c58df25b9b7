/**
 * The runs table's columns as data (no React): each has an id that the column chooser and
 * the URL's `hide=` use; the checkbox and the run's name are always shown. Also read on
 * the server, which parses the table's state from the page's URL.
 */
import { GROUP_FIELDS, type SortKey } from "@/lib/runsTable";
import { parseRunsTableQuery } from "@/lib/viewState";

export const MAX_COMPARE = 200;

export interface Column {
  id: string;
  key: SortKey | null;
  label: string;
  width: number;
  num?: boolean;
  title?: string;
  /** Always shown (not in the column chooser). */
  fixed?: boolean;
}

export const COLUMNS: Column[] = [
  { id: "select", key: null, label: "", width: 34, fixed: true },
  { id: "run", key: "label", label: "Run", width: 132, fixed: true },
  { id: "status", key: "status", label: "Status", width: 96 },
  { id: "progress", key: "progress", label: "Progress", width: 96 },
  { id: "dataset", key: "dataset", label: "Dataset", width: 84 },
  { id: "model", key: "arch", label: "Model", width: 62 },
  { id: "regime", key: "regime", label: "Regime", width: 88 },
  { id: "method", key: "method", label: "Method", width: 96 },
  { id: "verifier", key: "verifier", label: "Verifier", width: 70 },
  { id: "seed", key: null, label: "Seed", width: 50, num: true },
  { id: "verified", key: "verified", label: "Best verified", width: 78, num: true, title: "The best certified accuracy over the run's rounds (the engine's best round)" },
  { id: "remaining", key: "remaining", label: "Remaining", width: 92, num: true, title: "Remaining weights of the pruned layers, in percent, at the best round" },
  { id: "duration", key: "duration", label: "Duration", width: 78, num: true, title: "From the engine's start to its end (running: so far)" },
  { id: "created", key: "created", label: "Created", width: 76 },
];

export const SORT_KEYS = COLUMNS.map((c) => c.key).filter((k): k is SortKey => k != null);
export const CHOOSABLE = COLUMNS.filter((c) => !c.fixed).map((c) => c.id);


export const KNOWN = { sortKeys: SORT_KEYS, groupKeys: GROUP_FIELDS.map((g) => g.key).filter(Boolean), columns: CHOOSABLE };

/** The table's state from a URL query (the page passes its searchParams). */
export const tableStateFrom = (query: Record<string, string | string[] | undefined>) => parseRunsTableQuery(query, KNOWN);
