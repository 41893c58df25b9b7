/** Runs and their events in SQLite. Every write is one statement or one transaction. */
import type { RunConfig, RunEvent, RunStatus } from "@/lib/protocol";
import type { DB } from "./db";

export type { RunStatus };

/** What the overview needs without replaying events; kept up to date as events arrive. */
export interface RunSummary {
  round?: number;
  rounds?: number;
  epoch?: number;
  epochs?: number;
  bestRound?: number | null;
  bestVerifiedAccuracy?: number | null;
  bestRemainingRatio?: number | null;
  lastStandardAccuracy?: number | null;
  device?: string;
}

export interface Run {
  id: string;
  label: string;
  config: RunConfig;
  status: RunStatus;
  priority: number;
  progress: number;
  summary: RunSummary;
  error: string | null;
  sweepId: string | null;
  /** The name of the researcher who launched it (shown; see ownerId for who may change it). */
  owner: string | null;
  /** The account that launched it: only it may cancel, retry, delete or share the run. */
  ownerId: number | null;
  /** The worker host running it (multi-host mode), else null. */
  worker: string | null;
  /** The researcher's tags (short words, e.g. "baseline"), in the order given. */
  tags: string[];
  /** The researcher's free-text notes on the run ("" when none). */
  notes: string;
  createdAt: number;
  startedAt: number | null;
  finishedAt: number | null;
  queuedAt: number;
}

export interface StoredEvent {
  id: number;
  runId: string;
  event: RunEvent;
}

interface RunRow {
  id: string;
  label: string;
  config: string;
  status: RunStatus;
  priority: number;
  progress: number;
  summary: string;
  error: string | null;
  sweep_id: string | null;
  owner: string | null;
  owner_id: number | null;
  worker: string | null;
  tags: string;
  notes: string;
  created_at: number;
  started_at: number | null;
  finished_at: number | null;
  queued_at: number;
}

function toRun(row: RunRow): Run {
  return {
    id: row.id,
    label: row.label,
    config: JSON.parse(row.config),
    status: row.status,
    priority: row.priority,
    progress: row.progress,
    summary: JSON.parse(row.summary),
    error: row.error,
    sweepId: row.sweep_id,
    owner: row.owner,
    ownerId: row.owner_id,
    worker: row.worker,
    tags: JSON.parse(row.tags ?? "[]"),
    notes: row.notes ?? "",
    createdAt: row.created_at,
    startedAt: row.started_at,
    finishedAt: row.finished_at,
    queuedAt: row.queued_at,
  };
}

export class RunStore {
  constructor(private readonly db: DB) {}

  insert(run: {
    id: string;
    label: string;
    config: RunConfig;
    priority?: number;
    sweepId?: string | null;
    /** The launching account; null: a run without an owner (any researcher may change it). */
    owner?: { id: number; name: string } | null;
  }): Run {
    const now = Date.now();
    this.db
      .prepare(
        `INSERT INTO runs (id, label, config, status, priority, sweep_id, owner, owner_id, created_at, queued_at)
         VALUES (?, ?, ?, 'queued', ?, ?, ?, ?, ?, ?)`,
      )
      .run(run.id, run.label, JSON.stringify(run.config), run.priority ?? 0, run.sweepId ?? null, run.owner?.name ?? null, run.owner?.id ?? null, now, now);
    return this.get(run.id)!;
  }

  /** Runs of one sweep, in launch order. */
  inSweep(sweepId: string): Run[] {
    return (this.db.prepare(`SELECT * FROM runs WHERE sweep_id = ? ORDER BY created_at, id`).all(sweepId) as RunRow[]).map(toRun);
  }

  setSweep(id: string, sweepId: string): void {
    this.db.prepare(`UPDATE runs SET sweep_id = ? WHERE id = ? AND sweep_id IS NULL`).run(sweepId, id);
  }

  setPriority(id: string, priority: number): void {
    this.db.prepare(`UPDATE runs SET priority = ? WHERE id = ?`).run(priority, id);
  }

  /** Renames a run and/or replaces its tags or notes (fields left undefined stay). */
  annotate(id: string, fields: { label?: string; tags?: string[]; notes?: string }): void {
    this.db
      .prepare(`UPDATE runs SET label = coalesce(?, label), tags = coalesce(?, tags), notes = coalesce(?, notes) WHERE id = ?`)
      .run(fields.label ?? null, fields.tags === undefined ? null : JSON.stringify(fields.tags), fields.notes ?? null, id);
  }

  setWorker(id: string, worker: string | null): void {
    this.db.prepare(`UPDATE runs SET worker = ? WHERE id = ?`).run(worker, id);
  }

  get(id: string): Run | null {
    const row = this.db.prepare(`SELECT * FROM runs WHERE id = ?`).get(id) as RunRow | undefined;
    return row ? toRun(row) : null;
  }

  list(options: { limit?: number } = {}): Run[] {
    const rows = this.db
      .prepare(`SELECT * FROM runs ORDER BY created_at DESC, id LIMIT ?`)
      .all(options.limit ?? 10_000) as RunRow[];
    return rows.map(toRun);
  }

  /** Queued runs in the order the scheduler starts them. */
  queued(): Run[] {
    const rows = this.db
      .prepare(`SELECT * FROM runs WHERE status = 'queued' ORDER BY priority DESC, queued_at, id`)
      .all() as RunRow[];
    return rows.map(toRun);
  }

  withStatus(status: RunStatus): Run[] {
    return (this.db.prepare(`SELECT * FROM runs WHERE status = ?`).all(status) as RunRow[]).map(toRun);
  }

  /** Puts a failed or cancelled run back in the queue (it resumes from its last phase). */
  requeue(id: string): void {
    this.db
      .prepare(`UPDATE runs SET status = 'queued', error = NULL, finished_at = NULL, queued_at = ? WHERE id = ?`)
      .run(Date.now(), id);
  }

  markRunning(id: string): void {
    this.db.prepare(`UPDATE runs SET status = 'running', started_at = ? WHERE id = ?`).run(Date.now(), id);
  }

  markEnded(id: string, status: Exclude<RunStatus, "queued" | "running">, error: string | null): void {
    this.db
      .prepare(`UPDATE runs SET status = ?, error = ?, finished_at = ? WHERE id = ?`)
      .run(status, error, Date.now(), id);
  }

  update(id: string, fields: { progress?: number; summary?: RunSummary }): void {
    this.db
      .prepare(`UPDATE runs SET progress = coalesce(?, progress), summary = coalesce(?, summary) WHERE id = ?`)
      .run(fields.progress ?? null, fields.summary === undefined ? null : JSON.stringify(fields.summary), id);
  }

  /** Removes a run and (by cascade) every stored event of it. */
  delete(id: string): void {
    this.db.prepare(`DELETE FROM runs WHERE id = ?`).run(id);
  }

  /** Small server state (e.g. how far the workers' event stream has been read). */
  getState(key: string): string | null {
    const row = this.db.prepare(`SELECT value FROM server_state WHERE key = ?`).get(key) as { value: string } | undefined;
    return row?.value ?? null;
  }

  setState(key: string, value: string): void {
    this.db.prepare(`INSERT INTO server_state (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value`).run(key, value);
  }

  /** Runs `fn` in one transaction (all its writes land together, or none). */
  transaction<T>(fn: () => T): T {
    return this.db.transaction(fn)();
  }

  appendEvent(runId: string, event: RunEvent): StoredEvent {
    const info = this.db
      .prepare(`INSERT INTO events (run_id, type, data, created_at) VALUES (?, ?, ?, ?)`)
      .run(runId, event.type, JSON.stringify(event), Date.now());
    return { id: Number(info.lastInsertRowid), runId, event };
  }

  /** Stored events of a run with ids above `afterId`, oldest first. */
  eventsAfter(runId: string, afterId = 0, types?: RunEvent["type"][]): StoredEvent[] {
    const typeFilter = types?.length ? `AND type IN (${types.map(() => "?").join(",")})` : "";
    const rows = this.db
      .prepare(`SELECT id, data FROM events WHERE run_id = ? AND id > ? ${typeFilter} ORDER BY id`)
      .all(runId, afterId, ...(types ?? [])) as { id: number; data: string }[];
    return rows.map((r) => ({ id: r.id, runId, event: JSON.parse(r.data) }));
  }
}
