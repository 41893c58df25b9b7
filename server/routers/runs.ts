/** runs: launch, list, inspect, cancel, and stream a run's events live. */
import { TRPCError, tracked } from "@trpc/server";
import { z } from "zod";
import { RunConfig, TERMINAL_STATUSES, methodLabel } from "@/lib/protocol";
import { runIdOf } from "@/lib/protocol/runId";
import { publicProcedure, router } from "../trpc";

const RunId = z.string().regex(/^run_[0-9a-f]{16}$/, "not a run id");

export const runsRouter = router({
  /**
   * Queues a run. The id is the hash of the non-default settings, so launching the same
   * configuration again returns the existing run; a failed or cancelled one is resumed.
   */
  create: publicProcedure
    .input(z.object({ config: RunConfig, label: z.string().trim().max(120).optional() }))
    .mutation(({ ctx, input }) => {
      const { runs, runner } = ctx.services;
      const id = runIdOf(input.config);
      const existing = runs.get(id);
      if (existing) {
        if (existing.status === "failed" || existing.status === "cancelled") {
          runner.requeue(id);
          runner.schedule();
          return { id, created: false, resumed: true };
        }
        return { id, created: false, resumed: false };
      }
      runs.insert({ id, label: input.label || methodLabel(input.config), config: input.config });
      runner.requeue(id); // records the 'queued' status event
      runner.schedule();
      return { id, created: true, resumed: false };
    }),

  list: publicProcedure.input(z.object({ limit: z.number().int().min(1).max(10_000).optional() }).optional())
    .query(({ ctx, input }) => ctx.services.runs.list({ limit: input?.limit })),

  get: publicProcedure.input(z.object({ id: RunId })).query(({ ctx, input }) => {
    const run = ctx.services.runs.get(input.id);
    if (!run) throw new TRPCError({ code: "NOT_FOUND", message: `no run ${input.id}` });
    return run;
  }),

  cancel: publicProcedure.input(z.object({ id: RunId })).mutation(async ({ ctx, input }) => {
    const run = ctx.services.runs.get(input.id);
    if (!run) throw new TRPCError({ code: "NOT_FOUND", message: `no run ${input.id}` });
    if (TERMINAL_STATUSES.includes(run.status)) {
      throw new TRPCError({ code: "CONFLICT", message: `run ${input.id} has already ${run.status === "finished" ? "finished" : "ended"}` });
    }
    await ctx.services.runner.cancel(input.id);
    return ctx.services.runs.get(input.id)!;
  }),

  /**
   * Every event of a run, then live ones, each tracked by its stored id: a client that
   * reconnects sends the last id it saw and continues from there, without gaps. Ends
   * after the run's terminal status.
   */
  events: publicProcedure
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
        for await (const stored of live) {
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
