/**
 * Independent audits of verified rounds (server/audit): one row per (run, round), with
 * the hash of the files and figures it checked, so a changed file is audited again.
 */
export const sql = `
CREATE TABLE audits (
  run_id TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
  round INTEGER NOT NULL,
  input_hash TEXT NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('passed', 'disputed', 'incomplete')),
  result TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  PRIMARY KEY (run_id, round)
);
`;
