/** The embedded SQLite store: opening, pragmas and migrations. */
import Database from "better-sqlite3";
import { mkdirSync } from "node:fs";
import path from "node:path";

export type DB = Database.Database;

/** Each entry upgrades the schema by one version; never edit a released entry. */
const MIGRATIONS: string[] = [
  `CREATE TABLE runs (
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
   CREATE INDEX events_run ON events (run_id, id);`,
];

export function openDatabase(dataDir: string): DB {
  mkdirSync(dataDir, { recursive: true });
  const db = new Database(path.join(dataDir, "certprune.db"));
  db.pragma("journal_mode = WAL");
  db.pragma("synchronous = NORMAL");
  db.pragma("foreign_keys = ON");
  db.pragma("busy_timeout = 5000");
  migrate(db);
  return db;
}

function migrate(db: DB): void {
  const version = db.pragma("user_version", { simple: true }) as number;
  for (let v = version; v < MIGRATIONS.length; v++) {
    db.transaction(() => {
      db.exec(MIGRATIONS[v]);
      db.pragma(`user_version = ${v + 1}`);
    })();
  }
}
