/**
 * How fast the engine really is on this machine, measured from finished runs' stored
 * events: for each of the latest finished runs, measured seconds (Σ epoch seconds, Σ
 * verified-sample seconds, and the rest of its wall time after set-up) against the table
 * estimate (lib/estimate.ts) of the same settings, as factors shrunk towards 1 by how few
 * seconds they rest on (shrunkFactor); the medians calibrate later estimates.
 *
 *   measureCalibration(store) -> { trainFactor: 1.3, verifyFactor: 0.9, overheadFactor: 1.1, startFactor: 0.9, runs: 5 }
 */
import { estimateRun, NO_CALIBRATION, shrunkFactor, type Calibration, type Estimate } from "@/lib/estimate";
import type { Run, RunStore } from "../store/runs";

const LATEST = 20;
/** Recomputed at most this often (the queue view polls). */
const CACHE_MS = 30_000;

const median = (xs: number[]) => {
  if (!xs.length) return null;
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
};

let cache: { store: RunStore; at: number; value: Calibration } | null = null;

export function measureCalibration(store: RunStore, now = Date.now()): Calibration {
  if (cache && cache.store === store && now - cache.at < CACHE_MS) return cache.value;
  const value = measure(store);
  cache = { store, at: now, value };
  return value;
}

/** Forget the cached figures (a run just finished; tests). */
export function resetCalibration(): void {
  cache = null;
}

/** One finished run's measured seconds by part, beside the table estimate of its settings. */
export interface RunParts {
  /** Engine start to the first round (imports, the dataset); null if not recorded. */
  setup: number | null;
  /** Σ epoch events' seconds (training and its evaluation). */
  training: number;
  /** Σ sample_verified events' seconds. */
  verification: number;
  /** The rest of the wall time after set-up: PGD, bounds, pruning, export. */
  other: number;
  wall: number;
  estimate: Estimate;
}

/** A finished run's parts, or null when it cannot say (never started, resumed: its wall time covers one attempt). */
export function runParts(store: RunStore, run: Run): RunParts | null {
  if (run.startedAt == null || run.finishedAt == null) return null;
  const events = store.eventsAfter(run.id, 0, ["started", "round_started", "epoch", "sample_verified"]).map((e) => e.event);
  if (events.filter((e) => e.type === "started").length !== 1) return null;
  const estimate = estimateRun(run.config);
  let training = 0;
  let verification = 0;
  for (const e of events) {
    if (e.type === "epoch") training += e.seconds;
    else if (e.type === "sample_verified") verification += e.seconds;
  }
  // Set-up is everything before the first round starts: paid once.
  const firstRound = events.find((e) => e.type === "round_started");
  const roundsFrom = firstRound && "time" in firstRound ? Date.parse(firstRound.time) : NaN;
  const setup = Number.isFinite(roundsFrom) ? Math.max(0, (roundsFrom - run.startedAt) / 1000) : null;
  const wall = (run.finishedAt - run.startedAt) / 1000;
  return { setup, training, verification, other: wall - (setup ?? estimate.start) - training - verification, wall, estimate };
}

function measure(store: RunStore): Calibration {
  const finished = store
    .withStatus("finished")
    .filter((r) => r.startedAt != null && r.finishedAt != null)
    .sort((a, b) => b.finishedAt! - a.finishedAt!)
    .slice(0, LATEST);
  const train: number[] = [];
  const verify: number[] = [];
  const overhead: number[] = [];
  const start: number[] = [];
  for (const run of finished) {
    const parts = runParts(store, run);
    if (!parts) continue;
    const { estimate } = parts;
    if (parts.training > 0) train.push(shrunkFactor(parts.training, estimate.training + estimate.evaluation));
    if (parts.verification > 0) verify.push(shrunkFactor(parts.verification, estimate.verification));
    if (parts.setup != null) start.push(shrunkFactor(parts.setup, estimate.start));
    overhead.push(shrunkFactor(parts.other, estimate.attack));
  }
  if (overhead.length === 0) return NO_CALIBRATION;
  return { trainFactor: median(train), verifyFactor: median(verify), overheadFactor: median(overhead), startFactor: median(start), runs: overhead.length };
}
