/**
 * How fast the engine really is on this machine, measured from finished runs' stored
 * events: for each of the latest finished runs, measured seconds (Σ epoch seconds, Σ
 * verified-sample seconds, and the rest of its wall time after set-up) against the table
 * estimate (lib/estimate.ts) of the same settings, as factors shrunk towards 1 by how few
 * seconds they rest on (shrunkFactor); the medians calibrate later estimates.
 *
 *   measureCalibration(store) -> { trainFactor: 1.3, verifyFactor: 0.9, overheadFactor: 1.1, startSeconds: 3, runs: 5 }
 */
import { estimateRun, NO_CALIBRATION, shrunkFactor, type Calibration } from "@/lib/estimate";
import type { RunStore } from "../store/runs";

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
  let runs = 0;
  for (const run of finished) {
    const events = store.eventsAfter(run.id, 0, ["started", "round_started", "epoch", "sample_verified"]).map((e) => e.event);
    // A resumed run's wall time covers only its last attempt: its totals would mislead.
    if (events.filter((e) => e.type === "started").length !== 1) continue;
    const estimate = estimateRun(run.config);
    let epochSeconds = 0;
    let sampleSeconds = 0;
    for (const e of events) {
      if (e.type === "epoch") epochSeconds += e.seconds;
      else if (e.type === "sample_verified") sampleSeconds += e.seconds;
    }
    // Set-up (engine start, imports, the dataset) is everything before the first round starts: paid once.
    const firstRound = events.find((e) => e.type === "round_started");
    const roundsFrom = firstRound && "time" in firstRound ? Date.parse(firstRound.time) : NaN;
    const setup = Number.isFinite(roundsFrom) ? Math.max(0, (roundsFrom - run.startedAt!) / 1000) : null;
    const wall = (run.finishedAt! - run.startedAt!) / 1000;
    const estTrain = estimate.training + estimate.evaluation;
    if (epochSeconds > 0) train.push(shrunkFactor(epochSeconds, estTrain));
    if (sampleSeconds > 0) verify.push(shrunkFactor(sampleSeconds, estimate.verification));
    if (setup != null) start.push(setup);
    overhead.push(shrunkFactor(wall - (setup ?? estimate.start) - epochSeconds - sampleSeconds, estimate.attack));
    runs++;
  }
  if (runs === 0) return NO_CALIBRATION;
  return { trainFactor: median(train), verifyFactor: median(verify), overheadFactor: median(overhead), startSeconds: median(start), runs };
}
