/**
 * Paired comparisons on the same verification samples: for each series its best round
 * against the dense network (round 0 of the same runs), and each pair of series' best
 * rounds against each other (runs paired by seed). Per sample, a verdict is "verified" or
 * not; McNemar's exact test on the discordant samples gives the p-value, pooled over the
 * seeds' samples; across seeds, the per-seed differences get an exact sign test and a
 * paired t-test. Runs are only paired when they verify the same samples (same dataset,
 * test subset, number of samples and epsilon): the engine verifies the first N test images.
 *
 *   pairedComparisons(series, runs) -> [{ a: "IMP (best, round 3)", b: "dense (round 0)", pooled: {diff, ci, p}, seeds, ... }]
 */
import { ALPHA, pairedFromCounts, type PairedProportions, seedTest, type SeedTest } from "../stats";
import { NO_VERDICT, VERDICT_CHARS, type CompareRun } from "./api";
import type { Series } from "./series";

export interface SeedPair {
  seed: number;
  /** Rounds compared in the A run and the B run. */
  roundA: number;
  roundB: number;
  paired: PairedProportions;
}

export interface PairedRow {
  kind: "vs-dense" | "methods";
  a: string;
  b: string;
  /** Colours of A and B (B is A's own when against dense). */
  colorA: string;
  colorB: string;
  seeds: SeedPair[];
  /** All seeds' samples pooled: difference A - B in verified accuracy, its 95% interval, McNemar p. */
  pooled: PairedProportions | null;
  /** Tests of the per-seed differences (null: no seed pair). */
  acrossSeeds: SeedTest | null;
  /** p >= ALPHA (or nothing to test): the data do not show a difference. */
  notSignificant: boolean;
  /** Why nothing could be paired, in words (null when paired). */
  reason: string | null;
}

/** Verified or not per sample index; undefined where the round has no verdict. */
function verdictsOf(run: CompareRun, round: number): (boolean | undefined)[] | null {
  const v = run.verdicts?.find((x) => x.round === round);
  if (!v) return null;
  return [...v.verdicts].map((c) => (c === NO_VERDICT ? undefined : c === VERDICT_CHARS.verified));
}

/** The samples both rounds decided, as a paired 2x2 count. */
function pair(a: (boolean | undefined)[], b: (boolean | undefined)[]): PairedProportions | null {
  let n = 0, onlyA = 0, onlyB = 0, both = 0;
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    if (a[i] === undefined || b[i] === undefined) continue;
    n++;
    if (a[i] && b[i]) both++;
    else if (a[i]) onlyA++;
    else if (b[i]) onlyB++;
  }
  return n ? pairedFromCounts(n, onlyA, onlyB, both) : null;
}

/** Runs verify the same samples when dataset, test subset, sample count and epsilon agree. */
export function sameSamples(a: CompareRun, b: CompareRun): boolean {
  const key = (r: CompareRun) => JSON.stringify([r.config.data.dataset, r.config.data.testSize ?? null, r.config.verification.samples, r.config.verification.eps ?? r.config.training.eps ?? null]);
  return key(a) === key(b);
}

function rowOf(kind: PairedRow["kind"], a: string, b: string, colorA: string, colorB: string, seeds: SeedPair[], reason: string): PairedRow {
  if (seeds.length === 0) return { kind, a, b, colorA, colorB, seeds, pooled: null, acrossSeeds: null, notSignificant: true, reason };
  const sum = (f: (p: PairedProportions) => number) => seeds.reduce((t, s) => t + f(s.paired), 0);
  const pooled = pairedFromCounts(sum((p) => p.n), sum((p) => p.onlyA), sum((p) => p.onlyB), sum((p) => p.both));
  const acrossSeeds = seedTest(seeds.map((s) => s.paired.diff));
  return { kind, a, b, colorA, colorB, seeds, pooled, acrossSeeds, notSignificant: !(pooled.p < ALPHA), reason: null };
}

const roundsText = (rounds: number[]) => {
  const distinct = [...new Set(rounds)];
  return distinct.length === 1 ? `round ${distinct[0]}` : `rounds ${distinct.join("/")}`;
};

/** Every series' best round against its dense round, then every pair of series' best rounds. */
export function pairedComparisons(series: Series[], runs: CompareRun[]): PairedRow[] {
  const byId = new Map(runs.map((r) => [r.id, r]));
  const rows: PairedRow[] = [];
  for (const s of series) {
    const seeds: SeedPair[] = [];
    for (const b of s.bestRounds) {
      const run = byId.get(b.runId);
      const best = run && verdictsOf(run, b.round);
      const dense = run && verdictsOf(run, 0);
      const paired = best && dense ? pair(best, dense) : null;
      if (paired) seeds.push({ seed: b.seed, roundA: b.round, roundB: 0, paired });
    }
    const name = `${s.label} best (${roundsText(s.bestRounds.map((b) => b.round))})`;
    rows.push(rowOf("vs-dense", name, `${s.label} dense (round 0)`, s.color, s.color, seeds,
      s.bestRounds.length === 0 ? "no best round yet" : "no per-sample verdicts stored for these rounds"));
  }
  for (let i = 0; i < series.length; i++) {
    for (let j = i + 1; j < series.length; j++) {
      const [x, y] = [series[i], series[j]];
      const seeds: SeedPair[] = [];
      let different = false;
      for (const bx of x.bestRounds) {
        const by = y.bestRounds.find((b) => b.seed === bx.seed);
        const rx = byId.get(bx.runId);
        const ry = by && byId.get(by.runId);
        if (!by || !rx || !ry) continue;
        if (!sameSamples(rx, ry)) { different = true; continue; }
        const vx = verdictsOf(rx, bx.round);
        const vy = verdictsOf(ry, by.round);
        const paired = vx && vy ? pair(vx, vy) : null;
        if (paired) seeds.push({ seed: bx.seed, roundA: bx.round, roundB: by.round, paired });
      }
      const reason = different ? "different verification samples (dataset, samples or epsilon differ)" : "no seed in common with per-sample verdicts";
      rows.push(rowOf("methods", `${x.label} best`, `${y.label} best`, x.color, y.color, seeds, reason));
    }
  }
  return rows;
}
