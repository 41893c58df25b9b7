/**
 * All tRPC setup in one place: context, initTRPC, the error formatter and the
 * procedure builders. Routers import only the builders from here.
 */
import { initTRPC, TRPCError } from "@trpc/server";
import { ZodError } from "zod";
import { fieldErrors } from "@/lib/protocol/fieldErrors";
import type { User } from "./auth/accounts";
import { isSecureRequest, sessionTokenFrom } from "./auth/cookie";
import type { Services } from "./services";

export interface Context {
  services: Services;
  /** The signed-in researcher, or null for an anonymous visitor. */
  user: User | null;
  /** The session id the request carried (signing out ends it). */
  sessionToken: string | null;
  /** Response headers: signing in and out set the session cookie here. */
  resHeaders: Headers;
  /** The request came over HTTPS: cookies get the Secure flag. */
  secure: boolean;
}

/** The context of one HTTP request: who is signed in, from the session cookie. */
export function createContext(opts: { req: Request; resHeaders: Headers }, services: Services): Context {
  const sessionToken = sessionTokenFrom(opts.req.headers);
  return {
    services,
    user: services.accounts.userForSession(sessionToken),
    sessionToken,
    resHeaders: opts.resHeaders,
    secure: isSecureRequest(opts.req),
  };
}

/** A context without a request, for in-process callers (tests, scripts): acting as `user`. */
export function contextFor(services: Services, user: User | null = null): Context {
  return { services, user, sessionToken: null, resHeaders: new Headers(), secure: false };
}

const t = initTRPC.context<Context>().create({
  // Subscriptions to queued runs can be quiet for long: pings keep proxies and HTTP
  // clients from closing them as idle, and a client that hears nothing for 45 s
  // reconnects (resuming after its last event id).
  sse: { ping: { enabled: true, intervalMs: 15_000 }, client: { reconnectAfterInactivityMs: 45_000 } },
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

/** A procedure only a signed-in researcher may call; `ctx.user` is then never null. */
export const researcherProcedure = t.procedure.use(({ ctx, next }) => {
  if (!ctx.user) {
    throw new TRPCError({ code: "UNAUTHORIZED", message: "sign in first: this needs a researcher account" });
  }
  return next({ ctx: { ...ctx, user: ctx.user } });
});
