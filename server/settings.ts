/**
 * Server settings from the environment, read once per call (never cached at module
 * level, so tests can point a fresh server at a fresh data directory).
 */
import os from "node:os";
import path from "node:path";
import { allowedOriginsFrom } from "./http/origin";

export interface ServerSettings {
  /** Everything CertPrune writes: the SQLite database and one folder per run. */
  dataDir: string;
  /** Where datasets are looked for (the engine's CERTPRUNE_DATA). */
  datasetsDir: string;
  /** The only folders a run's `data.root` may point into (CERTPRUNE_DATA_ROOTS, ':'-separated). */
  dataRoots: string[];
  /** "embedded" runs engines in this process's machine; "bullmq" hands runs to `certprune worker` agents. */
  queue: "embedded" | "bullmq";
  /** Redis for the bullmq queue (REDIS_URL). */
  redisUrl: string;
  /** How long a worker's hold on a run lasts without renewal before another worker may take it over. */
  workerLockMs: number;
  /** This worker's name in multi-host mode (CERTPRUNE_WORKER_NAME, default the host name and process id). */
  workerName: string;
  /** The engine launcher. */
  enginePath: string;
  /** How many engine processes may run at once. */
  maxConcurrentRuns: number;
  /** How many bundle exports (engine processes started by downloads) may run at once (CERTPRUNE_MAX_EXPORTS, default 2). */
  maxConcurrentExports: number;
  /** Origins besides the server's own whose pages may make changes (CERTPRUNE_ALLOWED_ORIGINS; see server/http/origin.ts). */
  allowedOrigins: string[];
}

export function readSettings(env: NodeJS.ProcessEnv = process.env): ServerSettings {
  const dataDir = path.resolve(/*turbopackIgnore: true*/ env.CERTPRUNE_DATA_DIR ?? "data");
  const datasetsDir = path.resolve(/*turbopackIgnore: true*/ env.CERTPRUNE_DATA ?? path.join(dataDir, "datasets"));
  const queue = env.CERTPRUNE_QUEUE ?? "embedded";
  if (queue !== "embedded" && queue !== "bullmq") {
    throw new Error(`CERTPRUNE_QUEUE is "${queue}"; use "embedded" (one machine) or "bullmq" (workers on several GPU hosts)`);
  }
  return {
    dataDir,
    datasetsDir,
    dataRoots: (env.CERTPRUNE_DATA_ROOTS ? env.CERTPRUNE_DATA_ROOTS.split(path.delimiter) : [datasetsDir, "/usr/share/datasets"])
      .filter((root) => root.trim() !== "")
      .map((root) => path.resolve(/*turbopackIgnore: true*/ root)),
    queue,
    redisUrl: env.REDIS_URL ?? "redis://127.0.0.1:6379",
    workerLockMs: Math.max(1000, Number(env.CERTPRUNE_WORKER_LOCK_MS ?? 30_000)),
    workerName: env.CERTPRUNE_WORKER_NAME ?? `${os.hostname()}-${process.pid}`,
    enginePath: path.resolve(/*turbopackIgnore: true*/ env.CERTPRUNE_ENGINE ?? path.join(process.cwd(), "engine", "bin", "certprune-engine")),
    maxConcurrentRuns: Math.max(1, Number(env.CERTPRUNE_MAX_RUNS ?? defaultConcurrency())),
    maxConcurrentExports: Math.max(1, Number(env.CERTPRUNE_MAX_EXPORTS ?? 2) || 2),
    allowedOrigins: allowedOriginsFrom(env.CERTPRUNE_ALLOWED_ORIGINS),
  };
}

/**
 * One engine per GPU listed in CUDA_VISIBLE_DEVICES; one otherwise (an engine on a
 * CPU-only machine already uses every core).
 */
function defaultConcurrency(): number {
  const gpus = (process.env.CUDA_VISIBLE_DEVICES ?? "").split(",").filter((d) => d.trim() !== "" && d.trim() !== "-1");
  return gpus.length || 1;
}
