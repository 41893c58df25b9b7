/** Table I of a comparison: one row per series, from its aggregated rounds (./series). */
import type { SeedBest, Series, SeriesPoint, Stat } from "./series";

export interface TableRow {
  label: string;
  color: string;
  seeds: number;
  best: SeriesPoint;
  /** The engine's best round of each run (empty: none decided yet; `best` is then the last finished round). */
  bestRounds: SeedBest[];
  /** Runs disagree on their best round: `best` aggregates each run at its own. */
  bestMixed: boolean;
  /** Rounds within noise of the best, as the engine said, for every run (null: not recorded). */
  indistinguishable: number[] | null;
  dense: SeriesPoint | null;
  /** best minus dense, in the metric's own unit (fractions; seconds). */
  change: { standard: number | null; adversarial: number | null; verified: number | null; seconds: number | null };
}

const diff = (a: Stat | null | undefined, b: Stat | null | undefined) => (a && b ? a.mean - b.mean : null);

/** Rounds every run's engine called indistinguishable from its best (null when any run did not say). */
function within(bests: SeedBest[]): number[] | null {
  if (bests.length === 0 || bests.some((b) => b.indistinguishable == null)) return null;
  const [first, ...rest] = bests.map((b) => b.indistinguishable!);
  return first.filter((k) => rest.every((r) => r.includes(k))).sort((a, b) => a - b);
}

/** The paper's Table I: the best round of each series (the engine's), with its change against round 0. */
export function tableRows(series: Series[]): TableRow[] {
  return series
    .filter((s) => s.best || s.points.some((p) => p.n > 0))
    .map((s) => {
      const best = s.best ?? s.points.filter((p) => p.n > 0).at(-1)!;
      return {
        label: s.label,
        color: s.color,
        seeds: s.seeds.length,
        best,
        bestRounds: s.best ? s.bestRounds : [],
        bestMixed: s.bestMixed,
        indistinguishable: s.best ? within(s.bestRounds) : null,
        dense: s.dense,
        change: {
          standard: diff(best.standardAccuracy, s.dense?.standardAccuracy),
          adversarial: diff(best.adversarialAccuracy, s.dense?.adversarialAccuracy),
          verified: diff(best.verifiedAccuracy, s.dense?.verifiedAccuracy),
          seconds: diff(best.meanVerifySeconds, s.dense?.meanVerifySeconds),
        },
      };
    });
}
