/**
 * All tRPC setup in one place: context, initTRPC, the error formatter and the
 * procedure builders. Routers import only the builders from here.
 */
import { initTRPC } from "@trpc/server";
import { ZodError } from "zod";
import { fieldErrors } from "@/lib/protocol/fieldErrors";
import type { Services } from "./services";

export interface Context {
  services: Services;
}

const t = initTRPC.context<Context>().create({
  errorFormatter({ shape, error }) {
    const cause = error.cause;
    return {
      ...shape,
      data: {
        ...shape.data,
        // Field-level messages, e.g. { "training.epochs": ["Too small: expected number to be >=1"] }
        fieldErrors: cause instanceof ZodError ? fieldErrors(cause) : null,
      },
    };
  },
});

export const router = t.router;
export const publicProcedure = t.procedure;
export const createCallerFactory = t.createCallerFactory;
