/**
 * `certprune worker`: the agent on each GPU host in multi-host mode. It takes runs from
 * the BullMQ queue (as many at once as the host has GPUs, one GPU each), spawns the
 * engine locally on the shared run folder, and streams every event back to the
 * dashboard through Redis. A worker that dies mid-run stops renewing its job's lock;
 * BullMQ's stalled-job check then hands the job to another worker, whose engine resumes
 * from the last finished phase in the shared folder.
 */
import { randomUUID } from "node:crypto";
import { Worker, type Job } from "bullmq";
import type { Redis } from "ioredis";
import type { EngineEvent } from "@/lib/protocol";
import { EngineProcess, type EngineExit } from "../jobs/engineProcess";
import { preparationFailure, prepareEngine } from "../jobs/runner";
import { runDir } from "../runPaths";
import type { ServerSettings } from "../settings";
import { CANCEL_CHANNEL, cancelKey, EVENTS_STREAM, QUEUE_NAME, RunJob, STREAM_MAX_LENGTH, type WorkerMessage } from "./protocol";
import { connectRedis } from "./redis";

interface ActiveEngine {
  engine: EngineProcess;
  cancelRequested: boolean;
}

export class WorkerAgent {
  private readonly redis: Redis;
  private readonly subscriber: Redis;
  private readonly worker: Worker;
  private readonly active = new Map<string, ActiveEngine>();
  /** GPUs not running an engine now (from CUDA_VISIBLE_DEVICES); empty on a CPU-only host. */
  private readonly freeGpus: string[];
  private stopping = false;

  constructor(private readonly settings: ServerSettings) {
    this.redis = connectRedis(settings.redisUrl, `certprune-worker-${settings.workerName}`);
    this.subscriber = connectRedis(settings.redisUrl, `certprune-worker-${settings.workerName}-cancel`);
    this.freeGpus = (process.env.CUDA_VISIBLE_DEVICES ?? "").split(",").map((d) => d.trim()).filter((d) => d !== "" && d !== "-1");
    this.worker = new Worker(QUEUE_NAME, (job) => this.process(job), {
      connection: this.redis,
      name: settings.workerName,
      concurrency: settings.maxConcurrentRuns,
      lockDuration: settings.workerLockMs,
      stalledInterval: Math.min(30_000, settings.workerLockMs),
      // A run survives a few dead workers; after that it fails with BullMQ's reason.
      maxStalledCount: 3,
      autorun: false,
    });
    this.worker.on("error", (error) => console.error(`certprune worker: ${error.message}`));
  }

  async start(): Promise<void> {
    await this.subscriber.subscribe(CANCEL_CHANNEL);
    this.subscriber.on("message", (_channel: string, runId: string) => this.cancel(runId));
    void this.worker.run();
    await this.worker.waitUntilReady();
    console.log(
      `certprune worker ${this.settings.workerName}: taking runs from ${this.settings.redisUrl} ` +
        `(${this.settings.maxConcurrentRuns} at once; run folders in ${this.settings.dataDir})`,
    );
  }

  /**
   * Stops taking runs and stops this host's engines without reporting them ended: their
   * jobs stay claimed until the lock lapses, then another worker resumes them.
   */
  async stop(): Promise<void> {
    this.stopping = true;
    for (const { engine } of this.active.values()) engine.stop(2000);
    await this.worker.close(true);
    this.redis.disconnect();
    this.subscriber.disconnect();
  }

  private cancel(runId: string): void {
    const active = this.active.get(runId);
    if (!active) return;
    active.cancelRequested = true;
    active.engine.stop();
  }

  private publish(message: WorkerMessage): Promise<unknown> {
    // One connection, so entries land in the order they were written.
    return this.redis.xadd(EVENTS_STREAM, "MAXLEN", "~", STREAM_MAX_LENGTH, "*", "m", JSON.stringify(message));
  }

  private async process(job: Job): Promise<void> {
    const data = RunJob.parse(job.data);
    const { runId } = data;
    const who = { runId, worker: this.settings.workerName, attempt: randomUUID() };
    if (await this.redis.exists(cancelKey(runId))) {
      await this.publish({ kind: "exit", ...who, finished: false, failure: null, cancelRequested: true, exit: { code: null, signal: null, stderrTail: "" } });
      return;
    }
    await this.publish({ kind: "claimed", ...who, takeover: job.attemptsStarted > 1 || job.stalledCounter > 0 });

    let args: string[];
    try {
      args = prepareEngine(this.settings.dataDir, { id: runId, config: data.config, sweepId: data.sweepId });
    } catch (error) {
      // This run fails with the reason; the worker goes on taking others.
      const failure = preparationFailure(runDir(this.settings.dataDir, runId), error);
      await this.publish({ kind: "exit", ...who, finished: false, failure, cancelRequested: false, exit: { code: null, signal: null, stderrTail: "" } });
      return;
    }
    const gpu = this.freeGpus.shift();
    const env = { ...process.env, CERTPRUNE_DATA: this.settings.datasetsDir, ...(gpu !== undefined ? { CUDA_VISIBLE_DEVICES: gpu } : {}) };
    let finished = false;
    let failure: string | null = null;
    const exit = await new Promise<EngineExit>((resolve) => {
      const active: ActiveEngine = {
        cancelRequested: false,
        engine: new EngineProcess(this.settings.enginePath, args, env, {
          onEvent: (event: EngineEvent) => {
            if (event.type === "failed") failure = event.reason;
            if (event.type === "finished") finished = true;
            // Stopping this worker is not the run's failure: another worker resumes it.
            if (this.stopping) return;
            void this.publish({ kind: "event", ...who, event });
          },
          onExit: resolve,
        }),
      };
      this.active.set(runId, active);
    });
    const cancelRequested = this.active.get(runId)!.cancelRequested;
    this.active.delete(runId);
    if (gpu !== undefined) this.freeGpus.push(gpu);
    if (this.stopping && !finished && !cancelRequested) return new Promise<void>(() => {}); // left for another worker
    await this.publish({ kind: "exit", ...who, finished, failure, cancelRequested, exit });
  }
}

/** `certprune worker`: runs until SIGTERM or SIGINT. */
export async function runWorker(settings: ServerSettings): Promise<void> {
  const agent = new WorkerAgent(settings);
  await agent.start();
  await new Promise<void>((resolve) => {
    const shutdown = (signal: string) => {
      console.log(`certprune worker ${settings.workerName}: ${signal}; stopping (its runs resume on another worker)`);
      void agent.stop().finally(resolve);
    };
    process.once("SIGTERM", () => shutdown("SIGTERM"));
    process.once("SIGINT", () => shutdown("SIGINT"));
  });
}
