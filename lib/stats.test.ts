import { describe, expect, it } from "vitest";
import {
  betaInc, binomialTwoSided, clopperPearson, mcnemarExact, meanInterval, pairedFromCounts, pairedProportions, seedTest, tCdf, tQuantile, wilson,
} from "./stats";

describe("intervals for k out of n", () => {
  it("Wilson: 0/10, 10/10 and 7/10 as worked by hand", () => {
    // 0/n: [0, z²/(n+z²)] = [0, 3.8415/13.8415]
    expect(wilson(0, 10)!.lo).toBe(0);
    expect(wilson(0, 10)!.hi).toBeCloseTo(0.27753, 5);
    expect(wilson(10, 10)!.lo).toBeCloseTo(0.72247, 5);
    expect(wilson(10, 10)!.hi).toBe(1);
    // 7/10: centre (7 + z²/2)/(10 + z²) = 0.64450, half-width 0.24772 (e.g. Newcombe 1998, Table I: 0.3968-0.8922)
    expect(wilson(7, 10)!.lo).toBeCloseTo(0.39677, 4);
    expect(wilson(7, 10)!.hi).toBeCloseTo(0.89222, 4);
    expect(wilson(0, 0)).toBeNull();
  });

  it("Clopper-Pearson: 0/n's upper bound is 1 - 0.025^(1/n); 7/10 as in the tables", () => {
    for (const n of [1, 5, 10, 100]) {
      expect(clopperPearson(0, n)!.lo).toBe(0);
      expect(clopperPearson(0, n)!.hi).toBeCloseTo(1 - 0.025 ** (1 / n), 9);
      expect(clopperPearson(n, n)!.lo).toBeCloseTo(0.025 ** (1 / n), 9);
    }
    expect(clopperPearson(7, 10)!.lo).toBeCloseTo(0.3475, 4);
    expect(clopperPearson(7, 10)!.hi).toBeCloseTo(0.9333, 4);
    // Exact is wider than Wilson.
    expect(clopperPearson(7, 10)!.lo).toBeLessThan(wilson(7, 10)!.lo);
  });

  it("the special functions agree with closed forms", () => {
    expect(betaInc(0.3, 1, 1)).toBeCloseTo(0.3, 12); // uniform
    expect(betaInc(0.5, 2, 3)).toBeCloseTo(0.6875, 12); // 1 - (1-x)^3 (1+3x) at x=0.5... = 11/16
    expect(tCdf(1, 1)).toBeCloseTo(0.75, 10); // Cauchy
    expect(tQuantile(0.975, 1)).toBeCloseTo(12.7062, 3);
    expect(tQuantile(0.975, 4)).toBeCloseTo(2.7764, 4);
    expect(tQuantile(0.975, 30)).toBeCloseTo(2.0423, 4);
  });
});

describe("the mean over seeds", () => {
  it("gives mean, sample std and the 95% t-interval", () => {
    const m = meanInterval([1, 2, 3])!;
    expect(m.mean).toBe(2);
    expect(m.std).toBeCloseTo(1, 12);
    // 2 ± t(0.975, 2) · 1/√3 = 2 ± 4.3027 · 0.57735
    expect(m.ci!.lo).toBeCloseTo(-0.48414, 4);
    expect(m.ci!.hi).toBeCloseTo(4.48414, 4);
    expect(meanInterval([0.4])).toEqual({ mean: 0.4, std: 0, n: 1, ci: null });
    expect(meanInterval([])).toBeNull();
  });
});

describe("paired tests", () => {
  it("McNemar exact: hand-worked small discordant counts", () => {
    expect(mcnemarExact(0, 5)).toBeCloseTo(0.0625, 12); // 2 · (1/2)^5
    expect(mcnemarExact(1, 9)).toBeCloseTo(0.021484375, 12); // 2 · (1 + 10)/1024
    expect(mcnemarExact(9, 1)).toBeCloseTo(0.021484375, 12);
    expect(mcnemarExact(4, 4)).toBe(1);
    expect(mcnemarExact(0, 0)).toBe(1);
    expect(mcnemarExact(2, 3)).toBe(1);
    expect(binomialTwoSided(0, 6)).toBeCloseTo(0.03125, 12);
  });

  it("pairs verdicts sample by sample", () => {
    const a = [true, true, true, true, true, false, false, true, true, true];
    const b = [false, false, false, false, false, false, false, true, true, true];
    const r = pairedProportions(a, b)!;
    expect(r).toMatchObject({ n: 10, onlyA: 5, onlyB: 0, both: 3 });
    expect(r.diff).toBeCloseTo(0.5, 12);
    expect(r.p).toBeCloseTo(0.0625, 12);
    expect(r.ci.lo).toBeLessThan(0.5);
    expect(r.ci.hi).toBeGreaterThan(0.5);
    const same = pairedFromCounts(20, 3, 3, 5);
    expect(same.diff).toBe(0);
    expect(same.p).toBe(1);
    expect(same.ci.lo).toBeCloseTo(-same.ci.hi, 12);
    expect(pairedProportions([], [])).toBeNull();
  });

  it("across seeds: exact sign test and paired t", () => {
    const two = seedTest([0.1, 0.2])!;
    expect(two).toMatchObject({ n: 2, wins: 2, losses: 0, ties: 0 });
    expect(two.signP).toBe(0.5); // two seeds can never reach 0.05 with a sign test
    expect(two.mean).toBeCloseTo(0.15, 12);
    const three = seedTest([1, 2, 3])!;
    expect(three.tP).toBeCloseTo(0.07418, 4); // t = 3.4641 on 2 df
    expect(seedTest([0.2])!.tP).toBeNull();
    expect(seedTest([0, 0])!.tP).toBe(1);
    expect(seedTest([0.1, 0.1, 0.1, 0.1, 0.1])!.signP).toBeCloseTo(0.0625, 12);
  });
});
