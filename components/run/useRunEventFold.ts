"use client";
import { useCallback, useEffect, useRef, useState } from "react";
import type { RunEvent } from "@/lib/protocol";
import { emptyRunView, foldRunEvents, type RunView, type StoredRunEvent } from "@/lib/run/fold";

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
