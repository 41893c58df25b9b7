/** Shared by server tests: real services on a temporary data directory, and a caller. */
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import type { RunConfigInput } from "@/lib/protocol";
import { appRouter } from "./routers/_app";
import { createServices, type Services } from "./services";
import { readSettings } from "./settings";
import { createCallerFactory } from "./trpc";

export const SMOKE_CONFIG: RunConfigInput = {
  data: { dataset: "synthetic" },
  model: { arch: "mlp", widths: [16] },
  training: { regime: "natural", epochs: 3, epsStart: 1, epsLength: 0 },
  pruning: { method: "none", rounds: 0 },
  verification: { mode: "none", samples: 0 },
};

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

export function callerFor(services: Services) {
  return createCallerFactory(appRouter)({ services });
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
