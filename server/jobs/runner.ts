/**
 * The embedded job runner: runs wait in SQLite's queue; at most `maxConcurrentRuns`
 * engine processes run at once, started in priority then queue order. Every engine
 * event is stored, folded into the run's summary, then published to subscribers.
 * A run found 'running' at start-up (the server died under it) is queued again and
 * resumes from its last finished phase: the engine skips what its folder already has.
 */
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import type { EngineEvent, RunEvent, RunStatus } from "@/lib/protocol";
import type { EventBus } from "../events/bus";
import type { ServerSettings } from "../settings";
import type { Run, RunStore } from "../store/runs";
import { EngineProcess, type EngineExit } from "./engineProcess";
import { foldSummary, summaryProgress, type SummaryState } from "./summary";

interface ActiveRun {
  engine: EngineProcess;
  summary: SummaryState;
  failure: string | null;
  finished: boolean;
  cancelRequested: boolean;
  exited: Promise<void>;
}

export class JobRunner {
  private readonly active = new Map<string, ActiveRun>();
  private stopping = false;

  constructor(
    private readonly store: RunStore,
    private readonly bus: EventBus,
    private readonly settings: ServerSettings,
  ) {}

  runDir(runId: string): string {
    return path.join(this.settings.dataDir, "runs", runId);
  }

  /** Requeue runs interrupted by a server stop, then fill the free slots. */
  start(): void {
    for (const run of this.store.withStatus("running")) {
      this.requeue(run.id);
      this.record(run.id, { type: "log", seq: 0, time: new Date().toISOString(), level: "warning", message: "server restarted while this run was running: resuming from its last finished phase" });
    }
    this.schedule();
  }

  isActive(runId: string): boolean {
    return this.active.has(runId);
  }

  schedule(): void {
    if (this.stopping) return;
    for (const run of this.store.queued()) {
      if (this.active.size >= this.settings.maxConcurrentRuns) return;
      this.launch(run);
    }
  }

  /** Cancels a queued run at once, a running one within the engine's grace period. */
  async cancel(runId: string): Promise<void> {
    const active = this.active.get(runId);
    if (!active) {
      const run = this.store.get(runId);
      if (run?.status === "queued") this.end(runId, "cancelled", "cancelled before it started");
      return;
    }
    active.cancelRequested = true;
    active.engine.stop();
    await active.exited;
  }

  /** Stops every engine (server shutdown); their runs stay 'running' and resume at the next start. */
  async stop(): Promise<void> {
    this.stopping = true;
    const exits = [...this.active.values()].map((a) => {
      a.engine.stop(2000);
      return a.exited;
    });
    await Promise.all(exits);
  }

  removeArtifacts(runId: string): void {
    rmSync(this.runDir(runId), { recursive: true, force: true });
  }

  private launch(run: Run): void {
    const dir = this.runDir(run.id);
    mkdirSync(dir, { recursive: true });
    const configPath = path.join(dir, "config.json");
    writeFileSync(configPath, JSON.stringify(run.config, null, 2));
    this.store.markRunning(run.id);
    this.recordStatus(run.id, "running", null);
    let resolveExit!: () => void;
    const active: ActiveRun = {
      engine: null as unknown as EngineProcess,
      summary: run.summary,
      failure: null,
      finished: false,
      cancelRequested: false,
      exited: new Promise<void>((resolve) => (resolveExit = resolve)),
    };
    this.active.set(run.id, active);
    const env = { ...process.env, CERTPRUNE_DATA: this.settings.datasetsDir };
    active.engine = new EngineProcess(
      this.settings.enginePath,
      ["run", "--config", configPath, "--out", dir],
      env,
      {
        onEvent: (event) => this.onEvent(run, active, event),
        onExit: (exit) => {
          this.onExit(run, active, exit);
          resolveExit();
        },
      },
    );
  }

  private onEvent(run: Run, active: ActiveRun, event: EngineEvent): void {
    if (event.type === "failed") active.failure = event.reason;
    if (event.type === "finished") active.finished = true;
    active.summary = foldSummary(active.summary, event);
    this.store.update(run.id, { summary: active.summary, progress: summaryProgress(run.config, active.summary) });
    this.record(run.id, event);
  }

  private onExit(run: Run, active: ActiveRun, exit: EngineExit): void {
    this.active.delete(run.id);
    if (this.stopping && !active.finished && !active.cancelRequested) return; // resumes at next start
    if (active.finished && exit.code === 0) {
      this.store.update(run.id, { progress: 1 });
      this.end(run.id, "finished", null);
    } else if (active.cancelRequested) {
      this.end(run.id, "cancelled", "cancelled by a researcher");
    } else {
      const reason = active.failure ?? describeExit(exit);
      if (!active.failure) {
        // The engine died without saying why (killed, out of memory): say it for it.
        this.record(run.id, {
          type: "failed",
          seq: 0,
          time: new Date().toISOString(),
          reason,
          detail: exit.stderrTail.slice(-4000) || null,
          phase: null,
        });
      }
      this.end(run.id, "failed", reason);
    }
    this.schedule();
  }

  /** Puts a run (back) in the queue; it resumes from its last finished phase. */
  requeue(runId: string): void {
    this.store.requeue(runId);
    this.recordStatus(runId, "queued", null);
  }

  private end(runId: string, status: Exclude<RunStatus, "queued" | "running">, error: string | null): void {
    this.store.markEnded(runId, status, error);
    this.recordStatus(runId, status, error);
  }

  private recordStatus(runId: string, status: RunStatus, error: string | null): void {
    this.record(runId, { type: "status", time: new Date().toISOString(), status, error });
  }

  private record(runId: string, event: RunEvent): void {
    this.bus.publish(this.store.appendEvent(runId, event));
  }
}

function describeExit(exit: EngineExit): string {
  const lastLine = exit.stderrTail.trim().split("\n").filter(Boolean).pop() ?? "";
  if (exit.signal === "SIGKILL") return "the engine was killed (SIGKILL; out of memory or stopped by the system)";
  if (exit.signal) return `the engine stopped on signal ${exit.signal}`;
  return `the engine exited with code ${exit.code}${lastLine ? `: ${lastLine}` : ""}`;
}
