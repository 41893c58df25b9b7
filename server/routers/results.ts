/** results: what the compare page (and a shared comparison) draws, for a set of runs. */
import { z } from "zod";
import type { CompareResult, CompareRun } from "@/lib/compare/api";
import { DEFAULT_CONFIG } from "@/lib/protocol";
import { nonDefault } from "@/lib/protocol/runId";
import type { CompactRun } from "@/lib/runsTable";
import type { Services } from "../services";
import { researcherProcedure, router } from "../trpc";

export const RunId = z.string().regex(/^run_[0-9a-f]{16}$/, "not a run id");
/** At most 200 runs at once: 12 methods x 16 rounds x a few seeds fits with room to spare. */
export const RunIds = z.array(RunId).min(1, "choose at least one run").max(200, "compare at most 200 runs at once");

/** Each requested run's settings and results, in the order asked for (duplicates once). */
export function compareRuns(services: Services, runIds: string[]): CompareResult {
  const queries = services.results;
  const runs: CompareRun[] = [];
  const missing: string[] = [];
  for (const id of [...new Set(runIds)]) {
    const run = services.runs.get(id);
    if (!run) {
      missing.push(id);
      continue;
    }
    runs.push({
      id: run.id,
      label: run.label,
      status: run.status,
      progress: run.progress,
      sweepId: run.sweepId,
      config: run.config,
      rounds: queries.roundResults(id),
      sampleOutcomes: queries.sampleOutcomes(id),
    });
  }
  return { runs, missing };
}

type Json = Parameters<typeof nonDefault>[0];

/** Every run for the overview table, newest first, with only its non-default settings. */
export function overviewRuns(services: Services): CompactRun[] {
  return services.runs.list().map((run) => ({
    id: run.id,
    label: run.label,
    status: run.status,
    progress: run.progress,
    sweepId: run.sweepId,
    createdAt: run.createdAt,
    summary: { bestVerifiedAccuracy: run.summary.bestVerifiedAccuracy, bestRemainingRatio: run.summary.bestRemainingRatio, bestRound: run.summary.bestRound },
    settings: (nonDefault(run.config as unknown as Json, DEFAULT_CONFIG as unknown as Json) ?? {}) as Record<string, unknown>,
  }));
}

export const resultsRouter = router({
  /** The runs overview's rows (compact: what the table shows, settings as differences from the defaults). */
  overview: researcherProcedure.input(z.object({}).strict().optional()).query(({ ctx }): CompactRun[] => overviewRuns(ctx.services)),

  /** Researchers only, like every read of runs; visitors see results through share links. */
  compare: researcherProcedure
    .input(z.object({ runIds: RunIds }))
    .query(({ ctx, input }): CompareResult => compareRuns(ctx.services, input.runIds)),
});
