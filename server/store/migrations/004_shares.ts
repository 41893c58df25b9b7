/**
 * Read-only share links. The token itself is never stored, only its SHA-256: a copy of
 * the database opens no link. A link names the runs it may read (one run, or the runs of
 * a comparison) and the view's state; revoking sets revoked_at and the link stops working.
 */
export const sql = `
CREATE TABLE shares (
  id TEXT PRIMARY KEY,
  token_hash TEXT NOT NULL UNIQUE,
  kind TEXT NOT NULL CHECK (kind IN ('run', 'comparison')),
  run_ids TEXT NOT NULL,
  state TEXT NOT NULL DEFAULT '{}',
  title TEXT NOT NULL,
  owner_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  created_at INTEGER NOT NULL,
  revoked_at INTEGER,
  views INTEGER NOT NULL DEFAULT 0,
  last_viewed_at INTEGER
);
CREATE INDEX shares_owner ON shares (owner_id, created_at);
`;
