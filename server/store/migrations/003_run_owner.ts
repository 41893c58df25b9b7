/**
 * Who launched a run (the researcher's name; only they may cancel, retry or delete it),
 * which worker host runs it (multi-host mode), and small server state such as the
 * position in the workers' event stream.
 */
export const sql = `
ALTER TABLE runs ADD COLUMN owner TEXT;
ALTER TABLE runs ADD COLUMN worker TEXT;
CREATE INDEX runs_sweep ON runs (sweep_id);
CREATE TABLE server_state (
  key TEXT PRIMARY KEY,
  value TEXT NOT NULL
);
`;
