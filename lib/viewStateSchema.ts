/**
 * The zod schemas of the view states in lib/viewState.ts, for what must validate a state
 * it did not make: the shares router (a state sent by a browser) and the shared view (a
 * state stored in a share). Kept apart so that the compare page does not ship zod.
 */
import { z } from "zod";
import { COMPARE_METRICS, LIMITS, type CompareViewState as CompareState, type RunViewState as RunState } from "./viewState";

export const CompareViewState = z
  .object({
    metric: z.enum(COMPARE_METRICS).default("verified"),
    hidden: z.array(z.string().max(LIMITS.label)).max(LIMITS.hidden).default([]),
    layer: z.string().max(LIMITS.label).nullable().default(null),
    onlyDiff: z.boolean().default(true),
  })
  .strict() satisfies z.ZodType<CompareState, unknown>;

export const RunViewState = z
  .object({
    round: z.number().int().min(0).max(LIMITS.round).nullable().default(null),
    layer: z.string().max(LIMITS.label).nullable().default(null),
  })
  .strict() satisfies z.ZodType<RunState, unknown>;
