"use client";
/** A round selector that follows the newest round until the researcher picks one. */
import { useId, useState } from "react";
import styles from "./run.module.css";

export type RoundChoice = number | "all";

/** The chosen round, or the newest of `rounds` while nothing (still present) is chosen. */
export function useRoundChoice(rounds: readonly number[], initial: RoundChoice | null = null) {
  const [chosen, setChosen] = useState<RoundChoice | null>(initial);
  const value: RoundChoice | null =
    chosen === "all" ? "all" : chosen != null && rounds.includes(chosen) ? chosen : rounds.at(-1) ?? null;
  return [value, setChosen] as const;
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
