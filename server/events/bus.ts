/**
 * In-process publish/subscribe of stored events, per run. Subscribers get an async
 * iterator that buffers what arrives while the consumer is busy, so nothing published
 * after subscribe() is lost.
 */
import type { StoredEvent } from "../store/runs";

type Listener = (event: StoredEvent) => void;

export interface Subscription extends AsyncIterable<StoredEvent> {
  close(): void;
}

export class EventBus {
  private readonly listeners = new Map<string, Set<Listener>>();

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
