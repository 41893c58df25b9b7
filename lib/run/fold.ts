/**
 * A run's event stream folded into what its page draws. Pure: the same events always give
 * the same view, whether they arrive live, are replayed after a reload, or are fetched
 * whole for a shared link. Progress (./progress), selectors (./selectors) and exports
 * (./export) are built on the view.
 *
 *   let view = emptyRunView;
 *   view = foldRunEvents(view, [{ id: 1, event }, ...]);   // or runViewOf(storedEvents)
 */
import type { EventOf, RunConfig, RunEvent, RunStatus } from "../protocol";

export type Epoch = EventOf<"epoch">;
export type RoundFinished = EventOf<"round_finished">;
export type SampleResult = EventOf<"sample_verified">;
export type Stability = EventOf<"stability">;
export type StabilityLayer = Stability["layers"][number];
export type Artifact = Pick<EventOf<"artifact">, "round" | "kind" | "path" | "bytes">;
export type Progress = EventOf<"progress">;
export type Plan = NonNullable<EventOf<"started">["plan"]>;
/** A log line; round and phase are null in events written before the engine gave them. */
export interface LogLine {
  time: string;
  level: string;
  message: string;
  round: number | null;
  phase: string | null;
}

export interface RunView {
  lastEventId: number;
  status: RunStatus | null;
  error: string | null;
  config: RunConfig | null;
  device: string | null;
  /** What the engine resolved and planned (its started event); null for runs stored before it said. */
  plan: Plan | null;
  /** The latest progress inside a phase (streamed, never stored); null when none is current. */
  progress: Progress | null;
  /** The round the engine is on (its last round_started, or a later round_finished). */
  round: number;
  totalRounds: number | null;
  /** The last round_started of each round, by round. */
  roundStarts: EventOf<"round_started">[];
  epochs: Epoch[];
  roundResults: RoundFinished[];
  samples: SampleResult[];
  stability: Stability[];
  /** The last artifact event per path. */
  artifacts: Artifact[];
  logs: LogLine[];
  finished: EventOf<"finished"> | null;
  failure: EventOf<"failed"> | null;
}

export const emptyRunView: RunView = {
  lastEventId: 0,
  status: null,
  error: null,
  config: null,
  device: null,
  plan: null,
  progress: null,
  round: 0,
  totalRounds: null,
  roundStarts: [],
  epochs: [],
  roundResults: [],
  samples: [],
  stability: [],
  artifacts: [],
  logs: [],
  finished: null,
  failure: null,
};

const MAX_LOG_LINES = 500;

export interface StoredRunEvent {
  id: number;
  event: RunEvent;
}

/** Applies one stored event; events at or below lastEventId are ignored (replays). */
export function foldRunView(view: RunView, id: number, event: RunEvent): RunView {
  return foldRunEvents(view, [{ id, event }]);
}

/** A run's whole stored stream (e.g. fetched for a shared link) as a view. */
export function runViewOf(events: readonly StoredRunEvent[]): RunView {
  return foldRunEvents(emptyRunView, events);
}

/**
 * Applies a batch of stored events in order. The arrays are copied once per batch, not
 * once per event, so replaying a long run's thousands of events stays linear-ish.
 */
export function foldRunEvents(view: RunView, batch: readonly StoredRunEvent[]): RunView {
  // Progress events are not stored: they come under the id of the last stored event and
  // are always applied; every other event only once, in id order.
  const fresh: StoredRunEvent[] = [];
  let lastId = view.lastEventId;
  for (const b of batch) {
    if (b.event.type === "progress") fresh.push(b);
    else if (b.id > lastId) {
      fresh.push(b);
      lastId = b.id;
    }
  }
  if (fresh.length === 0) return view;
  const next: RunView = {
    ...view,
    roundStarts: [...view.roundStarts],
    epochs: [...view.epochs],
    roundResults: [...view.roundResults],
    samples: [...view.samples],
    stability: [...view.stability],
    artifacts: [...view.artifacts],
    logs: [...view.logs],
  };
  for (const { id, event } of fresh) {
    if (event.type !== "progress") next.lastEventId = id;
    apply(next, event);
  }
  if (next.logs.length > MAX_LOG_LINES) next.logs = next.logs.slice(-MAX_LOG_LINES);
  return next;
}

/** Mutates the draft `v` (a fresh copy made by foldRunEvents). */
function apply(v: RunView, event: RunEvent): void {
  switch (event.type) {
    case "progress":
      v.progress = event;
      return;
    case "status":
      v.status = event.status;
      v.error = event.error;
      if (event.status !== "running") v.progress = null;
      // A failed or cancelled run launched again resumes: its old failure no longer applies.
      if (event.status === "queued" || event.status === "running") v.failure = null;
      return;
    case "started":
      v.config = event.config as unknown as RunConfig;
      v.device = event.device;
      v.plan = event.plan ?? null;
      return;
    case "round_started":
      // A resumed run repeats a round: drop what the interrupted attempt reported for it.
      v.round = event.round;
      v.totalRounds = event.rounds;
      v.roundStarts = [...v.roundStarts.filter((r) => r.round !== event.round), event].sort((a, b) => a.round - b.round);
      v.epochs = v.epochs.filter((e) => e.round < event.round);
      v.samples = v.samples.filter((s) => s.round !== event.round);
      if (v.progress && v.progress.round < event.round) v.progress = null;
      return;
    case "epoch": {
      const last = v.epochs.at(-1);
      if (last && (last.round > event.round || (last.round === event.round && last.epoch >= event.epoch))) {
        v.epochs = v.epochs.filter((e) => !(e.round > event.round || (e.round === event.round && e.epoch >= event.epoch)));
      }
      v.epochs.push(event);
      // The epoch the progress was counting has ended.
      if (v.progress?.phase === "train" && v.progress.round === event.round && (v.progress.epoch ?? 0) <= event.epoch) v.progress = null;
      return;
    }
    case "sample_verified": {
      const at = v.samples.findIndex((s) => s.round === event.round && s.index === event.index);
      if (at >= 0) v.samples.splice(at, 1);
      v.samples.push(event);
      return;
    }
    case "stability":
      v.stability = [...v.stability.filter((s) => s.round !== event.round), event].sort((a, b) => a.round - b.round);
      return;
    case "round_finished":
      v.roundResults = [...v.roundResults.filter((r) => r.round !== event.round), event].sort((a, b) => a.round - b.round);
      // A resumed run replays finished rounds without their round_started.
      if (event.round >= v.round) v.round = event.round;
      if (v.progress && v.progress.round <= event.round) v.progress = null;
      return;
    case "artifact": {
      const { round, kind, path, bytes } = event;
      v.artifacts = [...v.artifacts.filter((a) => a.path !== path), { round, kind, path, bytes }];
      return;
    }
    case "log":
      v.logs.push({ time: event.time, level: event.level, message: event.message, round: event.round ?? null, phase: event.phase ?? null });
      return;
    case "failed":
      v.failure = event;
      v.logs.push({ time: event.time, level: "error", message: event.reason, round: null, phase: event.phase });
      return;
    case "finished":
      v.finished = event;
      return;
  }
}

