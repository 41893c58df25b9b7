"""Statistics of a run's results: the best round, paired tests between rounds, seeds.

    p = mcnemar_exact(b, c)                       # discordant pairs -> two-sided exact p-value
    best, accuracy = best_round(curve)            # the engine's one best-round rule
    same = indistinguishable_rounds(verdicts, best)

Two rounds of a run verify the same samples, so they are compared sample by sample:
b = samples verified by round A but not B, c = the other way round. Under "A and B
verify equally often" each discordant sample is a fair coin, so the exact two-sided
McNemar p-value is the binomial test of min(b, c) successes in b + c flips at 1/2.
"""
from __future__ import annotations

import math

ALPHA = 0.05
BEST_ROUND_RULE = ("The round with the most verified samples (every round verifies the same samples); ties go to "
                   "the earliest, least pruned, round. Rounds whose per-sample verdicts do not differ from the best "
                   f"round's by an exact two-sided McNemar test (p >= {ALPHA}) are indistinguishable from it.")


def binomial_two_sided(k: int, n: int) -> float:
    """Exact two-sided p-value of k successes in n fair coin flips: min(1, 2 P(X <= min(k, n - k)))."""
    if n < 0 or not 0 <= k <= n:
        raise ValueError(f"need 0 <= k <= n, got k={k}, n={n}")
    if n == 0:
        return 1.0
    tail = sum(math.comb(n, i) for i in range(min(k, n - k) + 1))
    return min(1.0, 2.0 * tail / 2.0 ** n)


def wilson_interval(k: int, n: int, z: float = 1.959963984540054) -> tuple[float, float]:
    """95% Wilson score interval of the proportion k / n ((0, 1) when n is 0)."""
    if n < 0 or not 0 <= k <= n:
        raise ValueError(f"need 0 <= k <= n, got k={k}, n={n}")
    if n == 0:
        return 0.0, 1.0
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return max(0.0, centre - half), min(1.0, centre + half)


def mcnemar_exact(b: int, c: int) -> float:
    """Two-sided exact McNemar p-value from the discordant counts b and c (1.0 when b == c)."""
    return binomial_two_sided(min(b, c), b + c)


def discordant(a: dict, b: dict) -> tuple[int, int]:
    """(verified by a only, verified by b only) over the samples both have.

    a, b: {sample index: verified?} per-sample verdicts of two rounds.
    """
    common = a.keys() & b.keys()
    return (sum(1 for i in common if a[i] and not b[i]), sum(1 for i in common if b[i] and not a[i]))


def best_round(curve: list) -> tuple:
    """(round, verified accuracy) with the highest verified accuracy; the earliest on ties; (None, None) if none.

    Every round verifies the same samples, so the highest accuracy is the most verified samples.
    """
    scored = [(r["verifiedAccuracy"], -r["round"]) for r in curve if r.get("verifiedAccuracy") is not None]
    if not scored:
        return None, None
    accuracy, negative_round = max(scored)
    return -negative_round, accuracy


def round_tests(verdicts: dict, best: int | None) -> list:
    """Each other round against the best one: [{round, onlyBest, onlyRound, p}] (p: mcnemar_exact).

    verdicts: {round: {sample index: verified?}}; [] when there is no best round.
    """
    if best is None or best not in verdicts:
        return []
    tests = []
    for k in sorted(verdicts):
        if k == best:
            continue
        only_best, only_round = discordant(verdicts[best], verdicts[k])
        tests.append({"round": k, "onlyBest": only_best, "onlyRound": only_round,
                      "p": mcnemar_exact(only_best, only_round)})
    return tests


def indistinguishable_rounds(verdicts: dict, best: int | None) -> list:
    """The other rounds whose verdicts do not differ from the best round's (p >= ALPHA), ascending."""
    return [t["round"] for t in round_tests(verdicts, best) if t["p"] >= ALPHA]


AGGREGATED = ("remainingRatio", "remainingChannelRatio", "standardAccuracy", "adversarialAccuracy",
              "verifiedAccuracy", "meanVerifySeconds", "unstableRatio", "instability")


def aggregate_seeds(curves: list) -> list:
    """Mean and standard deviation over seeds, round by round.

    curves: one curve per seed (a list of round_finished dicts). Rounds present in every
    curve are aggregated: [{"round", "seeds", <metric>: {"mean", "std"} or None}] for the
    metrics in AGGREGATED. std is the sample standard deviation (n - 1; 0 for one seed).
    A metric that is null in some seed is averaged over the seeds that have it.
    """
    if not curves:
        return []
    by_round = [{r["round"]: r for r in curve} for curve in curves]
    common = sorted(set.intersection(*(set(rounds) for rounds in by_round)))
    aggregated = []
    for k in common:
        entry = {"round": k, "seeds": len(curves)}
        for metric in AGGREGATED:
            values = [rounds[k][metric] for rounds in by_round if rounds[k].get(metric) is not None]
            if not values:
                entry[metric] = None
                continue
            mean = sum(values) / len(values)
            var = sum((v - mean) ** 2 for v in values) / (len(values) - 1) if len(values) > 1 else 0.0
            entry[metric] = {"mean": mean, "std": math.sqrt(var)}
        aggregated.append(entry)
    return aggregated
