/** Shared by server tests: real services on a temporary data directory, and a caller. */
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import type { RunConfigInput } from "@/lib/protocol";
import { appRouter } from "./routers/_app";
import { createServices, type Services } from "./services";
import { readSettings } from "./settings";
import type { User } from "./auth/accounts";
import { contextFor, createCallerFactory } from "./trpc";

export const SMOKE_CONFIG: RunConfigInput = {
  data: { dataset: "synthetic" },
  model: { arch: "mlp", widths: [16] },
  training: { regime: "natural", epochs: 3, epsStart: 1, epsLength: 0 },
  pruning: { method: "none", rounds: 0 },
  verification: { mode: "none", samples: 0 },
};

/** Two rounds (dense, then one pruning round) of ~1 s each: long enough that a test which
 * sees round 1's first epoch can act (kill, cancel, restart) before round 1 ends; at 12
 * epochs a round took ~70 ms and that race was sometimes lost. */
export const TWO_ROUNDS: RunConfigInput = {
  data: { dataset: "synthetic", trainSize: 512, testSize: 256 },
  model: { arch: "mlp", widths: [16] },
  training: { regime: "natural", epochs: 80, epsStart: 1, epsLength: 0 },
  pruning: { method: "random", rounds: 1, scope: "conv-linear" },
  verification: { mode: "none", samples: 0 },
};

/** Polls `probe` every 50 ms until it returns something truthy (or throws after `timeoutMs`). */
export async function until<T>(what: string, probe: () => T | undefined | null | false, timeoutMs = 90_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export function testServices(env: Record<string, string> = {}): Services & { cleanup(): Promise<void> } {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), "certprune-server-"));
  const settings = readSettings({ ...process.env, CERTPRUNE_DATA_DIR: dataDir, ...env });
  const services = createServices(settings);
  services.runner.start();
  return {
    ...services,
    async cleanup() {
      await services.runner.stop();
      services.db.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** A caller acting as `user` (default: a researcher "tester", created on first use); null: an anonymous visitor. */
export function callerFor(services: Services, user: User | null | string = "tester") {
  const actor = typeof user === "string" ? researcher(services, user) : user;
  return createCallerFactory(appRouter)(contextFor(services, actor));
}

/** A researcher account, created directly in the store (no password hashing: fast in tests). */
export function researcher(services: Services, name: string): User {
  const existing = services.accounts.find(name);
  if (existing) return existing;
  services.db.prepare(`INSERT INTO users (name, password_hash, created_at) VALUES (?, 'test-account', ?)`).run(name, Date.now());
  return services.accounts.find(name)!;
}

export async function waitForStatus(services: Services, id: string, statuses: string[], timeoutMs = 90_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const run = services.runs.get(id);
    if (run && statuses.includes(run.status)) return run;
    if (Date.now() > deadline) throw new Error(`run ${id} is ${run?.status}, not ${statuses.join("/")}, after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
