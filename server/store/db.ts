/** The embedded SQLite store: opening, pragmas and migrations. */
import Database from "better-sqlite3";
import { existsSync, mkdirSync, readdirSync, statSync } from "node:fs";
import path from "node:path";
import { runsDir } from "../runPaths";
import { MIGRATIONS } from "./migrations";

export type DB = Database.Database;

export function openDatabase(dataDir: string): DB {
  mkdirSync(dataDir, { recursive: true });
  const file = path.join(dataDir, "certprune.db");
  refuseLostDatabase(dataDir, file);
  let db: DB | null = null;
  try {
    db = new Database(file);
    db.pragma("journal_mode = WAL");
    db.pragma("synchronous = NORMAL");
    db.pragma("foreign_keys = ON");
    db.pragma("busy_timeout = 5000");
    const check = db.pragma("quick_check", { simple: true });
    if (check !== "ok") throw new Error(String(check));
  } catch (error) {
    db?.close();
    throw new Error(
      `the database ${file} is damaged (${(error as Error).message}); the server will not start on it. ` +
        `Restore it from a backup (stop the server first), or move it away to start with an empty one`,
    );
  }
  migrate(db);
  return db;
}

/**
 * An empty database file beside run folders means the database was lost (a truncated
 * copy, a full disk): starting would make a fresh one and forget every run, whose
 * folders would then belong to nobody. Refuse, and say what to do.
 */
function refuseLostDatabase(dataDir: string, file: string): void {
  if (!existsSync(file) || statSync(file).size > 0) return;
  const runsFolder = runsDir(dataDir);
  const runFolders = existsSync(runsFolder) ? readdirSync(runsFolder).filter((name) => name.startsWith("run_")).length : 0;
  if (runFolders === 0) return;
  throw new Error(
    `the database ${file} is empty but ${runsFolder} holds ${runFolders} run folder${runFolders === 1 ? "" : "s"}: the database was lost or truncated, and starting would forget those runs. ` +
      `Restore certprune.db from a backup, or move ${runsFolder} away to start afresh`,
  );
}

function migrate(db: DB): void {
  db.exec(`CREATE TABLE IF NOT EXISTS migrations (name TEXT PRIMARY KEY, applied_at INTEGER NOT NULL)`);
  const applied = new Set((db.prepare(`SELECT name FROM migrations`).all() as { name: string }[]).map((r) => r.name));
  for (const migration of MIGRATIONS) {
    if (applied.has(migration.name)) continue;
    db.transaction(() => {
      db.exec(migration.sql);
      db.prepare(`INSERT INTO migrations (name, applied_at) VALUES (?, ?)`).run(migration.name, Date.now());
    })();
  }
}
