/**
 * Every schema change, in the order applied. Each is applied once, recorded by name in
 * the `migrations` table; never edit one that has been released: add a new file.
 */
import * as runs from "./001_runs";
import * as auth from "./002_auth";
import * as runOwner from "./003_run_owner";
import * as shares from "./004_shares";
import * as audits from "./005_audits";
import * as eventsByType from "./006_events_by_type";
import * as runOwnerId from "./007_run_owner_id";
import * as runNotes from "./008_run_notes";

export const MIGRATIONS: { name: string; sql: string }[] = [
  { name: "001_runs", sql: runs.sql },
  { name: "002_auth", sql: auth.sql },
  { name: "003_run_owner", sql: runOwner.sql },
  { name: "004_shares", sql: shares.sql },
  { name: "005_audits", sql: audits.sql },
  { name: "006_events_by_type", sql: eventsByType.sql },
  { name: "007_run_owner_id", sql: runOwnerId.sql },
  { name: "008_run_notes", sql: runNotes.sql },
];
