/**
 * Read-only queries over the stored events for comparisons: each run's finished rounds
 * and its per-sample outcome counts. A resumed run may report a round twice; the last
 * report wins, as on the live run page.
 */
import type { EventOf } from "@/lib/protocol";
import { type OutcomeCounts, type RoundResult, roundResultOf } from "@/lib/compare/api";
import type { DB } from "./db";

export class ResultQueries {
  constructor(private readonly db: DB) {}

  /** The latest round_finished report of each round, ascending, without envelope fields. */
  roundResults(runId: string): RoundResult[] {
    const rows = this.db
      .prepare(`SELECT data FROM events WHERE run_id = ? AND type = 'round_finished' ORDER BY id`)
      .all(runId) as { data: string }[];
    const byRound = new Map<number, RoundResult>();
    for (const row of rows) {
      const result = roundResultOf(JSON.parse(row.data) as EventOf<"round_finished">);
      byRound.set(result.round, result);
    }
    return [...byRound.values()].sort((a, b) => a.round - b.round);
  }

  /**
   * Outcome counts per round from the sample_verified events of the rounds still being
   * verified (those after the last round_finished: a finished round reports its counts),
   * counting each (round, sample) once with its latest status, in SQL.
   */
  sampleOutcomes(runId: string): ({ round: number } & OutcomeCounts)[] {
    const rows = this.db
      .prepare(
        `SELECT round, status, COUNT(*) AS n FROM (
           SELECT json_extract(data, '$.round') AS round, json_extract(data, '$.index') AS sample,
                  json_extract(data, '$.status') AS status, MAX(id)
           FROM events
           WHERE run_id = ? AND type = 'sample_verified'
             AND id > COALESCE((SELECT MAX(id) FROM events WHERE run_id = ? AND type = 'round_finished'), 0)
           GROUP BY round, sample
         ) GROUP BY round, status ORDER BY round`,
      )
      .all(runId, runId) as { round: number; status: keyof OutcomeCounts; n: number }[];
    const byRound = new Map<number, { round: number } & OutcomeCounts>();
    for (const row of rows) {
      const counts = byRound.get(row.round) ?? { round: row.round, verified: 0, falsified: 0, unknown: 0, misclassified: 0 };
      if (row.status in counts) counts[row.status] += row.n;
      byRound.set(row.round, counts);
    }
    return [...byRound.values()];
  }
}
