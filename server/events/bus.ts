/**
 * In-process publish/subscribe of stored events, per run. Subscribers get an async
 * iterator that buffers what arrives while the consumer is busy, so nothing published
 * after subscribe() is lost.
 */
import type { RunEvent } from "@/lib/protocol";
import type { StoredEvent } from "../store/runs";

type Listener = (event: StoredEvent) => void;

export interface Subscription extends AsyncIterable<StoredEvent> {
  close(): void;
}

export class EventBus {
  private readonly listeners = new Map<string, Set<Listener>>();
  /** The latest progress event of each running run: kept here only, never stored (one per run). */
  private readonly progress = new Map<string, StoredEvent>();

  /**
   * A progress event: published to subscribers (with id 0: it is not in the store) and
   * kept as the run's latest, replacing the one before.
   */
  publishProgress(runId: string, event: Extract<RunEvent, { type: "progress" }>): void {
    const transient = { id: 0, runId, event };
    this.progress.set(runId, transient);
    this.publish(transient);
  }

  /** The run's latest progress event while it runs, else null. */
  latestProgress(runId: string): StoredEvent | null {
    return this.progress.get(runId) ?? null;
  }

  /** Forgets a run's progress (it ended, was queued again, or was deleted). */
  clearProgress(runId: string): void {
    this.progress.delete(runId);
  }

  publish(event: StoredEvent): void {
    for (const listener of this.listeners.get(event.runId) ?? []) listener(event);
  }

  listenerCount(runId: string): number {
    return this.listeners.get(runId)?.size ?? 0;
  }

  subscribe(runId: string, signal?: AbortSignal): Subscription {
    const buffer: StoredEvent[] = [];
    let wake: (() => void) | null = null;
    let closed = false;
    const listener: Listener = (event) => {
      buffer.push(event);
      wake?.();
    };
    const set = this.listeners.get(runId) ?? new Set();
    set.add(listener);
    this.listeners.set(runId, set);
    const close = () => {
      if (closed) return;
      closed = true;
      set.delete(listener);
      if (set.size === 0) this.listeners.delete(runId);
      wake?.();
    };
    signal?.addEventListener("abort", close, { once: true });
    return {
      close,
      async *[Symbol.asyncIterator]() {
        while (!closed || buffer.length) {
          if (buffer.length) {
            yield buffer.shift()!;
            continue;
          }
          await new Promise<void>((resolve) => (wake = resolve));
          wake = null;
        }
      },
    };
  }
}
