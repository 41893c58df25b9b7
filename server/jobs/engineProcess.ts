/**
 * One engine subprocess: spawned without a shell, stdout read as newline-delimited JSON
 * events (each checked against the protocol), stderr kept as a bounded tail for errors.
 */
import { spawn, type ChildProcess } from "node:child_process";
import readline from "node:readline";
import { EngineEvent } from "@/lib/protocol";

const STDERR_TAIL_BYTES = 8192;

export interface EngineExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  stderrTail: string;
}

export interface EngineHandlers {
  onEvent(event: EngineEvent): void;
  onExit(exit: EngineExit): void;
}

export class EngineProcess {
  private readonly child: ChildProcess;
  private stderrTail = "";
  private killTimer: NodeJS.Timeout | null = null;

  constructor(enginePath: string, args: string[], env: NodeJS.ProcessEnv, handlers: EngineHandlers) {
    this.child = spawn(enginePath, args, { env, shell: false, stdio: ["ignore", "pipe", "pipe"] });
    let seq = 0;
    const lines = readline.createInterface({ input: this.child.stdout! });
    lines.on("line", (line) => {
      if (!line.trim()) return;
      handlers.onEvent(parseEngineLine(line, seq++));
    });
    this.child.stderr!.on("data", (chunk: Buffer) => {
      this.stderrTail = (this.stderrTail + chunk.toString("utf8")).slice(-STDERR_TAIL_BYTES);
    });
    const stdoutDone = new Promise<void>((resolve) => lines.once("close", resolve));
    this.child.once("error", (error) => {
      this.stderrTail += `\ncould not start the engine (${enginePath}): ${error.message}`;
    });
    this.child.once("close", async (code, signal) => {
      if (this.killTimer) clearTimeout(this.killTimer);
      await stdoutDone; // every event line is handled before the exit
      handlers.onExit({ code, signal, stderrTail: this.stderrTail });
    });
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  /** SIGTERM now (the engine writes a `failed` event and exits), SIGKILL after `graceMs`. */
  stop(graceMs = 4000): void {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    this.child.kill("SIGTERM");
    this.killTimer = setTimeout(() => this.child.kill("SIGKILL"), graceMs);
  }
}

/** A line the engine wrote, as an event; anything malformed is kept as a warning log. */
export function parseEngineLine(line: string, seq: number): EngineEvent {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return warning(seq, `engine wrote a line that is not JSON: ${line.slice(0, 500)}`);
  }
  const parsed = EngineEvent.safeParse(value);
  if (parsed.success) return parsed.data;
  const where = parsed.error.issues[0]?.path.join(".") || "(event)";
  return warning(seq, `engine wrote an event that breaks the protocol at ${where}: ${line.slice(0, 500)}`);
}

function warning(seq: number, message: string): EngineEvent {
  return { type: "log", seq, time: new Date().toISOString(), level: "warning", message };
}
