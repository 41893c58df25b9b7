"""The best-round rule and the paired exact McNemar test, pinned to hand-worked values."""
import math
from fractions import Fraction

import pytest

from certprune.stats import (ALPHA, binomial_two_sided, best_round, discordant, indistinguishable_rounds,
                             mcnemar_exact, round_tests)


def brute_force_p(b, c):
    """Two-sided exact p by enumeration: P(outcome at least as far from n/2 as the observed one), exact fractions."""
    n = b + c
    far = abs(2 * b - n)
    return float(sum(Fraction(math.comb(n, x), 2 ** n) for x in range(n + 1) if abs(2 * x - n) >= far))


def test_mcnemar_exact_matches_hand_worked_values():
    assert mcnemar_exact(0, 5) == pytest.approx(0.0625)            # 2 * (1/2)^5
    assert mcnemar_exact(1, 9) == pytest.approx(22 / 1024)          # 2 * (1 + 10) / 2^10 = 0.02148
    assert round(mcnemar_exact(1, 9), 5) == 0.02148
    assert mcnemar_exact(2, 8) == pytest.approx(112 / 1024)         # 2 * (1 + 10 + 45) / 2^10
    assert mcnemar_exact(0, 6) == pytest.approx(0.03125)            # the smallest all-one-way count below 0.05
    for b in range(6):
        assert mcnemar_exact(b, b) == 1.0                           # b == c: no evidence either way
    assert mcnemar_exact(0, 0) == 1.0                               # no discordant pair at all


def test_mcnemar_exact_is_symmetric_and_agrees_with_enumeration():
    for b in range(13):
        for c in range(13):
            assert mcnemar_exact(b, c) == mcnemar_exact(c, b)
            assert mcnemar_exact(b, c) == pytest.approx(brute_force_p(b, c), abs=1e-12), (b, c)


def test_binomial_rejects_impossible_counts():
    with pytest.raises(ValueError, match="0 <= k <= n"):
        binomial_two_sided(4, 3)


def verdicts(verified, n=20):
    return {i: i in verified for i in range(n)}


def test_best_round_is_the_most_verified_earliest_on_ties_and_rounds_within_noise_are_named():
    rounds = {0: verdicts(set(range(5))),              # 5 verified, all also verified by round 1
              1: verdicts(set(range(10))),             # 10: the best
              2: verdicts(set(range(4))),              # 4: b=6, c=0 -> p = 0.03125, distinguishable
              3: verdicts(set(range(10, 20)))}         # 10 as well, later: a tie lost; b=c=10 -> p = 1
    curve = [{"round": k, "verifiedAccuracy": sum(v.values()) / 20} for k, v in rounds.items()]
    assert best_round(curve) == (1, 0.5)
    assert discordant(rounds[1], rounds[0]) == (5, 0)
    tests = {t["round"]: t for t in round_tests(rounds, 1)}
    assert sorted(tests) == [0, 2, 3]
    assert tests[0]["p"] == pytest.approx(0.0625) and tests[2]["p"] == pytest.approx(0.03125)
    assert (tests[3]["onlyBest"], tests[3]["onlyRound"], tests[3]["p"]) == (10, 10, 1.0)
    assert indistinguishable_rounds(rounds, 1) == [0, 3]
    assert tests[2]["p"] < ALPHA <= tests[0]["p"]


def test_without_verification_there_is_no_best_round():
    assert best_round([{"round": 0, "verifiedAccuracy": None}, {"round": 1, "verifiedAccuracy": None}]) == (None, None)
    assert indistinguishable_rounds({}, None) == [] and round_tests({0: verdicts(set())}, None) == []


def test_wilson_interval_against_hand_worked_values():
    from certprune.stats import wilson_interval
    low, high = wilson_interval(7, 10)
    assert (round(low, 4), round(high, 4)) == (0.3968, 0.8922)
    assert wilson_interval(0, 10)[0] == 0.0 and round(wilson_interval(0, 10)[1], 5) == 0.27753
    assert wilson_interval(10, 10)[1] == pytest.approx(1.0) and round(wilson_interval(10, 10)[0], 5) == 0.72247
    assert wilson_interval(0, 0) == (0.0, 1.0)
