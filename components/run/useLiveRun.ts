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
import type { RunEvent } from "@/lib/protocol";
import { useTRPC } from "@/lib/trpc/react";
import type { AppRouter } from "@/server/routers/_app";
import { useState } from "react";
import type { Connection } from "./RunDashboard";
import { useRunEventFold } from "./useRunEventFold";

export { useRunEventFold };

export type StoredRun = inferRouterOutputs<AppRouter>["runs"]["get"];

export function useLiveRun(id: string, initialRun?: StoredRun) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const run = useQuery(trpc.runs.get.queryOptions({ id }, { initialData: initialRun }));
  const { view, push } = useRunEventFold();
  // A retried run streams again: a new subscription from the last event seen.
  const [resumeFrom, setResumeFrom] = useState<string | null>(null);
  const subscription = useSubscription(
    trpc.runs.events.subscriptionOptions(
      { id, lastEventId: resumeFrom },
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

  const onRetried = () => {
    void queryClient.invalidateQueries({ queryKey: trpc.runs.get.queryKey({ id }) });
    setResumeFrom(String(view.lastEventId));
  };

  return {
    run,
    view,
    connection,
    onRetried,
    cancel: {
      onCancel: () => cancel.mutate({ id }),
      pending: cancel.isPending,
      error: cancel.error?.message ?? null,
    },
  };
}
