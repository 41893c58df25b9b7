/**
 * What the dashboard and the `certprune worker` agents say to each other through Redis:
 *
 * - the BullMQ queue `certprune-runs` carries runs to workers (one job per attempt);
 * - the stream `certprune:events` carries back, in order, what each worker saw: that it
 *   claimed a run, every engine event, and how the engine exited. The dashboard reads it
 *   from where it stopped (its position is stored in SQLite), so a dashboard restart
 *   loses nothing;
 * - the key `certprune:cancel:<run id>` plus a message on the channel `certprune:cancel`
 *   ask whichever worker holds the run to stop it.
 */
import { z } from "zod";
import { EngineEvent, RunConfig } from "@/lib/protocol";

export const QUEUE_NAME = "certprune-runs";
export const EVENTS_STREAM = "certprune:events";
export const CANCEL_CHANNEL = "certprune:cancel";
export const cancelKey = (runId: string) => `certprune:cancel:${runId}`;
/** The stream keeps about this many entries (older ones are long since stored by the dashboard). */
export const STREAM_MAX_LENGTH = 200_000;

/** A job: everything a worker needs to run the engine (folders come from its own settings). */
export const RunJob = z.object({
  runId: z.string(),
  config: RunConfig,
  sweepId: z.string().nullable(),
});
export type RunJob = z.infer<typeof RunJob>;

const Exit = z.object({
  code: z.number().nullable(),
  signal: z.string().nullable(),
  stderrTail: z.string(),
});

/** One entry of the events stream. `attempt` tells a worker's claim apart from an earlier one. */
export const WorkerMessage = z.discriminatedUnion("kind", [
  z.object({ kind: z.literal("claimed"), runId: z.string(), worker: z.string(), attempt: z.string(), takeover: z.boolean() }),
  z.object({ kind: z.literal("event"), runId: z.string(), worker: z.string(), attempt: z.string(), event: EngineEvent }),
  z.object({
    kind: z.literal("exit"),
    runId: z.string(),
    worker: z.string(),
    attempt: z.string(),
    finished: z.boolean(),
    failure: z.string().nullable(),
    cancelRequested: z.boolean(),
    exit: Exit,
  }),
]);
export type WorkerMessage = z.infer<typeof WorkerMessage>;

/** BullMQ runs lower numbers first (1 is the highest); ours run higher priorities first. */
export function bullPriority(priority: number): number {
  return 101 - Math.max(-100, Math.min(100, priority)) + 1;
}
