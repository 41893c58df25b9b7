/**
 * A run's event stream folded into what its page draws. Pure: the same events always
 * give the same view, whether they arrive live or are replayed after a reload.
 */
import type { EventOf, RunConfig, RunEvent, RunStatus } from "./protocol";
import { progressOf } from "./runProgress";

export interface RunView {
  lastEventId: number;
  status: RunStatus | null;
  error: string | null;
  config: RunConfig | null;
  device: string | null;
  round: number;
  totalRounds: number | null;
  epochs: EventOf<"epoch">[];
  roundResults: EventOf<"round_finished">[];
  samples: EventOf<"sample_verified">[];
  stability: EventOf<"stability">[];
  logs: { time: string; level: string; message: string }[];
  finished: EventOf<"finished"> | null;
  failure: EventOf<"failed"> | null;
}

export const emptyRunView: RunView = {
  lastEventId: 0,
  status: null,
  error: null,
  config: null,
  device: null,
  round: 0,
  totalRounds: null,
  epochs: [],
  roundResults: [],
  samples: [],
  stability: [],
  logs: [],
  finished: null,
  failure: null,
};

const MAX_LOG_LINES = 500;

/** Applies one stored event; events at or below lastEventId are ignored (replays). */
export function foldRunView(view: RunView, id: number, event: RunEvent): RunView {
  if (id <= view.lastEventId) return view;
  const next: RunView = { ...view, lastEventId: id };
  switch (event.type) {
    case "status":
      return { ...next, status: event.status, error: event.error };
    case "started":
      return { ...next, config: event.config as unknown as RunConfig, device: event.device };
    case "round_started":
      // A resumed run repeats a round: drop what the interrupted attempt reported for it.
      return {
        ...next,
        round: event.round,
        totalRounds: event.rounds,
        epochs: next.epochs.filter((e) => e.round < event.round),
        samples: next.samples.filter((s) => s.round !== event.round),
      };
    case "epoch":
      return { ...next, epochs: [...next.epochs.filter((e) => !(e.round === event.round && e.epoch >= event.epoch)), event] };
    case "sample_verified":
      return { ...next, samples: [...next.samples.filter((s) => !(s.round === event.round && s.index === event.index)), event] };
    case "stability":
      return { ...next, stability: [...next.stability.filter((s) => s.round !== event.round), event] };
    case "round_finished":
      return { ...next, roundResults: [...next.roundResults.filter((r) => r.round !== event.round), event].sort((a, b) => a.round - b.round) };
    case "log":
      return { ...next, logs: [...next.logs, { time: event.time, level: event.level, message: event.message }].slice(-MAX_LOG_LINES) };
    case "failed":
      return {
        ...next,
        failure: event,
        logs: [...next.logs, { time: event.time, level: "error", message: event.reason }].slice(-MAX_LOG_LINES),
      };
    case "finished":
      return { ...next, finished: event };
    default:
      return next;
  }
}

export function runViewProgress(view: RunView, config: RunConfig): number {
  if (view.status === "finished") return 1;
  const last = view.epochs.at(-1);
  return progressOf(config, {
    round: view.round,
    rounds: view.totalRounds ?? undefined,
    epoch: last && last.round === view.round ? last.epoch : 0,
    samplesVerified: view.samples.filter((s) => s.round === view.round).length,
  });
}
