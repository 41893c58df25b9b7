/**
 * The dashboard's runner in multi-host mode (CERTPRUNE_QUEUE=bullmq): queued runs become
 * BullMQ jobs that `certprune worker` agents take; what the workers report comes back on
 * a Redis stream and is recorded exactly as in embedded mode (SQLite, then the event
 * bus), so the browser sees no difference. The stream is read from the position stored
 * in SQLite, in the same transaction as the events it brings: nothing is lost or stored
 * twice across dashboard restarts.
 */
import { rmSync } from "node:fs";
import { Queue, QueueEvents } from "bullmq";
import type { Redis } from "ioredis";
import { TERMINAL_STATUSES } from "@/lib/protocol";
import type { EventBus } from "../events/bus";
import { RunRecorder } from "../jobs/recorder";
import type { Runner } from "../jobs/runner";
import { runDir } from "../runPaths";
import type { ServerSettings } from "../settings";
import type { Run, RunStore } from "../store/runs";
import { bullPriority, CANCEL_CHANNEL, cancelKey, EVENTS_STREAM, QUEUE_NAME, WorkerMessage, type RunJob } from "./protocol";
import { connectRedis } from "./redis";

const CURSOR_KEY = "queue.eventsCursor";
const CANCEL_WAIT_MS = 8000;
const WAITING_STATES = ["waiting", "prioritized", "delayed", "waiting-children"];

/** One job per attempt: a retried run is a new job, never confused with the last one. */
const jobIdOf = (run: Pick<Run, "id" | "queuedAt">) => `${run.id}-${run.queuedAt}`;
const runIdOfJob = (jobId: string) => jobId.replace(/-\d+$/, "");

export class BullRunner implements Runner {
  private readonly recorder: RunRecorder;
  private readonly redis: Redis;
  private readonly reader: Redis;
  private readonly eventsConnection: Redis;
  private readonly queue: Queue;
  private readonly queueEvents: QueueEvents;
  /** The latest claim of each run: events of an earlier claim (a worker presumed dead) are ignored. */
  private readonly attempts = new Map<string, string>();
  private stopping = false;
  private consuming: Promise<void> | null = null;

  constructor(
    private readonly store: RunStore,
    private readonly bus: EventBus,
    private readonly settings: ServerSettings,
  ) {
    this.recorder = new RunRecorder(store, bus);
    this.redis = connectRedis(settings.redisUrl, "certprune-dashboard");
    this.reader = connectRedis(settings.redisUrl, "certprune-dashboard-events");
    this.queue = new Queue(QUEUE_NAME, { connection: this.redis });
    this.eventsConnection = connectRedis(settings.redisUrl, "certprune-dashboard-queue-events");
    this.queueEvents = new QueueEvents(QUEUE_NAME, { connection: this.eventsConnection });
    this.queue.on("error", (error) => console.error(`certprune: queue: ${error.message}`));
    this.queueEvents.on("error", (error) => console.error(`certprune: queue events: ${error.message}`));
    // A job fails only when workers kept dying under it (or could not read it).
    this.queueEvents.on("failed", ({ jobId, failedReason }) => this.jobFailed(jobId, failedReason));
  }

  runDir(runId: string): string {
    return runDir(this.settings.dataDir, runId);
  }

  start(): void {
    this.consuming = this.consume();
  }

  async stop(): Promise<void> {
    this.stopping = true;
    this.reader.disconnect(); // ends the blocking read
    await this.consuming?.catch(() => {});
    await Promise.allSettled([this.queueEvents.close(), this.queue.close()]);
    this.redis.disconnect();
    this.eventsConnection.disconnect();
  }

  /** Workers take jobs themselves: nothing to start here. */
  schedule(): void {}

  requeue(runId: string): void {
    this.recorder.queued(runId);
    void this.enqueue(this.store.get(runId)!).catch((error) =>
      this.recorder.log(runId, "error", `could not queue the run in Redis (${this.settings.redisUrl}): ${error.message}`),
    );
  }

  async cancel(runId: string): Promise<void> {
    const run = this.store.get(runId);
    if (!run || TERMINAL_STATUSES.includes(run.status)) return;
    const job = await this.queue.getJob(jobIdOf(run));
    const state = job ? await job.getState() : "unknown";
    if (run.status === "queued" && (!job || WAITING_STATES.includes(state))) {
      try {
        await job?.remove();
        this.recorder.end(runId, "cancelled", "cancelled before it started");
        return;
      } catch {
        // A worker took it just now: ask it to stop, below.
      }
    }
    // Whichever worker holds it (now, or after taking it over) stops it and reports it cancelled.
    await this.redis.set(cancelKey(runId), "1", "EX", 7 * 24 * 3600);
    await this.redis.publish(CANCEL_CHANNEL, runId);
    await this.waitForEnd(runId, CANCEL_WAIT_MS);
  }

  async remove(runId: string): Promise<void> {
    const run = this.store.get(runId);
    if (run && !TERMINAL_STATUSES.includes(run.status)) await this.cancel(runId);
    if (run) await (await this.queue.getJob(jobIdOf(run)))?.remove().catch(() => {});
    this.store.delete(runId);
    rmSync(this.runDir(runId), { recursive: true, force: true });
  }

  private async enqueue(run: Run): Promise<void> {
    await this.redis.del(cancelKey(run.id));
    const data: RunJob = { runId: run.id, config: run.config, sweepId: run.sweepId };
    await this.queue.add("run", data, {
      jobId: jobIdOf(run),
      priority: bullPriority(run.priority),
      removeOnComplete: true,
      removeOnFail: { count: 1000 },
    });
  }

  /** Resolves when the run has ended, or after `timeoutMs`. */
  private async waitForEnd(runId: string, timeoutMs: number): Promise<void> {
    const ended = () => {
      const run = this.store.get(runId);
      return !run || TERMINAL_STATUSES.includes(run.status);
    };
    if (ended()) return;
    const abort = new AbortController();
    const timer = setTimeout(() => abort.abort(), timeoutMs);
    const live = this.bus.subscribe(runId, abort.signal);
    try {
      if (ended()) return;
      for await (const stored of live) {
        if (stored.event.type === "status" && TERMINAL_STATUSES.includes(stored.event.status)) return;
      }
    } finally {
      clearTimeout(timer);
      live.close();
    }
  }

  /** Reads the workers' stream: first what arrived while the dashboard was away, then live. */
  private async consume(): Promise<void> {
    let cursor = this.store.getState(CURSOR_KEY) ?? "0";
    let caughtUp = false;
    while (!this.stopping) {
      let batch: [string, [string, string[]][]][] | null;
      try {
        batch = (await (caughtUp
          ? this.reader.xread("COUNT", 500, "BLOCK", 2000, "STREAMS", EVENTS_STREAM, cursor)
          : this.reader.xread("COUNT", 500, "STREAMS", EVENTS_STREAM, cursor))) as typeof batch;
      } catch (error) {
        if (this.stopping) return;
        console.error(`certprune: reading the workers' events: ${(error as Error).message}`);
        await new Promise((r) => setTimeout(r, 1000));
        continue;
      }
      const entries = batch?.[0]?.[1] ?? [];
      for (const [id, fields] of entries) {
        this.store.transaction(() => {
          this.handle(id, fields);
          this.store.setState(CURSOR_KEY, id);
        });
        cursor = id;
      }
      if (!caughtUp && entries.length === 0) {
        caughtUp = true;
        await this.reconcile().catch((error) => console.error(`certprune: checking the queue: ${error.message}`));
      }
    }
  }

  private handle(entryId: string, fields: string[]): void {
    const raw = fields[fields.indexOf("m") + 1];
    let parsed;
    try {
      parsed = WorkerMessage.safeParse(JSON.parse(raw));
    } catch {
      parsed = null;
    }
    if (!parsed?.success) {
      console.error(`certprune: ignoring a malformed worker message ${entryId}: ${String(raw).slice(0, 300)}`);
      return;
    }
    const message = parsed.data;
    const run = this.store.get(message.runId);
    if (!run) return; // deleted
    const ended = TERMINAL_STATUSES.includes(run.status);
    switch (message.kind) {
      case "claimed":
        this.attempts.set(run.id, message.attempt);
        if (ended) return; // cancelled meanwhile: the worker finds the cancel key and stops
        if (run.status === "running" && message.takeover) {
          this.store.setWorker(run.id, message.worker);
          this.recorder.log(
            run.id,
            "warning",
            `worker ${message.worker} took over: the worker running this run (${run.worker ?? "unknown"}) stopped answering; resuming from its last finished phase`,
          );
        } else {
          this.recorder.running(run.id, message.worker);
          this.recorder.log(run.id, "info", `running on worker ${message.worker}`);
        }
        return;
      case "event":
        if (ended || !this.isCurrent(message)) return;
        this.recorder.engineEvent(run.id, message.event);
        return;
      case "exit":
        if (ended || !this.isCurrent(message)) return;
        this.attempts.delete(run.id);
        this.recorder.settle(run.id, {
          finished: message.finished,
          failure: message.failure,
          cancelRequested: message.cancelRequested,
          exit: { ...message.exit, signal: message.exit.signal as NodeJS.Signals | null },
        });
        return;
    }
  }

  /** After a dashboard restart the first claim seen is taken as the current one. */
  private isCurrent(message: { runId: string; attempt: string }): boolean {
    const current = this.attempts.get(message.runId);
    if (current === undefined) this.attempts.set(message.runId, message.attempt);
    return current === undefined || current === message.attempt;
  }

  private jobFailed(jobId: string, failedReason: string): void {
    const run = this.store.get(runIdOfJob(jobId));
    if (!run || TERMINAL_STATUSES.includes(run.status) || jobIdOf(run) !== jobId) return;
    this.recorder.end(run.id, "failed", `no worker could finish this run: ${failedReason}`);
  }

  /** Every queued or running run has its job (Redis may have been emptied); failed jobs fail their runs. */
  private async reconcile(): Promise<void> {
    for (const run of [...this.store.withStatus("queued"), ...this.store.withStatus("running")]) {
      const job = await this.queue.getJob(jobIdOf(run));
      if (!job) {
        if (run.status === "running") this.recorder.log(run.id, "warning", "its job was missing from Redis: queued again, resuming from its last finished phase");
        await this.enqueue(run);
      } else if ((await job.getState()) === "failed") {
        this.jobFailed(job.id!, job.failedReason);
      }
    }
  }
}
