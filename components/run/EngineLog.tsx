"use client";
/**
 * The engine's messages, newest at the bottom, each with its round and phase (a line per
 * phase per round); follows new lines unless scrolled up. Old runs' lines have neither.
 */
import { useEffect, useRef } from "react";
import type { RunView } from "@/lib/run/fold";

export function EngineLog({ logs }: { logs: RunView["logs"] }) {
  const box = useRef<HTMLDivElement>(null);
  const follow = useRef(true);
  useEffect(() => {
    const el = box.current;
    if (el && follow.current) el.scrollTop = el.scrollHeight;
  }, [logs]);
  return (
    <div
      ref={box}
      className="log"
      data-testid="engine-log"
      tabIndex={0}
      role="log"
      aria-label="Engine log"
      onScroll={(e) => {
        const el = e.currentTarget;
        follow.current = el.scrollTop + el.clientHeight >= el.scrollHeight - 8;
      }}
    >
      {logs.length === 0 ? <span className="muted">No messages yet.</span> : logs.map((l, i) => (
        <div key={i} className={l.level} data-round={l.round ?? undefined} data-phase={l.phase ?? undefined}>
          {l.time.slice(11, 19)} {l.level.padEnd(7)} {l.round != null ? `r${l.round} ` : ""}{l.phase ? `${l.phase.padEnd(9)} ` : ""}{l.message}
        </div>
      ))}
    </div>
  );
}
