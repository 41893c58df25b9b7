/**
 * How a run's life is written down: every change is stored in SQLite (the run's row and
 * its event stream) and then published on the event bus. Both runners (embedded, and
 * multi-host in server/queue) record through here, so subscribers see the same stream
 * wherever the engine runs.
 */
import type { EngineEvent, RunEvent, RunStatus } from "@/lib/protocol";
import type { EventBus } from "../events/bus";
import type { RunStore } from "../store/runs";
import type { EngineExit } from "./engineProcess";
import { foldSummary, summaryProgress } from "./summary";

/** How one engine process ended, as its runner saw it. */
export interface AttemptOutcome {
  /** The engine wrote its `finished` event. */
  finished: boolean;
  /** The reason of the engine's `failed` event, if it wrote one. */
  failure: string | null;
  /** A researcher cancelled the run while it ran. */
  cancelRequested: boolean;
  exit: EngineExit;
}

export class RunRecorder {
  constructor(
    private readonly store: RunStore,
    private readonly bus: EventBus,
  ) {}

  record(runId: string, event: RunEvent): void {
    this.bus.publish(this.store.appendEvent(runId, event));
  }

  log(runId: string, level: "info" | "warning" | "error", message: string): void {
    this.record(runId, { type: "log", seq: 0, time: new Date().toISOString(), level, message });
  }

  /** Puts a run (back) in the queue; it resumes from its last finished phase. */
  queued(runId: string): void {
    this.store.requeue(runId);
    this.status(runId, "queued", null);
  }

  running(runId: string, worker: string | null = null): void {
    this.store.markRunning(runId);
    this.store.setWorker(runId, worker);
    this.status(runId, "running", null);
  }

  end(runId: string, status: Exclude<RunStatus, "queued" | "running">, error: string | null): void {
    this.store.markEnded(runId, status, error);
    this.status(runId, status, error);
  }

  /**
   * Stores an engine event and, in the same transaction, the run's summary and progress
   * when the event changes them (most events, e.g. logs, leave them as they are).
   */
  engineEvent(runId: string, event: EngineEvent): void {
    if (event.type === "progress") {
      // Written every couple of seconds: only the latest is kept (in memory), and streamed.
      if (this.store.get(runId)?.status === "running") this.bus.publishProgress(runId, event);
      return;
    }
    const stored = this.store.transaction(() => {
      const run = this.store.get(runId);
      if (!run) return null; // deleted meanwhile
      const summary = foldSummary(run.summary, event);
      if (summary !== run.summary) this.store.update(runId, { summary, progress: summaryProgress(run.config, summary) });
      return this.store.appendEvent(runId, event);
    });
    if (stored) this.bus.publish(stored);
  }

  /** The run's status after its engine exited: finished, cancelled, or failed with a reason. */
  settle(runId: string, outcome: AttemptOutcome): void {
    const { finished, failure, cancelRequested, exit } = outcome;
    if (finished && exit.code === 0) {
      this.store.update(runId, { progress: 1 });
      this.end(runId, "finished", null);
    } else if (cancelRequested) {
      this.end(runId, "cancelled", "cancelled by a researcher");
    } else {
      const reason = failure ?? describeExit(exit);
      if (!failure) {
        // The engine died without saying why (killed, out of memory): say it for it.
        this.record(runId, {
          type: "failed",
          seq: 0,
          time: new Date().toISOString(),
          reason,
          detail: exit.stderrTail.slice(-4000) || null,
          phase: null,
        });
      }
      this.end(runId, "failed", reason);
    }
  }

  private status(runId: string, status: RunStatus, error: string | null): void {
    if (status !== "running") this.bus.clearProgress(runId);
    this.record(runId, { type: "status", time: new Date().toISOString(), status, error });
  }
}

export function describeExit(exit: EngineExit): string {
  const lastLine = exit.stderrTail.trim().split("\n").filter(Boolean).pop() ?? "";
  if (exit.signal === "SIGKILL") return "the engine was killed (SIGKILL; out of memory or stopped by the system)";
  if (exit.signal) return `the engine stopped on signal ${exit.signal}`;
  return `the engine exited with code ${exit.code}${lastLine ? `: ${lastLine}` : ""}`;
}
