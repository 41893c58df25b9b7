"""bench/reproduce_seeds.py: seeds pooled by hand-countable records."""
import json
import os
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SCRIPT = os.path.join(ROOT, "bench", "reproduce_seeds.py")
sys.path.insert(0, os.path.join(ROOT, "bench"))

import reproduce_seeds  # noqa: E402
from certprune.stats import mcnemar_exact, wilson_interval  # noqa: E402


def row(k, ratio, codes):
    verified = codes.count("v")
    return {"round": k, "remainingRatio": ratio, "standardAccuracy": 0.8, "verifiedAccuracy": verified / len(codes),
            "verified": verified, "falsified": codes.count("f"), "unknown": codes.count("u"),
            "misclassified": codes.count("m"), "samples": len(codes), "meanVerifySeconds": 0.5}


def record(seed, imp, rnd, schedule="study"):
    """imp, rnd: verdict strings of rounds 0, 1 (Random's round 0 is IMP's: the shared dense round)."""
    curves = {"IMP": [row(k, r, c) for k, (r, c) in enumerate(zip((1.0, 0.5), imp))],
              "Random": [row(k, r, c) for k, (r, c) in enumerate(zip((1.0, 0.5), (imp[0], rnd)))]}
    verdicts = {"IMP": {str(k): c for k, c in enumerate(imp)}, "Random": {"0": imp[0], "1": rnd}}
    history = [[0.5 + 0.1 * seed, 0.4], [0.7 + 0.1 * seed, 0.6]]     # the dense round's [train, test] per epoch
    return {"schedule": schedule, "seed": seed, "meta": {}, "curves": curves, "verdicts": verdicts,
            "histories": {"IMP": {"0": history}}}


SEED0 = record(0, ("vvuf", "vvvf"), "vuuf")     # round 1: IMP only on images 1, 2
SEED1 = record(1, ("vfff", "vvvv"), "vvff")     # round 1: IMP only on images 2, 3; Random only on none


def write(tmp_path, *records):
    paths = []
    for r in records:
        path = tmp_path / f"{r['schedule']}-seed{r['seed']}.json"
        path.write_text(json.dumps(r))
        paths.append(str(path))
    return paths


def test_pooled_counts_intervals_and_paired_tests_match_a_hand_count(tmp_path):
    data = reproduce_seeds.summary(reproduce_seeds.load_records(write(tmp_path, SEED1, SEED0)))
    assert data["seeds"] == [0, 1]
    imp = {r["round"]: r for r in data["perRound"]["IMP"]}
    assert imp[1]["verified"] == 3 + 4 and imp[1]["samples"] == 8
    assert imp[1]["perSeed"] == [0.75, 1.0] and imp[1]["mean"] == pytest.approx(0.875)
    assert imp[1]["interval"] == pytest.approx(wilson_interval(7, 8))
    assert imp[0]["unknown"] == 1
    # round 1, IMP vs Random, pooled over both seeds: IMP only on (0,1), (0,2), (1,2), (1,3); Random only: none
    test = next(t for t in data["fixed"] if t["round"] == 1 and (t["a"], t["b"]) == ("IMP", "Random"))
    assert (test["onlyA"], test["onlyB"], test["pairs"], test["seeds"]) == (4, 0, 8, 2)
    assert test["p"] == pytest.approx(mcnemar_exact(4, 0)) and test["difference"] == pytest.approx(4 / 8)
    # were Random's two unknowns (seed 0, images 1 and 2) robust, IMP would still lead by 2 of 8
    assert test["unknownB"] == 2 and test["worstDifference"] == pytest.approx(2 / 8)
    # best rounds: IMP's is round 1 in both seeds; seed 0's Random ties its dense round, so the earliest wins
    assert data["best"]["IMP"]["rounds"] == [1, 1]
    assert data["best"]["Random"]["rounds"] == [0, 1]
    vs_dense = data["best"]["IMP"]["vsDense"]
    assert (vs_dense["onlyA"], vs_dense["onlyB"]) == (1 + 3, 0)
    # the dense training curve, averaged over the seeds epoch by epoch
    assert [[e, pytest.approx(tr), pytest.approx(te)] for e, tr, te in data["denseCurve"]] == [[1, 0.55, 0.4], [2, 0.75, 0.6]]


def test_cli_writes_the_report_and_chart_and_names_bad_input(tmp_path):
    paths = write(tmp_path, SEED0, SEED1)
    md, svg = tmp_path / "r.md", tmp_path / "c.svg"
    done = subprocess.run([sys.executable, SCRIPT, *paths, "--markdown", str(md), "--svg", str(svg)],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    text = md.read_text()
    assert "seeds 0, 1" in text and "| dense | 0 | 1 |" in text
    assert ("round 1: IMP vs Random: +50.0 points (4 vs 0 discordant of 8 pairs, 2 seeds), p = 0.125, not significant; "
            "+25.0 if all 2 of the other's unknowns were robust") in text
    assert svg.read_text().count("<polygon") == 2    # a band per method

    other = write(tmp_path, record(2, ("vvvv", "vvvv"), "vvvv", schedule="other"))
    mixed = subprocess.run([sys.executable, SCRIPT, paths[0], *other], capture_output=True, text=True, timeout=120)
    assert mixed.returncode == 2 and "more than one schedule" in mixed.stderr
    twice = subprocess.run([sys.executable, SCRIPT, paths[0], paths[0]], capture_output=True, text=True, timeout=120)
    assert twice.returncode == 2 and "a seed appears twice" in twice.stderr


@pytest.mark.parametrize("schedule", ["certified", "adversarial", "sabr-study", "mtl-ibp-study"])
def test_the_committed_pooled_reports_are_what_their_records_give(schedule, tmp_path):
    """docs/reproduction/<schedule>.md and .svg are regenerated from the committed records,
    byte for byte: the figures docs/reproduction.md quotes cannot drift from the data."""
    folder = os.path.join(ROOT, "docs", "reproduction")
    records = sorted(os.path.join(folder, name) for name in os.listdir(folder)
                     if name.startswith(f"{schedule}-seed") and name.endswith(".json"))
    assert len(records) == 3, records
    done = subprocess.run([sys.executable, SCRIPT, *records, "--markdown", str(tmp_path / "out.md"),
                           "--svg", str(tmp_path / "out.svg")], capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert done.returncode == 0, done.stderr[-2000:]
    for suffix in ("md", "svg"):
        with open(os.path.join(folder, f"{schedule}.{suffix}")) as f:
            assert (tmp_path / f"out.{suffix}").read_text() == f.read(), f"{schedule}.{suffix} differs from its records"
