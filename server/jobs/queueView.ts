/**
 * The queue as a researcher sees it: what runs now (and on which worker host, in
 * multi-host mode), what waits in the order the scheduler will start it, and when each
 * waiting run should start and finish, from calibrated estimates (lib/estimate.ts,
 * ./calibration.ts) of what runs ahead of it.
 *
 *   queueView(services) -> { slots: 1, running: [{ id, remainingSeconds, ... }],
 *                            queued: [{ id, position: 1, startsInSeconds, ... }], hosts: [...] }
 */
import { calibrate, estimateRun, type Calibration } from "@/lib/estimate";
import type { Services } from "../services";
import type { Run } from "../store/runs";
import { measureCalibration } from "./calibration";

export interface QueueEntry {
  id: string;
  label: string;
  owner: string | null;
  status: "queued" | "running";
  priority: number;
  /** 1 = the next to start; null while running. */
  position: number | null;
  worker: string | null;
  progress: number;
  queuedAt: number;
  startedAt: number | null;
  /** Calibrated estimate of the whole run, seconds. */
  estimateSeconds: number;
  /** Running: what is left of it; queued: all of it. */
  remainingSeconds: number;
  /** Queued: seconds until a slot should free up for it; running: 0. */
  startsInSeconds: number;
  kind: "experiment" | "uploaded-model";
}

export interface QueueView {
  mode: "embedded" | "bullmq";
  /** Engines that run at once (embedded), or worker hosts seen running (multi-host; at least 1). */
  slots: number;
  running: QueueEntry[];
  queued: QueueEntry[];
  /** Multi-host mode: the running runs by worker host. */
  hosts: { worker: string; runs: string[] }[];
  calibration: Calibration;
}

function entry(run: Run, calibration: Calibration, now: number): QueueEntry {
  const estimateSeconds = calibrate(estimateRun(run.config), calibration).total;
  let remainingSeconds = estimateSeconds;
  if (run.status === "running") {
    const elapsed = run.startedAt ? (now - run.startedAt) / 1000 : 0;
    // Whichever says more is left: the estimate scaled by progress, or the estimate minus the time spent.
    remainingSeconds = Math.max(estimateSeconds * (1 - run.progress), estimateSeconds - elapsed, 0);
  }
  return {
    id: run.id,
    label: run.label,
    owner: run.owner,
    status: run.status as "queued" | "running",
    priority: run.priority,
    position: null,
    worker: run.worker,
    progress: run.progress,
    queuedAt: run.queuedAt,
    startedAt: run.startedAt,
    estimateSeconds,
    remainingSeconds,
    startsInSeconds: 0,
    kind: run.config.model.arch === "onnx" ? "uploaded-model" : "experiment",
  };
}

/**
 * When each slot frees up, then the queue in scheduler order: each run takes the slot that
 * frees first. `extra` (a run about to be launched, priority 0) is placed like the others.
 */
export function queueView(services: Pick<Services, "runs" | "settings">, now = Date.now()): QueueView {
  const calibration = measureCalibration(services.runs);
  const running = services.runs.withStatus("running").map((r) => entry(r, calibration, now));
  const queued = services.runs.queued().map((r) => entry(r, calibration, now));
  const hostsMap = new Map<string, string[]>();
  for (const r of running) if (r.worker) hostsMap.set(r.worker, [...(hostsMap.get(r.worker) ?? []), r.id]);
  const mode = services.settings.queue;
  const slots = mode === "bullmq" ? Math.max(1, hostsMap.size) : services.settings.maxConcurrentRuns;
  const free = freeAt(running, slots);
  queued.forEach((q, i) => {
    q.position = i + 1;
    q.startsInSeconds = take(free, q.remainingSeconds);
  });
  return { mode, slots, running, queued, hosts: [...hostsMap].map(([worker, runs]) => ({ worker, runs })), calibration };
}

function freeAt(running: QueueEntry[], slots: number): number[] {
  const free = running.map((r) => r.remainingSeconds);
  while (free.length < slots) free.push(0);
  return free.sort((a, b) => a - b).slice(0, Math.max(slots, 1));
}

/** Puts a run of `seconds` on the slot that frees first; returns when it starts. */
function take(free: number[], seconds: number): number {
  free.sort((a, b) => a - b);
  const start = free[0];
  free[0] = start + seconds;
  return start;
}

/** When a new run launched now at priority `priority` would start: after every queued run of equal or higher priority. */
export function waitForNewRun(view: QueueView, priority = 0): { runsAhead: number; startsInSeconds: number } {
  const ahead = view.queued.filter((q) => q.priority >= priority);
  const free = freeAt(view.running, view.slots);
  for (const q of ahead) take(free, q.remainingSeconds);
  return { runsAhead: ahead.length + view.running.length, startsInSeconds: Math.min(...free) };
}
