/**
 * auth: who is signed in, signing in and out, and the first-run setup that creates the
 * first researcher account (only while there is none; later accounts come from an admin:
 * `certprune user add NAME`).
 */
import { TRPCError } from "@trpc/server";
import { z } from "zod";
import { AnyPassword, isSetupDone, NewPassword, SetupDoneError, UserName, type User } from "../auth/accounts";
import { clearedSessionCookie, sessionCookie } from "../auth/cookie";
import { publicProcedure, router, type Context } from "../trpc";

const publicUser = (user: User) => ({ name: user.name });

function startSession(ctx: Context, user: User) {
  const { token } = ctx.services.accounts.createSession(user.id);
  ctx.resHeaders.append("Set-Cookie", sessionCookie(token, ctx.secure));
  return { user: publicUser(user) };
}

export const authRouter = router({
  /** The signed-in researcher (null for a visitor), and whether the first account is still to be made. */
  me: publicProcedure.input(z.object({}).strict().optional()).query(({ ctx }) => ({
    user: ctx.user ? publicUser(ctx.user) : null,
    needsSetup: ctx.services.accounts.count() === 0,
  })),

  signIn: publicProcedure
    .input(z.object({ name: z.string().trim().min(1, "Enter your name").max(64), password: AnyPassword }).strict())
    .mutation(async ({ ctx, input }) => {
      // Counted before the password is checked, so guesses sent at once cannot all slip past the limit.
      const attempt = ctx.services.accounts.signIns.reserve(input.name);
      if (!("failed" in attempt)) {
        const minutes = Math.ceil(attempt.waitMs / 60_000);
        throw new TRPCError({
          code: "TOO_MANY_REQUESTS",
          message: `too many failed sign-ins for this name: try again in ${minutes} minute${minutes === 1 ? "" : "s"}`,
        });
      }
      let user: User | null;
      try {
        user = await ctx.services.accounts.authenticate(input.name, input.password);
      } catch (error) {
        attempt.release();
        throw error;
      }
      if (!user) {
        attempt.failed();
        throw new TRPCError({ code: "UNAUTHORIZED", message: "wrong name or password" });
      }
      attempt.succeeded();
      return startSession(ctx, user);
    }),

  signOut: publicProcedure.input(z.object({}).strict().optional()).mutation(({ ctx }) => {
    if (ctx.sessionToken) ctx.services.accounts.endSession(ctx.sessionToken);
    ctx.resHeaders.append("Set-Cookie", clearedSessionCookie(ctx.secure));
    return { user: null };
  }),

  /** Creates the first researcher account and signs it in; refused once any account exists. */
  setup: publicProcedure
    .input(z.object({ name: UserName, password: NewPassword }).strict())
    .mutation(async ({ ctx, input }) => {
      const setupDone = () => new TRPCError({ code: "FORBIDDEN", message: new SetupDoneError().message });
      // Refused before any password is hashed; the insert checks again (two setups at once make one account).
      if (ctx.services.accounts.count() > 0) throw setupDone();
      try {
        const user = await ctx.services.accounts.add(input.name, input.password, { onlyIfNone: true });
        return startSession(ctx, user);
      } catch (error) {
        if (isSetupDone(error)) throw setupDone();
        throw error;
      }
    }),
});
