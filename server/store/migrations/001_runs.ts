/** Runs and their event streams. */
export const sql = `
CREATE TABLE runs (
  id TEXT PRIMARY KEY,
  label TEXT NOT NULL,
  config TEXT NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('queued','running','finished','failed','cancelled')),
  priority INTEGER NOT NULL DEFAULT 0,
  progress REAL NOT NULL DEFAULT 0,
  summary TEXT NOT NULL DEFAULT '{}',
  error TEXT,
  sweep_id TEXT,
  created_at INTEGER NOT NULL,
  started_at INTEGER,
  finished_at INTEGER,
  queued_at INTEGER NOT NULL
);
CREATE INDEX runs_status ON runs (status, priority DESC, queued_at);
CREATE TABLE events (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  run_id TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
  type TEXT NOT NULL,
  data TEXT NOT NULL,
  created_at INTEGER NOT NULL
);
CREATE INDEX events_run ON events (run_id, id);
`;
