/**
 * auth: who is signed in, signing in and out, and the first-run setup that creates the
 * first researcher account (only while there is none; later accounts come from an admin:
 * `certprune user add NAME`).
 */
import { TRPCError } from "@trpc/server";
import { z } from "zod";
import { AnyPassword, NewPassword, SetupDoneError, UserName, type User } from "../auth/accounts";
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
      const { signIns } = ctx.services.accounts;
      const wait = signIns.waitMs(input.name);
      if (wait > 0) {
        const minutes = Math.ceil(wait / 60_000);
        throw new TRPCError({
          code: "TOO_MANY_REQUESTS",
          message: `too many failed sign-ins for this name: try again in ${minutes} minute${minutes === 1 ? "" : "s"}`,
        });
      }
      const user = await ctx.services.accounts.authenticate(input.name, input.password);
      if (!user) {
        signIns.failed(input.name);
        throw new TRPCError({ code: "UNAUTHORIZED", message: "wrong name or password" });
      }
      signIns.succeeded(input.name);
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
      try {
        const user = await ctx.services.accounts.add(input.name, input.password, { onlyIfNone: true });
        return startSession(ctx, user);
      } catch (error) {
        if (error instanceof SetupDoneError) throw new TRPCError({ code: "FORBIDDEN", message: error.message });
        throw error;
      }
    }),
});
