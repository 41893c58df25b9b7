/** The store refuses to start on a lost or damaged database instead of silently making a new one. */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { openDatabase } from "./db";

let dir: string;
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe("opening the database", () => {
  it("refuses a zero-length certprune.db beside run folders, saying what to do", () => {
    dir = mkdtempSync(path.join(os.tmpdir(), "certprune-db-"));
    mkdirSync(path.join(dir, "runs", "run_00000000000000aa"), { recursive: true });
    writeFileSync(path.join(dir, "certprune.db"), "");
    expect(() => openDatabase(dir)).toThrow(/certprune\.db is empty but .*runs holds 1 run folder: .*Restore certprune\.db from a backup/);
    expect(readFileSync(path.join(dir, "certprune.db")).length).toBe(0); // nothing was written into it
  });

  it("refuses a damaged certprune.db, and starts on an empty one when there are no runs", () => {
    dir = mkdtempSync(path.join(os.tmpdir(), "certprune-db-"));
    writeFileSync(path.join(dir, "certprune.db"), "SQLite format 3\0".padEnd(4096, "garbage"));
    expect(() => openDatabase(dir)).toThrow(/certprune\.db is damaged .*will not start on it/);
    writeFileSync(path.join(dir, "certprune.db"), "");
    const db = openDatabase(dir);
    expect((db.prepare(`SELECT COUNT(*) AS n FROM runs`).get() as { n: number }).n).toBe(0);
    db.close();
  });
});
