/**
 * The state of a view that a link carries: what is on screen besides the runs (which
 * methods are hidden, which metric and layer are shown). The compare page keeps it in
 * its URL; a share link stores it, validated by these schemas on the server.
 */
import { z } from "zod";

export const COMPARE_METRICS = ["verified", "standard", "adversarial", "unstable"] as const;
export type CompareMetric = (typeof COMPARE_METRICS)[number];

export const CompareViewState = z
  .object({
    metric: z.enum(COMPARE_METRICS).default("verified"),
    /** Series labels switched off in the legend. */
    hidden: z.array(z.string().max(200)).max(100).default([]),
    /** The layer whose sparsity is drawn (null: the first). */
    layer: z.string().max(200).nullable().default(null),
    /** The settings table shows only the settings that differ. */
    onlyDiff: z.boolean().default(true),
  })
  .strict();
export type CompareViewState = z.output<typeof CompareViewState>;

export const RunViewState = z
  .object({
    /** The round selected on the run page (null: the latest). */
    round: z.number().int().min(0).max(1000).nullable().default(null),
    /** The layer selected for the stability histograms (null: the first). */
    layer: z.string().max(200).nullable().default(null),
  })
  .strict();
export type RunViewState = z.output<typeof RunViewState>;

export const DEFAULT_COMPARE_STATE: CompareViewState = CompareViewState.parse({});

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
  const one = (key: string) => {
    const v = query[key];
    return Array.isArray(v) ? v[0] : v;
  };
  const runIds = (one("runs") ?? "").split(",").map((s) => s.trim()).filter((s) => /^run_[0-9a-f]{16}$/.test(s));
  const parsed = CompareViewState.safeParse({
    metric: COMPARE_METRICS.includes(one("metric") as CompareMetric) ? one("metric") : undefined,
    hidden: one("hide") ? one("hide")!.split("|").filter(Boolean).slice(0, 100) : undefined,
    layer: one("layer") || undefined,
    onlyDiff: one("all") === "1" ? false : undefined,
  });
  return { runIds: [...new Set(runIds)].slice(0, 200), state: parsed.success ? parsed.data : DEFAULT_COMPARE_STATE };
}
