/**
 * The embedded job runner: runs wait in SQLite's queue; at most `maxConcurrentRuns`
 * engine processes run at once, started in priority then queue order. Every engine
 * event is stored, folded into the run's summary, then published to subscribers.
 * A run found 'running' at start-up (the server died under it) is queued again and
 * resumes from its last finished phase: the engine skips what its folder already has.
 */
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { TERMINAL_STATUSES, type EngineEvent, type RunConfig } from "@/lib/protocol";
import type { EventBus } from "../events/bus";
import { runDir, RunPaths, sweepDir } from "../runPaths";
import type { ServerSettings } from "../settings";
import type { Run, RunStore } from "../store/runs";
import { configPathProblems, pathLimits } from "./dataRoots";
import { EngineProcess } from "./engineProcess";
import { RunRecorder } from "./recorder";

/** What the routers ask of a runner, the embedded one here or the multi-host one (server/queue). */
export interface Runner {
  /** Resumes what a server stop interrupted, then starts queued runs. */
  start(): void;
  /** Stops what this process runs; their runs resume at the next start. */
  stop(): Promise<void>;
  /** Starts queued runs while there is room. */
  schedule(): void;
  /** Puts a run (back) in the queue; it resumes from its last finished phase. */
  requeue(runId: string): void;
  /** Cancels a queued run at once, a running one within a few seconds; finished rounds stay. */
  cancel(runId: string): Promise<void>;
  /** Cancels the run if it has not ended, then deletes it, its events and its folder. */
  remove(runId: string): Promise<void>;
  /** The run's artifact folder, as this server sees it. */
  runDir(runId: string): string;
}

interface ActiveRun {
  engine: EngineProcess;
  failure: string | null;
  finished: boolean;
  cancelRequested: boolean;
  exited: Promise<void>;
}

/**
 * Writes the run's config.json into its folder and returns the engine's arguments; a
 * sweep's runs also get the sweep's shared folder.
 */
export function prepareEngine(dataDir: string, run: { id: string; config: RunConfig; sweepId: string | null }): string[] {
  const dir = runDir(dataDir, run.id);
  mkdirSync(dir, { recursive: true });
  const configPath = new RunPaths(dir).config;
  writeFileSync(configPath, JSON.stringify(run.config, null, 2));
  const shared = run.sweepId ? ["--shared", sweepDir(dataDir, run.sweepId)] : [];
  return ["run", "--config", configPath, "--out", dir, ...shared];
}

/** Why a run could not start because its folder could not be prepared, and what to do. */
export function preparationFailure(dir: string, error: unknown): string {
  const reason = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
  return `could not write the run's folder ${dir} (${reason}: ${(error as Error).message}); free disk space or remove what is in the way, then retry the run`;
}

export class JobRunner implements Runner {
  private readonly active = new Map<string, ActiveRun>();
  private readonly recorder: RunRecorder;
  private stopping = false;

  constructor(
    private readonly store: RunStore,
    bus: EventBus,
    private readonly settings: ServerSettings,
  ) {
    this.recorder = new RunRecorder(store, bus);
  }

  runDir(runId: string): string {
    return runDir(this.settings.dataDir, runId);
  }

  /** Requeue runs interrupted by a server stop, then fill the free slots. */
  start(): void {
    for (const run of this.store.withStatus("running")) {
      this.recorder.queued(run.id);
      this.recorder.log(run.id, "warning", "server restarted while this run was running: resuming from its last finished phase");
    }
    this.schedule();
  }

  isActive(runId: string): boolean {
    return this.active.has(runId);
  }

  /** The process id of the run's engine while it runs (for operators and tests). */
  enginePid(runId: string): number | undefined {
    return this.active.get(runId)?.engine.pid;
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
      if (run?.status === "queued") this.recorder.end(runId, "cancelled", "cancelled before it started");
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

  async remove(runId: string): Promise<void> {
    const run = this.store.get(runId);
    if (run && !TERMINAL_STATUSES.includes(run.status)) await this.cancel(runId);
    this.store.delete(runId);
    rmSync(this.runDir(runId), { recursive: true, force: true });
  }

  requeue(runId: string): void {
    this.recorder.queued(runId);
  }

  private launch(run: Run): void {
    // The routers refuse such settings; this also stops runs stored before they did.
    const problems = configPathProblems(run.config, pathLimits(this.settings));
    if (problems.length) {
      this.recorder.end(run.id, "failed", problems.map((p) => `${p.path.join(".")}: ${p.message}`).join("; "));
      return;
    }
    let args: string[];
    try {
      args = prepareEngine(this.settings.dataDir, run);
    } catch (error) {
      // One run whose folder cannot be written (a full disk, a file in its place) fails
      // with the reason; the queue keeps serving everyone else's runs.
      this.recorder.end(run.id, "failed", preparationFailure(this.runDir(run.id), error));
      return;
    }
    this.recorder.running(run.id);
    let resolveExit!: () => void;
    const active: ActiveRun = {
      engine: null as unknown as EngineProcess,
      failure: null,
      finished: false,
      cancelRequested: false,
      exited: new Promise<void>((resolve) => (resolveExit = resolve)),
    };
    this.active.set(run.id, active);
    const env = { ...process.env, CERTPRUNE_DATA: this.settings.datasetsDir };
    active.engine = new EngineProcess(this.settings.enginePath, args, env, {
      onEvent: (event) => this.onEvent(run.id, active, event),
      onExit: (exit) => {
        this.active.delete(run.id);
        // A server shutdown leaves the run 'running': it resumes at the next start.
        if (!(this.stopping && !active.finished && !active.cancelRequested)) {
          this.recorder.settle(run.id, { ...active, exit });
          this.schedule();
        }
        resolveExit();
      },
    });
  }

  private onEvent(runId: string, active: ActiveRun, event: EngineEvent): void {
    if (event.type === "failed") active.failure = event.reason;
    if (event.type === "finished") active.finished = true;
    // A server shutdown stops the engine; that is no failure of the run, which resumes at the next start.
    if (this.stopping && event.type === "failed" && !active.cancelRequested) return;
    this.recorder.engineEvent(runId, event);
  }
}
