/** Table I of a comparison: one row per series, from its aggregated rounds (./series). */
import type { Series, SeriesPoint, Stat } from "./series";

export interface TableRow {
  label: string;
  color: string;
  seeds: number;
  best: SeriesPoint;
  dense: SeriesPoint | null;
  /** best minus dense, in the metric's own unit (fractions; seconds). */
  change: { standard: number | null; adversarial: number | null; verified: number | null; seconds: number | null };
}

const diff = (a: Stat | null | undefined, b: Stat | null | undefined) => (a && b ? a.mean - b.mean : null);

/** The paper's Table I: the best round of each series, with its change against round 0. */
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
