"use client";
/**
 * The verification samples of a round, one cell per sample coloured by outcome, with
 * each one's time. Keyboard: Tab into the grid, arrows / Home / End move between cells;
 * the focused or hovered cell's details are read out below the grid: its final status,
 * what decided it, and, labelled, the root margin bound and the bound at which branch and
 * bound closed (the root bound of a sample BaB verifies is negative: no contradiction).
 */
import { useRef, useState, type KeyboardEvent } from "react";
import { intervalText } from "@/lib/accuracy";
import { pct } from "@/lib/format";
import { wilson } from "@/lib/stats";
import type { RunConfig, SampleStatus } from "@/lib/protocol";
import type { RunView, SampleResult } from "@/lib/run/fold";
import { sampleCounts, sampleGrid, type SampleCell } from "@/lib/run/selectors";
import { COLORS } from "./palette";
import { RoundSelect, useRoundChoice, type RoundControl } from "./RoundSelect";
import styles from "./run.module.css";

const STATUSES: (SampleStatus | "pending")[] = ["verified", "falsified", "unknown", "misclassified", "pending"];
const GLYPH: Record<SampleStatus, string> = { verified: "✓", falsified: "✗", unknown: "?", misclassified: "–" };
const MEANING: Record<SampleStatus | "pending", string> = {
  verified: "proven robust in the whole ε-ball",
  falsified: "an adversarial example was found",
  unknown: "neither proven nor falsified before the timeout",
  misclassified: "wrong on the clean image already",
  pending: "not verified yet",
};

function describe(cell: SampleCell, round: number): string {
  const r = cell.result;
  if (!r) return `Sample ${cell.index}, round ${round}: not verified yet`;
  return `Sample ${r.index}, round ${round}: ${r.status} by ${r.decidedBy} in ${r.seconds.toFixed(2)} s (label ${r.label}, predicted ${r.predicted}${bounds(r)})`;
}

const signed = (x: number) => (x > 0 ? `+${x.toPrecision(3)}` : x.toPrecision(3));

/**
 * The margin bounds, each labelled: the root bound (before any branching: negative even
 * for a sample branch and bound then verifies) and the bound at which branch and bound closed.
 */
function bounds(r: SampleResult): string {
  const parts: string[] = [];
  if (r.marginLower != null) parts.push(`root bound (before branching) ${signed(r.marginLower)}`);
  if (r.finalMarginLower != null) parts.push(`bound when branch and bound closed ${signed(r.finalMarginLower)}`);
  else if (r.decidedBy === "bab" && r.finalMarginLower === undefined) parts.push("closing bound: not recorded");
  if (r.domains > 1) parts.push(`${r.domains} branch-and-bound domains`);
  return parts.length ? `; ${parts.join(", ")}` : "";
}

export function SampleGrid({ view, config, ratios, round: control }: {
  view: RunView;
  config: RunConfig;
  ratios?: ReadonlyMap<number, number>;
  /** The page's round (the run page's ?round=); absent: the grid chooses its own. */
  round?: RoundControl;
}) {
  const verifying = config.verification.mode !== "none" && config.verification.samples > 0;
  const rounds = [...new Set([...view.samples.map((s) => s.round), ...view.roundResults.filter((r) => r.samples > 0).map((r) => r.round)])].sort((a, b) => a - b);
  const [round, setRound] = useRoundChoice(rounds, null, control);
  const [focused, setFocused] = useState(0);
  const [hovered, setHovered] = useState<number | null>(null);
  const grid = useRef<HTMLDivElement>(null);

  if (!verifying) return <div className="empty">Verification is off for this run.</div>;
  if (round == null || round === "all") return <div className="empty">Waiting for the first verified sample of round 0…</div>;
  const cells = sampleGrid(view, config, round);
  const counts = sampleCounts(cells);
  const finished = view.roundResults.find((r) => r.round === round);
  const times = cells.flatMap((c) => (c.result ? [c.result.seconds] : []));
  const meanTime = times.length ? times.reduce((a, b) => a + b, 0) / times.length : null;
  const active = Math.min(focused, Math.max(0, cells.length - 1));
  const shown = hovered ?? active;

  const move = (event: KeyboardEvent<HTMLDivElement>) => {
    const buttons = grid.current ? [...grid.current.querySelectorAll<HTMLButtonElement>("button")] : [];
    if (buttons.length === 0) return;
    const columns = Math.max(1, buttons.filter((b) => b.offsetTop === buttons[0].offsetTop).length);
    const step: Record<string, number> = { ArrowRight: 1, ArrowLeft: -1, ArrowDown: columns, ArrowUp: -columns };
    let next = active;
    if (event.key in step) next = active + step[event.key];
    else if (event.key === "Home") next = 0;
    else if (event.key === "End") next = buttons.length - 1;
    else return;
    event.preventDefault();
    next = Math.max(0, Math.min(buttons.length - 1, next));
    setFocused(next);
    buttons[next].focus();
  };

  return (
    <div data-testid="sample-grid-section" data-round={round}>
      <div className={styles.sectionControls}>
        <RoundSelect label="Round" rounds={rounds} value={round} onChange={setRound} ratios={ratios} testId="samples-round" />
        <span className="muted">
          {counts.pending ? `${cells.length - counts.pending} of ${cells.length} verified so far` : `${cells.length} samples`}
          {meanTime != null ? ` · mean ${meanTime.toFixed(2)} s per sample` : ""}
          {finished?.verifiedAccuracy != null ? ` · verified accuracy ${pct(finished.verifiedAccuracy)} ${intervalText(wilson(finished.verified, finished.samples))} (95% Wilson)` : ""}
        </span>
      </div>
      <ul className={styles.sampleLegend} aria-label="Sample outcomes">
        {STATUSES.filter((s) => s !== "pending" || counts.pending > 0).map((s) => (
          <li key={s} title={MEANING[s]}>
            <span className={styles.swatchCell} style={{ background: COLORS[s] }} aria-hidden>{s === "pending" ? "" : GLYPH[s]}</span>
            {s} <strong data-testid={`sample-count-${s}`}>{counts[s]}</strong>
          </li>
        ))}
      </ul>
      <div
        ref={grid}
        className={styles.sampleGrid}
        role="group"
        aria-label={`Verification samples of round ${round}; arrow keys move between samples`}
        data-testid="sample-grid"
        data-cells={cells.length}
        onKeyDown={move}
        onMouseLeave={() => setHovered(null)}
      >
        {cells.map((cell, i) => {
          const status = cell.result?.status ?? "pending";
          const text = describe(cell, round);
          return (
            <button
              key={cell.index}
              type="button"
              className={styles.sampleCell}
              style={{ background: COLORS[status], color: status === "pending" ? "#5f6b7a" : "#fff" }}
              data-status={status}
              data-index={cell.index}
              data-seconds={cell.result?.seconds}
              title={text}
              aria-label={text}
              tabIndex={i === active ? 0 : -1}
              onFocus={() => setFocused(i)}
              onMouseEnter={() => setHovered(i)}
            >
              {status === "pending" ? "" : GLYPH[status]}
            </button>
          );
        })}
      </div>
      <p className={styles.sampleDetail} data-testid="sample-detail">
        {cells[shown] ? describe(cells[shown], round) : ""}
      </p>
    </div>
  );
}
