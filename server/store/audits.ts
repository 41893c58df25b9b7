/** Audit results in SQLite (migration 005_audits), keyed by run and round, with the hash of what they checked. */
import type { AuditResult } from "../audit/audit";
import type { DB } from "./db";

export class AuditStore {
  constructor(private readonly db: DB) {}

  /** The stored audit of a round, if it checked exactly the files and figures hashed as `inputHash`. */
  get(runId: string, round: number, inputHash: string): AuditResult | null {
    const row = this.db
      .prepare(`SELECT result FROM audits WHERE run_id = ? AND round = ? AND input_hash = ?`)
      .get(runId, round, inputHash) as { result: string } | undefined;
    return row ? (JSON.parse(row.result) as AuditResult) : null;
  }

  put(runId: string, round: number, inputHash: string, result: AuditResult): void {
    this.db
      .prepare(
        `INSERT INTO audits (run_id, round, input_hash, status, result, created_at) VALUES (?, ?, ?, ?, ?, ?)
         ON CONFLICT (run_id, round) DO UPDATE SET input_hash = excluded.input_hash, status = excluded.status,
           result = excluded.result, created_at = excluded.created_at`,
      )
      .run(runId, round, inputHash, result.status, JSON.stringify(result), Date.now());
  }
}
