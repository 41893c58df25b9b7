/**
 * The server's long-lived parts (database, every store, event bus, job runner), created once per
 * process. They live on globalThis rather than in module state because Next.js may
 * evaluate modules more than once (hot reload, separate route bundles).
 */
import { Accounts } from "./auth/accounts";
import { EventBus } from "./events/bus";
import { JobRunner, type Runner } from "./jobs/runner";
import { Slots } from "./jobs/slots";
import { BullRunner } from "./queue/bullRunner";
import { readSettings, type ServerSettings } from "./settings";
import { AuditStore } from "./store/audits";
import { openDatabase, type DB } from "./store/db";
import { ResultQueries } from "./store/results";
import { RunStore } from "./store/runs";
import { ShareStore } from "./store/shares";

export interface Services {
  settings: ServerSettings;
  db: DB;
  accounts: Accounts;
  runs: RunStore;
  /** Per-round results and sample outcomes of runs, for comparisons. */
  results: ResultQueries;
  shares: ShareStore;
  audits: AuditStore;
  bus: EventBus;
  runner: Runner;
  /** Bundle exports running now (each is an engine process), bounded by settings.maxConcurrentExports. */
  exports: Slots;
}

export function createServices(settings: ServerSettings = readSettings()): Services {
  const db = openDatabase(settings.dataDir);
  const accounts = new Accounts(db);
  const runs = new RunStore(db);
  const bus = new EventBus();
  // One machine: engines run here. Several GPU hosts: `certprune worker` agents run them.
  const runner = settings.queue === "bullmq" ? new BullRunner(runs, bus, settings) : new JobRunner(runs, bus, settings);
  return {
    settings,
    db,
    accounts,
    runs,
    results: new ResultQueries(db),
    shares: new ShareStore(db),
    audits: new AuditStore(db),
    bus,
    runner,
    exports: new Slots(settings.maxConcurrentExports),
  };
}

const KEY = Symbol.for("certprune.services");
type GlobalWithServices = typeof globalThis & { [KEY]?: Services };

/** The process's services, started on first use (which also resumes interrupted runs). */
export function getServices(): Services {
  const g = globalThis as GlobalWithServices;
  if (!g[KEY]) {
    const services = createServices();
    g[KEY] = services;
    services.runner.start();
    const shutdown = () => {
      void services.runner.stop().finally(() => process.exit(0));
    };
    process.once("SIGTERM", shutdown);
    process.once("SIGINT", shutdown);
  }
  return g[KEY]!;
}
