/** A comparison as records for the CSV exports: per-round results of every series, and Table I. */
import type { Series } from "./series";
import type { TableRow } from "./tableOne";

const num = (x: number | null | undefined, digits = 4) => (x == null || !Number.isFinite(x) ? "" : String(Number(x.toFixed(digits))));

/** Per-round results of every series, one row per (series, round): what the charts draw. */
export function roundsRecords(series: Series[]): Record<string, string | number>[] {
  return series.flatMap((s) =>
    s.points.filter((p) => p.n > 0).map((p) => ({
      series: s.label,
      runs: s.runIds.join(" "),
      seeds: p.n,
      round: p.round,
      remainingRatio: num(p.remainingRatio.mean, 6),
      remainingChannelRatio: num(p.remainingChannelRatio.mean, 6),
      standardAccuracy: num(p.standardAccuracy.mean),
      standardAccuracyStd: num(p.standardAccuracy.std),
      adversarialAccuracy: num(p.adversarialAccuracy?.mean),
      adversarialAccuracyStd: num(p.adversarialAccuracy?.std),
      verifiedAccuracy: num(p.verifiedAccuracy?.mean),
      verifiedAccuracyStd: num(p.verifiedAccuracy?.std),
      meanVerifySeconds: num(p.meanVerifySeconds?.mean),
      unstableRatio: num(p.unstableRatio?.mean),
      verified: num(p.outcomes?.verified),
      falsified: num(p.outcomes?.falsified),
      unknown: num(p.outcomes?.unknown),
      misclassified: num(p.outcomes?.misclassified),
    })),
  );
}

/** Table I as records (fractions and seconds; changes against the dense round). */
export function tableRecords(rows: TableRow[]): Record<string, string | number>[] {
  return rows.map((r) => ({
    series: r.label,
    seeds: r.seeds,
    bestRound: r.best.round,
    remainingRatio: num(r.best.remainingRatio.mean, 6),
    standardAccuracy: num(r.best.standardAccuracy.mean),
    standardChange: num(r.change.standard),
    adversarialAccuracy: num(r.best.adversarialAccuracy?.mean),
    adversarialChange: num(r.change.adversarial),
    verifiedAccuracy: num(r.best.verifiedAccuracy?.mean),
    verifiedAccuracyStd: num(r.best.verifiedAccuracy?.std),
    verifiedChange: num(r.change.verified),
    meanVerifySeconds: num(r.best.meanVerifySeconds?.mean),
    secondsChange: num(r.change.seconds),
  }));
}
