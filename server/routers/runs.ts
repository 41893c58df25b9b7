/**
 * runs: launch (one run or a sweep), list, inspect, cancel, retry, delete, and stream a
 * run's events live. Everything here needs a signed-in researcher (anonymous visitors
 * see only share links); cancelling, retrying and deleting are for the run's owner.
 */
import { TRPCError, tracked } from "@trpc/server";
import { createHash } from "node:crypto";
import { z } from "zod";
import { METHOD_LABELS, RunConfig, TERMINAL_STATUSES, type RunConfigInput } from "@/lib/protocol";
import { runIdOf } from "@/lib/protocol/runId";
import { ownsRun } from "../auth/ownership";
import { checkRunPaths, launchRun } from "../jobs/launch";
import type { Run } from "../store/runs";
import { researcherProcedure, router, type Context } from "../trpc";

const RunId = z.string().regex(/^run_[0-9a-f]{16}$/, "not a run id");
const SweepId = z.string().regex(/^sweep_[0-9a-f]{16}$/, "not a sweep id");
/** Higher runs first; equal priorities in launch order. */
const Priority = z.number().int().min(-100, "Priority is at least -100").max(100, "Priority is at most 100");
const METHOD_NAMES = Object.keys(METHOD_LABELS) as [string, ...string[]];
const MAX_SWEEP_RUNS = 64;
const MAX_TAGS = 20;
/** A tag: letters, digits and . _ : + - (single spaces inside), at most 32 characters. */
const Tag = z
  .string()
  .trim()
  .min(1, "A tag cannot be empty")
  .max(32, "A tag is at most 32 characters")
  .regex(/^[\p{L}\p{N}._:+-]+( [\p{L}\p{N}._:+-]+)*$/u, "A tag holds letters, digits and . _ : + - only");

type ResearcherContext = Context & { user: NonNullable<Context["user"]> };

function findRun(ctx: Context, id: string): Run {
  const run = ctx.services.runs.get(id);
  if (!run) throw new TRPCError({ code: "NOT_FOUND", message: `no run ${id}` });
  return run;
}

/** The run, when the signed-in researcher may change it (see ownsRun). */
function ownRun(ctx: ResearcherContext, id: string, action: string): Run {
  const run = findRun(ctx, id);
  if (!ownsRun(ctx.user, run)) {
    throw new TRPCError({ code: "FORBIDDEN", message: `run ${id} was launched by ${run.owner}; only that researcher's account can ${action} it` });
  }
  return run;
}

/** A sweep's id: the hash of its runs' ids, so the same sweep launched twice is one sweep. */
function sweepIdOf(runIds: string[]): string {
  const digest = createHash("sha256").update([...runIds].sort().join(",")).digest("hex");
  return `sweep_${digest.slice(0, 16)}`;
}

const unique = <T>(values: T[]) => new Set(values).size === values.length;

export const runsRouter = router({
  /**
   * Queues a run. The id is the hash of the non-default settings, so launching the same
   * configuration again returns the existing run; a failed or cancelled one is resumed.
   */
  create: researcherProcedure
    .input(
      z
        .object({ config: RunConfig, label: z.string().trim().max(120).optional(), priority: Priority.optional() })
        .strict(),
    )
    .mutation(({ ctx, input }) => launchRun(ctx.services, ctx.user, input.config, { label: input.label, priority: input.priority })),

  /**
   * One run per (method, seed) on the same base settings, sharing a sweep id: the engine
   * trains the dense round (and draws the initial weights) once for all of them.
   */
  createSweep: researcherProcedure
    .input(
      z
        .object({
          base: RunConfig,
          methods: z
            .array(z.enum(METHOD_NAMES))
            .min(1, "Pick at least one method")
            .max(METHOD_NAMES.length)
            .refine(unique, "Each method once"),
          seeds: z
            .array(z.number().int().min(0).max(2 ** 31 - 1))
            .min(1, "Give at least one seed")
            .max(16, "At most 16 seeds")
            .refine(unique, "Each seed once"),
          priority: Priority.optional(),
        })
        .strict()
        .refine((s) => s.methods.length * s.seeds.length <= MAX_SWEEP_RUNS, {
          path: ["seeds"],
          message: `A sweep has at most ${MAX_SWEEP_RUNS} runs (methods × seeds); split it`,
        }),
    )
    .mutation(({ ctx, input }) => {
      checkRunPaths(ctx.services, input.base, ["base"]);
      const configs = input.methods.flatMap((label) =>
        input.seeds.map((seed) => {
          const { method, regularizer } = METHOD_LABELS[label];
          const config: RunConfigInput = {
            ...input.base,
            pruning: { ...input.base.pruning, method },
            training: { ...input.base.training, regularizer },
            seed,
          };
          return { label, seed, config: RunConfig.parse(config) };
        }),
      );
      const sweepId = sweepIdOf(configs.map((c) => runIdOf(c.config)));
      const runs = configs.map(({ label, seed, config }) => ({
        method: label,
        seed,
        ...launchRun(ctx.services, ctx.user, config, { label: `${label} · seed ${seed}`, priority: input.priority, sweepId }),
      }));
      return { sweepId, runs };
    }),

  list: researcherProcedure
    .input(z.object({ limit: z.number().int().min(1).max(10_000).optional(), sweepId: SweepId.optional() }).strict().optional())
    .query(({ ctx, input }) =>
      input?.sweepId ? ctx.services.runs.inSweep(input.sweepId) : ctx.services.runs.list({ limit: input?.limit }),
    ),

  get: researcherProcedure.input(z.object({ id: RunId })).query(({ ctx, input }) => findRun(ctx, input.id)),

  cancel: researcherProcedure.input(z.object({ id: RunId })).mutation(async ({ ctx, input }) => {
    const run = ownRun(ctx, input.id, "cancel");
    if (TERMINAL_STATUSES.includes(run.status)) {
      throw new TRPCError({ code: "CONFLICT", message: `run ${input.id} has already ${run.status === "finished" ? "finished" : "ended"}` });
    }
    await ctx.services.runner.cancel(input.id);
    return findRun(ctx, input.id);
  }),

  /** Queues a failed or cancelled run again; it resumes from its last finished phase. */
  retry: researcherProcedure.input(z.object({ id: RunId })).mutation(({ ctx, input }) => {
    const run = ownRun(ctx, input.id, "retry");
    if (run.status !== "failed" && run.status !== "cancelled") {
      throw new TRPCError({ code: "CONFLICT", message: `run ${input.id} is ${run.status}; only failed or cancelled runs can be retried` });
    }
    ctx.services.runner.requeue(input.id);
    ctx.services.runner.schedule();
    return findRun(ctx, input.id);
  }),

  /** Renames a run, or replaces its tags or notes (the owner only); the run's id stays. */
  annotate: researcherProcedure
    .input(
      z
        .object({
          id: RunId,
          name: z.string().trim().min(1, "A name cannot be empty").max(120, "A name is at most 120 characters").optional(),
          tags: z
            .array(Tag)
            .max(MAX_TAGS, `At most ${MAX_TAGS} tags`)
            .refine(unique, "Each tag once")
            .optional(),
          notes: z.string().max(4000, "Notes are at most 4000 characters").optional(),
        })
        .strict(),
    )
    .mutation(({ ctx, input }) => {
      ownRun(ctx, input.id, "annotate");
      ctx.services.runs.annotate(input.id, { label: input.name, tags: input.tags, notes: input.notes });
      return findRun(ctx, input.id);
    }),

  /** Stops the run if it is running, then removes it, its events and its artifact folder. */
  delete: researcherProcedure.input(z.object({ id: RunId })).mutation(async ({ ctx, input }) => {
    ownRun(ctx, input.id, "delete");
    await ctx.services.runner.remove(input.id);
    return { id: input.id, deleted: true };
  }),

  /**
   * Every event of a run, then live ones, each tracked by its stored id: a client that
   * reconnects sends the last id it saw and continues from there, without gaps. Ends
   * after the run's terminal status.
   */
  events: researcherProcedure
    .input(z.object({ id: RunId, lastEventId: z.string().regex(/^\d+$/).nullish() }))
    .subscription(async function* ({ ctx, input, signal }) {
      const { runs, bus } = ctx.services;
      if (!runs.get(input.id)) throw new TRPCError({ code: "NOT_FOUND", message: `no run ${input.id}` });
      // Subscribe before reading the store, so nothing published in between is missed.
      const live = bus.subscribe(input.id, signal);
      try {
        let lastId = Number(input.lastEventId ?? 0);
        const isEnd = (type: string, status?: string) =>
          type === "status" && TERMINAL_STATUSES.includes(status as never);
        let ended = false;
        for (const stored of runs.eventsAfter(input.id, lastId)) {
          lastId = stored.id;
          yield tracked(String(stored.id), stored.event);
          ended = isEnd(stored.event.type, (stored.event as { status?: string }).status);
        }
        const current = runs.get(input.id);
        if (ended && current && TERMINAL_STATUSES.includes(current.status)) return;
        if (!current) return; // deleted meanwhile
        // Progress events are not stored: the latest one now, then live ones, each under
        // the id of the last stored event (a client resuming from it misses nothing stored).
        const latest = ctx.services.bus.latestProgress(input.id);
        if (latest) yield tracked(String(lastId), latest.event);
        for await (const stored of live) {
          if (stored.event.type === "progress") {
            yield tracked(String(lastId), stored.event);
            continue;
          }
          if (stored.id <= lastId) continue;
          lastId = stored.id;
          yield tracked(String(stored.id), stored.event);
          if (isEnd(stored.event.type, (stored.event as { status?: string }).status)) return;
        }
      } finally {
        live.close();
      }
    }),
});
