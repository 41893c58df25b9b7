/** For multi-host tests: a real redis-server and real `certprune worker` processes on this machine. */
import { spawn, type ChildProcess } from "node:child_process";
import net from "node:net";
import path from "node:path";

const ROOT = path.resolve(__dirname, "..", "..");

/** A TCP port free on loopback right now (for redis-server and test dashboards). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.listen(0, "127.0.0.1", () => {
      const port = (server.address() as net.AddressInfo).port;
      server.close(() => resolve(port));
    });
    server.on("error", reject);
  });
}

export interface Process {
  child: ChildProcess;
  output(): string;
  /** Sends `signal` (SIGTERM by default) and waits for the exit. */
  stop(signal?: NodeJS.Signals): Promise<void>;
}

function track(child: ChildProcess): Process {
  let output = "";
  child.stdout?.on("data", (d) => (output += d));
  child.stderr?.on("data", (d) => (output += d));
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  return {
    child,
    output: () => output,
    async stop(signal: NodeJS.Signals = "SIGTERM") {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      await exited;
    },
  };
}

async function waitForOutput(proc: Process, pattern: RegExp, what: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!pattern.test(proc.output())) {
    if (proc.child.exitCode !== null) throw new Error(`${what} exited early:\n${proc.output()}`);
    if (Date.now() > deadline) throw new Error(`${what} did not start within ${timeoutMs} ms:\n${proc.output()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** A throwaway redis-server on a free loopback port, without persistence. */
export async function startRedis(): Promise<Process & { url: string }> {
  const port = await freePort();
  const redis = track(
    spawn("/usr/bin/redis-server", ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"], {
      stdio: ["ignore", "pipe", "pipe"],
    }),
  );
  await waitForOutput(redis, /Ready to accept connections/, "redis-server");
  return { ...redis, url: `redis://127.0.0.1:${port}` };
}

/** `certprune worker` as a GPU host runs it (one node process: SIGKILL kills the worker itself). */
export async function startWorker(env: Record<string, string>): Promise<Process> {
  const worker = track(
    spawn(path.join(ROOT, "bin", "certprune"), ["worker"], { env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] }),
  );
  await waitForOutput(worker, /taking runs from/, "certprune worker");
  return worker;
}
