/**
 * Launching a run, the one way every entry point does it (runs.create, runs.createSweep,
 * an uploaded model): its id is the hash of its non-default settings, so launching the
 * same settings again answers the existing run, and a failed or cancelled run of the
 * caller's is resumed from its last finished phase.
 */
import { TRPCError } from "@trpc/server";
import { z } from "zod";
import { methodLabel, type RunConfig } from "@/lib/protocol";
import { runIdOf } from "@/lib/protocol/runId";
import type { User } from "../auth/accounts";
import { ownsRun } from "../auth/ownership";
import type { Services } from "../services";
import { configPathProblems, pathLimits } from "./dataRoots";

export interface LaunchOptions {
  label?: string;
  priority?: number;
  sweepId?: string;
}

export interface Launched {
  id: string;
  created: boolean;
  resumed: boolean;
}

/**
 * Refuses settings whose paths the engine would read outside what this server may read
 * (data.root, model.onnx), as field messages under `field` (where the form holds the config).
 */
export function checkRunPaths(services: Pick<Services, "settings">, config: RunConfig, field: (string | number)[] = ["config"]): void {
  const problems = configPathProblems(config, pathLimits(services.settings));
  if (!problems.length) return;
  const issues = problems.map((p) => ({ path: [...field, ...p.path], message: p.message }));
  // A ZodError made by zod itself (as input validation makes them), so forms show it by field.
  const cause = z
    .unknown()
    .superRefine((_, refinement) => issues.forEach((i) => refinement.addIssue({ code: "custom", ...i })))
    .safeParse(null).error;
  throw new TRPCError({ code: "BAD_REQUEST", message: issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; "), cause });
}

/** Queues a run for `user` (after checking its paths), or returns the existing one with the same settings. */
export function launchRun(services: Services, user: User, config: RunConfig, options: LaunchOptions = {}): Launched {
  checkRunPaths(services, config);
  const { runs, runner } = services;
  const id = runIdOf(config);
  const existing = runs.get(id);
  if (existing) {
    // Someone else's run with the same settings is answered, never re-tagged or resumed.
    const mine = ownsRun(user, existing);
    if (options.sweepId && mine) runs.setSweep(id, options.sweepId);
    if (mine && (existing.status === "failed" || existing.status === "cancelled")) {
      if (options.priority !== undefined) runs.setPriority(id, options.priority);
      runner.requeue(id);
      runner.schedule();
      return { id, created: false, resumed: true };
    }
    return { id, created: false, resumed: false };
  }
  runs.insert({
    id,
    label: options.label || methodLabel(config),
    config,
    priority: options.priority ?? 0,
    sweepId: options.sweepId ?? null,
    owner: user,
  });
  runner.requeue(id); // records the 'queued' status event
  runner.schedule();
  return { id, created: true, resumed: false };
}
