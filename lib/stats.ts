/**
 * The statistics a reviewer needs to read CertPrune's numbers: 95% intervals for a count
 * out of n (Wilson, Clopper-Pearson), the mean of a few seeds with its t-interval, and
 * paired tests (exact McNemar on per-sample verdicts; exact sign test and paired t
 * across seeds). Pure functions, no dependencies; pinned to textbook values in
 * stats.test.ts.
 *
 *   wilson(7, 10)            -> { lo: 0.3968, hi: 0.8922 }
 *   mcnemarExact(1, 9)       -> 0.02148        (b, c: the discordant pairs)
 *   meanInterval([1, 2, 3])  -> { mean: 2, std: 1, n: 3, lo: -0.484, hi: 4.484 }
 */

/** A two-sided 95% interval [lo, hi]. */
export interface Interval {
  lo: number;
  hi: number;
}

/** The standard normal's 97.5th percentile: a two-sided 95% interval is ±Z95 standard errors. */
export const Z95 = 1.959963984540054;

/** Wilson score interval (95%) for k successes out of n; null when n is 0. */
export function wilson(k: number, n: number): Interval | null {
  if (!(n > 0) || k < 0 || k > n) return null;
  const z2 = Z95 * Z95;
  const p = k / n;
  const centre = (p + z2 / (2 * n)) / (1 + z2 / n);
  const half = (Z95 / (1 + z2 / n)) * Math.sqrt((p * (1 - p)) / n + z2 / (4 * n * n));
  return { lo: Math.max(0, k === 0 ? 0 : centre - half), hi: Math.min(1, k === n ? 1 : centre + half) };
}

/** Clopper-Pearson ("exact") interval (95%) for k successes out of n; null when n is 0. */
export function clopperPearson(k: number, n: number): Interval | null {
  if (!(n > 0) || k < 0 || k > n) return null;
  return {
    lo: k === 0 ? 0 : betaQuantile(0.025, k, n - k + 1),
    hi: k === n ? 1 : betaQuantile(0.975, k + 1, n - k),
  };
}

// ------------------------------------------------------------------ special functions

/** ln Γ(x) for x > 0 (Lanczos, g = 7, 9 terms; ~15 significant digits). */
export function logGamma(x: number): number {
  const c = [
    0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059,
    12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7,
  ];
  if (x < 0.5) return Math.log(Math.PI / Math.sin(Math.PI * x)) - logGamma(1 - x);
  x -= 1;
  let a = c[0];
  const t = x + 7.5;
  for (let i = 1; i < 9; i++) a += c[i] / (x + i);
  return 0.5 * Math.log(2 * Math.PI) + (x + 0.5) * Math.log(t) - t + Math.log(a);
}

/** Continued fraction of the incomplete beta function (modified Lentz). */
function betaFraction(x: number, a: number, b: number): number {
  const tiny = 1e-300;
  let c = 1;
  let d = 1 - ((a + b) * x) / (a + 1);
  if (Math.abs(d) < tiny) d = tiny;
  d = 1 / d;
  let h = d;
  for (let m = 1; m <= 300; m++) {
    const m2 = 2 * m;
    let aa = (m * (b - m) * x) / ((a + m2 - 1) * (a + m2));
    d = 1 + aa * d; if (Math.abs(d) < tiny) d = tiny;
    c = 1 + aa / c; if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d; h *= d * c;
    aa = (-(a + m) * (a + b + m) * x) / ((a + m2) * (a + m2 + 1));
    d = 1 + aa * d; if (Math.abs(d) < tiny) d = tiny;
    c = 1 + aa / c; if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    const step = d * c;
    h *= step;
    if (Math.abs(step - 1) < 1e-15) break;
  }
  return h;
}

/** The regularized incomplete beta function I_x(a, b), for 0 <= x <= 1 and a, b > 0. */
export function betaInc(x: number, a: number, b: number): number {
  if (x <= 0) return 0;
  if (x >= 1) return 1;
  const front = Math.exp(logGamma(a + b) - logGamma(a) - logGamma(b) + a * Math.log(x) + b * Math.log(1 - x));
  return x < (a + 1) / (a + b + 2) ? (front * betaFraction(x, a, b)) / a : 1 - (front * betaFraction(1 - x, b, a)) / b;
}

/** The p-quantile of the Beta(a, b) distribution (bisection on betaInc). */
export function betaQuantile(p: number, a: number, b: number): number {
  let lo = 0;
  let hi = 1;
  for (let i = 0; i < 200 && hi - lo > 1e-15; i++) {
    const mid = (lo + hi) / 2;
    if (betaInc(mid, a, b) < p) lo = mid;
    else hi = mid;
  }
  return (lo + hi) / 2;
}

/** P(T <= t) for Student's t with df degrees of freedom. */
export function tCdf(t: number, df: number): number {
  const tail = 0.5 * betaInc(df / (df + t * t), df / 2, 0.5);
  return t >= 0 ? 1 - tail : tail;
}

/** The p-quantile of Student's t with df degrees of freedom, e.g. tQuantile(0.975, 1) = 12.706. */
export function tQuantile(p: number, df: number): number {
  if (p === 0.5) return 0;
  let lo = -1;
  let hi = 1;
  while (tCdf(lo, df) > p) lo *= 2;
  while (tCdf(hi, df) < p) hi *= 2;
  for (let i = 0; i < 200 && hi - lo > 1e-12; i++) {
    const mid = (lo + hi) / 2;
    if (tCdf(mid, df) < p) lo = mid;
    else hi = mid;
  }
  return (lo + hi) / 2;
}

// ------------------------------------------------------------------ over seeds

export interface MeanInterval {
  mean: number;
  /** Sample standard deviation (n - 1 in the denominator; 0 for one value). */
  std: number;
  n: number;
  /** 95% t-interval of the mean; null for fewer than two values (no spread to measure). */
  ci: Interval | null;
}

/** Mean, std and the 95% t-interval of the mean of a few values (e.g. one per seed); null when empty. */
export function meanInterval(values: readonly number[]): MeanInterval | null {
  const xs = values.filter(Number.isFinite);
  const n = xs.length;
  if (n === 0) return null;
  const mean = xs.reduce((a, b) => a + b, 0) / n;
  const std = n > 1 ? Math.sqrt(xs.reduce((a, b) => a + (b - mean) ** 2, 0) / (n - 1)) : 0;
  if (n < 2) return { mean, std, n, ci: null };
  const half = (tQuantile(0.975, n - 1) * std) / Math.sqrt(n);
  return { mean, std, n, ci: { lo: mean - half, hi: mean + half } };
}

// ------------------------------------------------------------------ paired tests

/** Exact two-sided binomial test of k successes out of n against p = 1/2. */
export function binomialTwoSided(k: number, n: number): number {
  if (n <= 0) return 1;
  const low = Math.min(k, n - k);
  let tail = 0;
  if (n <= 1000) {
    // Exact in doubles for small n: C(n, i) / 2^n term by term.
    let term = 0.5 ** n;
    for (let i = 0; i <= low; i++) {
      tail += term;
      term = (term * (n - i)) / (i + 1);
    }
  } else {
    for (let i = 0; i <= low; i++) tail += Math.exp(logChoose(n, i) - n * Math.LN2);
  }
  return Math.min(1, 2 * tail);
}

const logChoose = (n: number, k: number) => logGamma(n + 1) - logGamma(k + 1) - logGamma(n - k + 1);

/**
 * McNemar's exact test (two-sided): of the pairs where the two verdicts differ, b favour
 * A and c favour B; under "no difference" each is a fair coin. b = c gives p = 1.
 */
export function mcnemarExact(b: number, c: number): number {
  return binomialTwoSided(b, b + c);
}

export interface PairedProportions {
  /** Samples compared (verdicts of both on the same samples). */
  n: number;
  /** Verified by A only, by B only, by both. */
  onlyA: number;
  onlyB: number;
  both: number;
  /** Verified accuracy of A minus that of B, (onlyA - onlyB) / n. */
  diff: number;
  /** 95% interval of the difference (Wald with the Agresti-Min adjustment: ½ added to each cell). */
  ci: Interval;
  /** Exact two-sided McNemar p-value. */
  p: number;
}

/** Paired comparison of two verdict lists on the same samples (true: verified); null when none are paired. */
export function pairedProportions(a: readonly boolean[], b: readonly boolean[]): PairedProportions | null {
  const n = Math.min(a.length, b.length);
  if (n === 0) return null;
  let onlyA = 0, onlyB = 0, both = 0;
  for (let i = 0; i < n; i++) {
    if (a[i] && b[i]) both++;
    else if (a[i]) onlyA++;
    else if (b[i]) onlyB++;
  }
  return pairedFromCounts(n, onlyA, onlyB, both);
}

/** The same from the counts of a 2x2 table of paired verdicts. */
export function pairedFromCounts(n: number, onlyA: number, onlyB: number, both: number): PairedProportions {
  const m = n + 2;
  const pa = (onlyA + 0.5) / m;
  const pb = (onlyB + 0.5) / m;
  const centre = pa - pb;
  const se = Math.sqrt(Math.max(0, pa + pb - centre * centre) / m);
  return {
    n, onlyA, onlyB, both,
    diff: n > 0 ? (onlyA - onlyB) / n : 0,
    ci: { lo: Math.max(-1, centre - Z95 * se), hi: Math.min(1, centre + Z95 * se) },
    p: mcnemarExact(onlyA, onlyB),
  };
}

export interface SeedTest {
  /** Seeds paired. */
  n: number;
  /** Seeds where A beat B, B beat A, tied. */
  wins: number;
  losses: number;
  ties: number;
  /** Exact two-sided sign test (ties dropped). */
  signP: number;
  /** Paired t-test: mean difference, its 95% interval and two-sided p (null for one seed). */
  mean: number;
  ci: Interval | null;
  tP: number | null;
}

/** Paired tests of per-seed differences (A - B, one per seed). */
export function seedTest(diffs: readonly number[]): SeedTest | null {
  const d = diffs.filter(Number.isFinite);
  if (d.length === 0) return null;
  const wins = d.filter((x) => x > 1e-12).length;
  const losses = d.filter((x) => x < -1e-12).length;
  const m = meanInterval(d)!;
  let tP: number | null = null;
  if (d.length > 1) {
    const se = m.std / Math.sqrt(d.length);
    tP = se > 0 ? 2 * (1 - tCdf(Math.abs(m.mean / se), d.length - 1)) : Math.abs(m.mean) < 1e-12 ? 1 : 0;
  }
  return { n: d.length, wins, losses, ties: d.length - wins - losses, signP: binomialTwoSided(wins, wins + losses), mean: m.mean, ci: m.ci, tP };
}

/** The significance level the pages mark differences against. */
export const ALPHA = 0.05;
