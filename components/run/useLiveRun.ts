"use client";
/**
 * A run by id, live: its record (tRPC query) and its event stream (SSE subscription,
 * resumed after reconnects from the last tracked id) folded into a RunView. Events
 * are folded in batches (one render per 50 ms at most, not one per event), so a
 * reload that replays a long run's thousands of events stays quick.
 */
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import type { inferRouterOutputs } from "@trpc/server";
import { useSubscription } from "@trpc/tanstack-react-query";
import { useCallback, useEffect, useRef, useState } from "react";
import type { RunEvent } from "@/lib/protocol";
import { emptyRunView, foldRunEvents, type RunView, type StoredRunEvent } from "@/lib/runView";
import { useTRPC } from "@/lib/trpc/react";
import type { AppRouter } from "@/server/routers/_app";
import type { Connection } from "./RunDashboard";

export type StoredRun = inferRouterOutputs<AppRouter>["runs"]["get"];

export function useLiveRun(id: string, initialRun?: StoredRun) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const run = useQuery(trpc.runs.get.queryOptions({ id }, { initialData: initialRun }));
  const { view, push } = useRunEventFold();
  const subscription = useSubscription(
    trpc.runs.events.subscriptionOptions(
      { id },
      {
        enabled: run.isSuccess,
        onData: (tracked: { id: string; data: RunEvent }) => push(Number(tracked.id), tracked.data),
      },
    ),
  );

  const cancel = useMutation(
    trpc.runs.cancel.mutationOptions({
      onSuccess: () => queryClient.invalidateQueries({ queryKey: trpc.runs.get.queryKey({ id }) }),
    }),
  );

  const status = view.status ?? run.data?.status ?? null;
  const ended = status === "finished" || status === "failed" || status === "cancelled";
  const connection: Connection =
    subscription.status === "error"
      ? { state: "error", message: subscription.error?.message ?? "the event stream failed" }
      : ended ? { state: "ended" }
      : subscription.status === "pending" ? { state: "live" }
      : subscription.status === "connecting" && view.lastEventId > 0 ? { state: "reconnecting" }
      : { state: "connecting" };

  return {
    run,
    view,
    connection,
    cancel: {
      onCancel: () => cancel.mutate({ id }),
      pending: cancel.isPending,
      error: cancel.error?.message ?? null,
    },
  };
}

/**
 * Folds stored events into a RunView in batches: `push` queues one event (from any
 * source: the live subscription by id, a share token's stream, a fetched list), and
 * the view re-renders at most every 50 ms.
 */
export function useRunEventFold(initial: RunView = emptyRunView) {
  const [view, setView] = useState<RunView>(initial);
  const pending = useRef<StoredRunEvent[]>([]);
  const timer = useRef<ReturnType<typeof setTimeout> | null>(null);
  const flush = useCallback(() => {
    timer.current = null;
    const batch = pending.current;
    pending.current = [];
    if (batch.length) setView((v) => foldRunEvents(v, batch));
  }, []);
  useEffect(() => () => {
    if (timer.current != null) clearTimeout(timer.current);
  }, []);
  const push = useCallback((id: number, event: RunEvent) => {
    pending.current.push({ id, event });
    timer.current ??= setTimeout(flush, 50);
  }, [flush]);
  return { view, push };
}
