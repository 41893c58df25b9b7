/**
 * shares: read-only links to a run or a comparison. Creating, listing and revoking need a
 * signed-in researcher; opening a link needs only its token, and reads nothing but the
 * runs the link names. Unknown, malformed and revoked tokens are all refused.
 */
import { TRPCError, tracked } from "@trpc/server";
import { z } from "zod";
import { TERMINAL_STATUSES } from "@/lib/protocol";
import { DEFAULT_COMPARE_STATE, DEFAULT_RUN_STATE } from "@/lib/viewState";
import { CompareViewState, RunViewState } from "@/lib/viewStateSchema";
import { ownsRun } from "../auth/ownership";
import type { Services } from "../services";
import type { Share } from "../store/shares";
import { publicProcedure, researcherProcedure, router } from "../trpc";
import { compareRuns, RunId, RunIds } from "./results";

/** Any string up to a sane length: a malformed token is refused like an unknown one, not as bad input. */
const Token = z.string().max(200);
const Title = z.string().trim().min(1).max(200).optional();

const CreateShare = z.discriminatedUnion("kind", [
  z.object({ kind: z.literal("run"), runId: RunId, state: RunViewState.prefault({}), title: Title }).strict(),
  z.object({ kind: z.literal("comparison"), runIds: RunIds, state: CompareViewState.prefault({}), title: Title }).strict(),
]);

/** What a share's owner sees in their list (never the token: only its hash is kept). */
const listed = (share: Share) => ({
  id: share.id,
  kind: share.kind,
  title: share.title,
  runIds: share.runIds,
  createdAt: share.createdAt,
  revokedAt: share.revokedAt,
  views: share.views,
  lastViewedAt: share.lastViewedAt,
});

/** The share a token opens, or the refusal a visitor sees. */
function openShare(services: Services, token: string): Share {
  const share = services.shares.byToken(token);
  if (!share) throw new TRPCError({ code: "NOT_FOUND", message: "this share link is not valid: check that it was copied whole" });
  if (share.revokedAt !== null) throw new TRPCError({ code: "FORBIDDEN", message: "this share link was revoked by the researcher who made it" });
  return share;
}

export const sharesRouter = router({
  /** Creates a link; the token in the answer is shown once and cannot be recovered later. */
  create: researcherProcedure.input(CreateShare).mutation(({ ctx, input }) => {
    const runIds = input.kind === "run" ? [input.runId] : [...new Set(input.runIds)];
    const runs = runIds.map((id) => ctx.services.runs.get(id));
    const missing = runIds.filter((_, i) => !runs[i]);
    if (missing.length) throw new TRPCError({ code: "NOT_FOUND", message: `no run ${missing.join(", ")}: nothing to share` });
    // Only a run's owner decides who outside sees it: a link to someone else's run (or a
    // comparison holding one) would be a link its owner can neither see nor revoke.
    const others = runs.filter((run) => !ownsRun(ctx.user, run!));
    if (others.length) {
      const list = others.map((r) => `${r!.id} (launched by ${r!.owner})`).join(", ");
      throw new TRPCError({ code: "FORBIDDEN", message: `only a run's owner can share it: ${list}; ask them for a link, or share only your own runs` });
    }
    const labels = [...new Set(runs.map((r) => r!.label))];
    const title =
      input.title ??
      (input.kind === "run" ? runs[0]!.label : `${labels.slice(0, 4).join(" vs ")}${labels.length > 4 ? ` and ${labels.length - 4} more` : ""}`);
    const { share, token } = ctx.services.shares.create({ kind: input.kind, runIds, state: input.state, title, ownerId: ctx.user.id });
    return { share: listed(share), token, path: `/share/${token}` };
  }),

  /** The signed-in researcher's links, newest first, revoked ones included. */
  list: researcherProcedure.input(z.object({}).strict().optional()).query(({ ctx }) => ctx.services.shares.ofOwner(ctx.user.id).map(listed)),

  revoke: researcherProcedure.input(z.object({ id: z.string().regex(/^shr_[0-9a-f]{16}$/, "not a share id") }).strict()).mutation(({ ctx, input }) => {
    const store = ctx.services.shares;
    const share = store.get(input.id);
    if (!share) throw new TRPCError({ code: "NOT_FOUND", message: `no share link ${input.id}` });
    if (share.ownerId !== ctx.user.id) throw new TRPCError({ code: "FORBIDDEN", message: "only the researcher who made a link can revoke it" });
    store.revoke(share.id);
    return listed(store.get(share.id)!);
  }),

  /** What a link shows: its state, and the results of the runs it names (and nothing else). */
  view: publicProcedure.input(z.object({ token: Token }).strict()).query(({ ctx, input }) => {
    const share = openShare(ctx.services, input.token);
    ctx.services.shares.recordView(share.id);
    // The stored state was validated when the link was made; parse it again (defaults for
    // anything malformed) so that the browser gets it typed and needs no schema library.
    const meta = { title: share.title, createdAt: share.createdAt };
    if (share.kind === "comparison") {
      const parsed = CompareViewState.safeParse(share.state);
      const state = parsed.success ? parsed.data : DEFAULT_COMPARE_STATE;
      return { ...meta, kind: "comparison" as const, state, comparison: compareRuns(ctx.services, share.runIds), run: null };
    }
    const run = ctx.services.runs.get(share.runIds[0]);
    if (!run) throw new TRPCError({ code: "NOT_FOUND", message: "the run this link shows has been deleted" });
    const { owner: _owner, ownerId: _ownerId, worker: _worker, ...visible } = run;
    const parsed = RunViewState.safeParse(share.state);
    const state = parsed.success ? parsed.data : DEFAULT_RUN_STATE;
    return { ...meta, kind: "run" as const, state, comparison: null, run: visible };
  }),

  /**
   * Whether a link still opens, without counting a view: an open shared page asks every
   * half minute and turns into the refusal once the link is revoked.
   */
  status: publicProcedure.input(z.object({ token: Token }).strict()).query(({ ctx, input }) => {
    openShare(ctx.services, input.token);
    return { open: true as const };
  }),

  /**
   * A shared run's events, like runs.events (replay after lastEventId, then live), for the
   * one run the token names. Revoking the link ends an open stream at its next event.
   */
  runEvents: publicProcedure
    .input(z.object({ token: Token, lastEventId: z.string().regex(/^\d+$/).nullish() }).strict())
    .subscription(async function* ({ ctx, input, signal }) {
      const share = openShare(ctx.services, input.token);
      if (share.kind !== "run") throw new TRPCError({ code: "BAD_REQUEST", message: "this link shows a comparison, not a run" });
      const runId = share.runIds[0];
      const { runs, bus } = ctx.services;
      if (!runs.get(runId)) throw new TRPCError({ code: "NOT_FOUND", message: "the run this link shows has been deleted" });
      const live = bus.subscribe(runId, signal);
      const isEnd = (e: { type: string; status?: string }) => e.type === "status" && TERMINAL_STATUSES.includes(e.status as never);
      try {
        let lastId = Number(input.lastEventId ?? 0);
        let ended = false;
        for (const stored of runs.eventsAfter(runId, lastId)) {
          lastId = stored.id;
          yield tracked(String(stored.id), stored.event);
          ended = isEnd(stored.event as { type: string; status?: string });
        }
        const current = runs.get(runId);
        if (ended && current && TERMINAL_STATUSES.includes(current.status)) return;
        for await (const stored of live) {
          if (stored.id <= lastId) continue;
          if (ctx.services.shares.get(share.id)?.revokedAt !== null) return;
          lastId = stored.id;
          yield tracked(String(stored.id), stored.event);
          if (isEnd(stored.event as { type: string; status?: string })) return;
        }
      } finally {
        live.close();
      }
    }),
});
