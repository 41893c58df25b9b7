/** results: what the compare page (and a shared comparison) draws, for a set of runs. */
import { z } from "zod";
import { type BestRound, type CompareResult, type CompareRun, NO_VERDICT, type RoundVerdicts, VERDICT_CHARS } from "@/lib/compare/api";
import type { EventOf } from "@/lib/protocol";
import { DEFAULT_CONFIG } from "@/lib/protocol";
import { nonDefault } from "@/lib/protocol/runId";
import { overviewExtras, type CompactRun } from "@/lib/runsTable";
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
      ...bestAndVerdicts(services, id, run.summary.bestRound ?? null, run.summary.bestVerifiedAccuracy ?? null),
    });
  }
  return { runs, missing };
}

/**
 * A run's best round as the engine decided it (its last `finished` event), else the
 * server's summary of the rounds so far; and the per-sample verdicts of round 0 and of
 * that round (the latest report of each sample), for paired tests on the same samples.
 */
export function bestAndVerdicts(services: Services, runId: string, summaryRound: number | null, summaryAccuracy: number | null): { best: BestRound | null; verdicts: RoundVerdicts[] } {
  const row = services.db
    .prepare(`SELECT data FROM events WHERE run_id = ? AND type = 'finished' ORDER BY id DESC LIMIT 1`)
    .get(runId) as { data: string } | undefined;
  const finished = row ? (JSON.parse(row.data) as EventOf<"finished">) : null;
  let best: BestRound | null = null;
  if (finished && finished.bestRound != null) {
    best = {
      round: finished.bestRound,
      verifiedAccuracy: finished.bestVerifiedAccuracy,
      rule: finished.bestRoundRule ?? null,
      indistinguishable: finished.indistinguishableRounds ?? null,
      source: "engine",
    };
  } else if (!finished && summaryRound != null) {
    best = { round: summaryRound, verifiedAccuracy: summaryAccuracy, rule: null, indistinguishable: null, source: "summary" };
  }
  const rounds = [...new Set([0, ...(best ? [best.round] : [])])];
  const samples = services.db
    .prepare(
      `SELECT round, sample, status FROM (
         SELECT json_extract(data, '$.round') AS round, json_extract(data, '$.index') AS sample,
                json_extract(data, '$.status') AS status, MAX(id)
         FROM events
         WHERE run_id = ? AND type = 'sample_verified' AND json_extract(data, '$.round') IN (${rounds.map(() => "?").join(",")})
         GROUP BY round, sample
       ) ORDER BY round, sample`,
    )
    .all(runId, ...rounds) as { round: number; sample: number; status: keyof typeof VERDICT_CHARS }[];
  const verdicts: RoundVerdicts[] = [];
  for (const k of rounds) {
    const mine = samples.filter((s) => s.round === k && Number.isInteger(s.sample) && s.sample >= 0 && s.sample < 100_000);
    if (mine.length === 0) continue;
    const chars: string[] = Array(Math.max(...mine.map((s) => s.sample)) + 1).fill(NO_VERDICT);
    for (const s of mine) chars[s.sample] = VERDICT_CHARS[s.status] ?? NO_VERDICT;
    verdicts.push({ round: k, verdicts: chars.join("") });
  }
  return { best, verdicts };
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
    ...overviewExtras(run),
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
