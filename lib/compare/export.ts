/**
 * A comparison as records for the CSV / JSON exports: per-round results of every series,
 * Table I, and the paired tests. Every accuracy comes with its 95% interval (…Lo, …Hi;
 * `ciKind` says which: "t" of the mean across seeds, "wilson" of one run's count), every
 * remaining fraction says what it counts (see lib/sparsity); an empty cell is a missing
 * or unrecorded value.
 */
import type { Interval } from "../stats";
import type { PairedRow } from "./paired";
import type { Series, SeriesPoint, Stat } from "./series";
import type { TableRow } from "./tableOne";

const num = (x: number | null | undefined, digits = 4) => (x == null || !Number.isFinite(x) ? "" : String(Number(x.toFixed(digits))));

/** mean, std, 95% interval and its kind of one statistic, as columns prefixed by `name`. */
function statColumns(name: string, s: Stat | null | undefined): Record<string, string> {
  return {
    [name]: num(s?.mean),
    [`${name}Std`]: num(s?.std),
    [`${name}Lo`]: num(s?.ci?.lo),
    [`${name}Hi`]: num(s?.ci?.hi),
    [`${name}CiKind`]: s?.ci ? (s.ciKind ?? "") : "",
  };
}

/** Remaining fractions by what they count (lib/sparsity): pruned layers, all weights, channels. */
function sparsityColumns(p: SeriesPoint): Record<string, string> {
  return {
    remainingOfPrunedLayers: num(p.remainingRatio.mean, 6),
    remainingOfAllWeights: num(p.remainingAll?.mean, 6),
    remainingOfChannels: num(p.remainingChannels?.mean, 6),
  };
}

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
      // After the original columns, so that readers by position keep working: intervals and what "remaining" counts.
      ...statColumns("standardAccuracy", p.standardAccuracy),
      ...statColumns("adversarialAccuracy", p.adversarialAccuracy),
      ...statColumns("verifiedAccuracy", p.verifiedAccuracy),
      ...sparsityColumns(p),
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
    ...statColumns("standardAccuracy", r.best.standardAccuracy),
    standardChange: num(r.change.standard),
    ...statColumns("adversarialAccuracy", r.best.adversarialAccuracy),
    adversarialChange: num(r.change.adversarial),
    ...statColumns("verifiedAccuracy", r.best.verifiedAccuracy),
    verifiedChange: num(r.change.verified),
    meanVerifySeconds: num(r.best.meanVerifySeconds?.mean),
    secondsChange: num(r.change.seconds),
    // After the original columns, so that readers by position keep working.
    bestRoundPerSeed: r.bestRounds.map((b) => `seed ${b.seed}: ${b.round}${b.source === "summary" ? " (so far)" : ""}`).join("; "),
    indistinguishableRounds: r.indistinguishable == null ? "not recorded" : r.indistinguishable.join(" "),
    ...sparsityColumns(r.best),
  }));
}

const ci = (i: Interval | null | undefined) => ({ lo: num(i?.lo), hi: num(i?.hi) });

/** The paired tests as records: pooled McNemar, and the tests across seeds. */
export function pairedRecords(rows: PairedRow[]): Record<string, string | number>[] {
  return rows.map((r) => ({
    comparison: r.kind,
    a: r.a,
    b: r.b,
    seeds: r.seeds.length,
    samples: r.pooled?.n ?? "",
    onlyA: r.pooled?.onlyA ?? "",
    onlyB: r.pooled?.onlyB ?? "",
    verifiedDiff: num(r.pooled?.diff),
    verifiedDiffLo: ci(r.pooled?.ci).lo,
    verifiedDiffHi: ci(r.pooled?.ci).hi,
    mcnemarP: num(r.pooled?.p, 6),
    significant: r.pooled ? (r.notSignificant ? "not significant" : "significant") : "",
    seedMeanDiff: num(r.acrossSeeds?.mean),
    seedDiffLo: ci(r.acrossSeeds?.ci).lo,
    seedDiffHi: ci(r.acrossSeeds?.ci).hi,
    signTestP: num(r.acrossSeeds?.signP, 6),
    pairedTP: num(r.acrossSeeds?.tP, 6),
    note: r.reason ?? "",
  }));
}
