/**
 * queue: what runs now, what waits and when it should start (server/jobs/queueView.ts),
 * and, for the launch form, how long a new run would wait and the machine's calibration.
 * Read-only, for signed-in researchers (like every read of runs).
 */
import { z } from "zod";
import { queueView, waitForNewRun } from "../jobs/queueView";
import { researcherProcedure, router } from "../trpc";

const Priority = z.number().int().min(-100, "Priority is at least -100").max(100, "Priority is at most 100");

export const queueRouter = router({
  view: researcherProcedure.input(z.object({}).strict().optional()).query(({ ctx }) => queueView(ctx.services)),

  /** A run launched now: runs ahead of it, seconds until it starts, and this machine's calibration. */
  forLaunch: researcherProcedure
    .input(z.object({ priority: Priority.optional() }).strict().optional())
    .query(({ ctx, input }) => {
      const view = queueView(ctx.services);
      return { ...waitForNewRun(view, input?.priority ?? 0), slots: view.slots, calibration: view.calibration };
    }),
});
