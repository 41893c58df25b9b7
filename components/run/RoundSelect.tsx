"use client";
/** A round selector that follows the newest round until the researcher picks one. */
import { useId, useState } from "react";
import styles from "./run.module.css";

export type RoundChoice = number | "all";

/** A round chosen for the whole page (the run page's ?round=), shared by its selectors. */
export interface RoundControl {
  value: RoundChoice | null;
  onChange: (round: RoundChoice) => void;
}

/**
 * The chosen round, or the newest of `rounds` while nothing (still present) is chosen.
 * With `control`, the choice is the page's (every selector bound to it moves together).
 */
export function useRoundChoice(rounds: readonly number[], initial: RoundChoice | null = null, control?: RoundControl) {
  const [own, setOwn] = useState<RoundChoice | null>(initial);
  const chosen = control ? control.value : own;
  const value: RoundChoice | null =
    chosen === "all" ? "all" : chosen != null && rounds.includes(chosen) ? chosen : rounds.at(-1) ?? null;
  return [value, control ? control.onChange : setOwn] as const;
}

export function RoundSelect(props: {
  label: string;
  rounds: readonly number[];
  value: RoundChoice | null;
  onChange: (round: RoundChoice) => void;
  /** Remaining ratio of each round, shown next to its number when known. */
  ratios?: ReadonlyMap<number, number>;
  allowAll?: boolean;
  testId?: string;
}) {
  const { label, rounds, value, onChange, ratios, allowAll, testId } = props;
  const id = useId();
  if (rounds.length === 0) return null;
  return (
    <span className={styles.select}>
      <label htmlFor={id}>{label}</label>
      <select
        id={id}
        data-testid={testId}
        value={value == null ? "" : String(value)}
        onChange={(e) => onChange(e.target.value === "all" ? "all" : Number(e.target.value))}
      >
        {allowAll && <option value="all">all rounds</option>}
        {rounds.map((r) => (
          <option key={r} value={r}>
            {`round ${r}${r === 0 ? " (dense)" : ""}${ratios?.has(r) ? ` · ${(ratios.get(r)! * 100).toPrecision(3)}% left` : ""}`}
          </option>
        ))}
      </select>
    </span>
  );
}
