/**
 * Server settings from the environment, read once per call (never cached at module
 * level, so tests can point a fresh server at a fresh data directory).
 */
import path from "node:path";

export interface ServerSettings {
  /** Everything CertPrune writes: the SQLite database and one folder per run. */
  dataDir: string;
  /** Where datasets are looked for (the engine's CERTPRUNE_DATA). */
  datasetsDir: string;
  /** The engine launcher. */
  enginePath: string;
  /** How many engine processes may run at once. */
  maxConcurrentRuns: number;
}

export function readSettings(env: NodeJS.ProcessEnv = process.env): ServerSettings {
  const dataDir = path.resolve(/*turbopackIgnore: true*/ env.CERTPRUNE_DATA_DIR ?? "data");
  return {
    dataDir,
    datasetsDir: path.resolve(/*turbopackIgnore: true*/ env.CERTPRUNE_DATA ?? path.join(dataDir, "datasets")),
    enginePath: path.resolve(/*turbopackIgnore: true*/ env.CERTPRUNE_ENGINE ?? path.join(process.cwd(), "engine", "bin", "certprune-engine")),
    maxConcurrentRuns: Math.max(1, Number(env.CERTPRUNE_MAX_RUNS ?? defaultConcurrency())),
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
