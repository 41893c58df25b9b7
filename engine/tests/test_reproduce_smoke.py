"""bench/reproduce.py end to end on its tiny "smoke" schedule (synthetic data, seconds)."""
import json
import os
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SCRIPT = os.path.join(ROOT, "bench", "reproduce.py")
METHODS = ["dense", "IMP", "HYDRA", "Random", "IMP+NRS", "Slim"]


def run_script(*args):
    return subprocess.run([sys.executable, SCRIPT, "--schedule", "smoke", *args], capture_output=True, text=True,
                          timeout=300, cwd=ROOT)


@pytest.fixture(scope="module")
def smoke_runs(tmp_path_factory):
    """The smoke schedule's runs, trained and verified once for this module's tests."""
    out = tmp_path_factory.mktemp("smoke-runs") / "smoke"
    done = run_script("--out", str(out), "--jobs", "2", "--threads", "1")
    assert done.returncode == 0, done.stderr[-3000:]
    return out


def test_smoke_schedule_writes_table_json_and_chart(smoke_runs, tmp_path):
    out = tmp_path / "smoke"
    shutil.copytree(smoke_runs, out)

    data = json.loads((out / "table.json").read_text())
    assert data["schedule"] == "smoke"
    assert [row["method"] for row in data["rows"]] == METHODS
    for row in data["rows"]:
        assert 0 < row["remainingRatio"] <= 1
        assert row["verifiedAccuracy"] is not None and row["meanVerifySeconds"] is not None
        # standard and adversarial accuracy come from the same images: adv <= std
        assert row["adversarialAccuracy"] <= row["standardAccuracy"]
    for label in METHODS[1:]:
        curve = data["curves"][label]
        assert [r["round"] for r in curve] == [0, 1]
        assert curve[1]["remainingRatio"] < 1
    # IMP, HYDRA and Random share their dense round
    assert data["curves"]["HYDRA"][0]["standardAccuracy"] == data["curves"]["IMP"][0]["standardAccuracy"]

    table = (out / "table.md").read_text()
    header = next(line for line in table.splitlines() if line.startswith("| method"))
    assert "remaining ratio" in header and "ver" in header and "mean verify time" in header
    rows = [line for line in table.splitlines() if line.startswith("| ") and not line.startswith("| method")]
    assert [line.split("|")[1].strip() for line in rows] == METHODS

    svg = ET.parse(out / "chart.svg").getroot()
    assert svg.tag.endswith("svg")
    polylines = [e for e in svg.iter() if e.tag.endswith("polyline")]
    assert len(polylines) == 5                                        # one line per pruning method
    labels = {e.text for e in svg.iter() if e.tag.endswith("text")}
    assert {"IMP", "IMP+NRS", "HYDRA", "Random", "Slim"} <= labels

    # --report-only rewrites the same table from the stored runs, without training
    again = run_script("--out", str(out), "--report-only")
    assert again.returncode == 0, again.stderr[-3000:]
    assert json.loads((out / "table.json").read_text())["rows"] == data["rows"]

    # Intervals and paired tests: each verified accuracy carries its Wilson interval, each
    # method's best round is tested against dense on the same images.
    assert all("[" in line.split("|")[6] for line in rows)
    paired = [line for line in table.splitlines() if line.startswith("- ") and " vs dense " in line]
    assert len(paired) == 5 and all("McNemar p = " in line for line in paired)

    # --record keeps a compact record (metrics and every image's verdict) from which the
    # tables are re-written without the runs.
    record_dir = tmp_path / "record"
    again = run_script("--out", str(out), "--report-only", "--record", str(record_dir))
    assert again.returncode == 0, again.stderr[-3000:]
    record = json.loads((record_dir / "smoke-seed0.json").read_text())
    assert set(record["verdicts"]["IMP"]) == {"0", "1"}
    assert all(len(codes) == 4 and set(codes) <= set("vfum") for codes in record["verdicts"]["IMP"].values())
    assert record["verdicts"]["IMP"]["0"].count("v") == data["curves"]["IMP"][0]["verified"]
    elsewhere = tmp_path / "elsewhere"
    rebuilt = run_script("--out", str(elsewhere), "--report-only", "--from-record", str(record_dir / "smoke-seed0.json"))
    assert rebuilt.returncode == 0, rebuilt.stderr[-3000:]
    assert json.loads((elsewhere / "table.json").read_text())["rows"] == data["rows"]
    assert (elsewhere / "table.md").read_text().split("Wall time")[0] == table.split("Wall time")[0]


def test_every_schedule_makes_a_valid_config_per_method_and_names_its_paper_table():
    sys.path.insert(0, os.path.join(ROOT, "bench"))
    import reproduce
    for name, schedule in reproduce.SCHEDULES.items():
        for label, method, regularizer in reproduce.METHODS:
            if label not in reproduce.method_labels(schedule):
                continue
            config = reproduce.config_for(schedule, method, regularizer, seed=2)   # load_config validates it
            assert config["training"]["regime"] == schedule["regime"], name
            assert config["seed"] == 2 and config["pruning"]["rounds"] == schedule["rounds"]
    adversarial = reproduce.SCHEDULES["adversarial"]
    assert adversarial["regime"] == "fgsm" and adversarial["eps"] == 0.1
    # 3 rounds of 70% leave the paper's 3% of the weights
    assert abs((1 - adversarial["rate"]) ** adversarial["rounds"] - 0.027) < 1e-9
    # each schedule is set beside the paper's table of its own regime (none for the studies)
    assert reproduce.paper_numbers(adversarial)["IMP"] == (0.03, 80.2, 39.0)
    assert reproduce.paper_numbers(reproduce.SCHEDULES["certified"]) is reproduce.PAPER
    assert reproduce.paper_numbers(reproduce.SCHEDULES["sabr-study"]) is None
    rows = reproduce.build_rows({"IMP": [{"round": 0, "remainingRatio": 1.0, "verifiedAccuracy": 0.1}]},
                                reproduce.paper_numbers(adversarial))
    assert [row["paper"] for row in rows] == [(1.0, 85.2, 1.5), (0.03, 80.2, 39.0)]


def test_timeout_sensitivity_reverifies_only_the_unknowns_and_compares_before_and_after(smoke_runs, tmp_path):
    """bench/timeout_sensitivity.py: a round's unknown images re-verified with a longer timeout;
    every other verdict is kept; the paired difference is printed before and after."""
    out = tmp_path / "smoke"
    shutil.copytree(smoke_runs, out)
    path = out / "runs" / "IMP" / "round_1" / "verification.json"
    stored = json.loads(path.read_text())
    decided = [r for r in stored["results"] if r["status"] in ("verified", "falsified")]
    assert decided, "the smoke round decided no image: nothing to turn unknown"
    # Turn the decided images unknown, as a too-short timeout would have left them.
    for record in decided:
        record["status"] = "unknown"
    path.write_text(json.dumps(stored))
    script = os.path.join(ROOT, "bench", "timeout_sensitivity.py")

    def sensitivity(*args):
        return subprocess.run([sys.executable, script, "--out", str(out), *args], capture_output=True, text=True,
                              timeout=300, cwd=ROOT)

    halves = [sensitivity("IMP:1", "--timeout", "5", "--pgd", "5x2", "--shard", f"{k}/2") for k in (1, 2)]
    assert all(done.returncode == 0 for done in halves), [done.stderr[-2000:] for done in halves]
    done = sensitivity("IMP:1", "IMP:0", "--timeout", "5", "--pgd", "5x2", "--report-only")
    assert done.returncode == 0, done.stderr[-2000:]
    lines = done.stdout.splitlines()
    n = len(decided)
    assert f"before (the round's timeout): 0 verified / 0 falsified / {n} unknown" in lines[0]
    assert f"({n} of {n} unknowns re-run, {n} of them decided;" in lines[0]   # the smoke model is easy
    assert lines[2].startswith("IMP:1 - IMP:0, before:")
    assert lines[3].startswith("IMP:1 - IMP:0, at 5 s, PGD 5x2:")
    assert "McNemar p = " in lines[3]
    kept = sorted((out / "sensitivity").iterdir())
    assert [p.name for p in kept] == ["IMP-r1-t5-pgd5x2-s1of2.json", "IMP-r1-t5-pgd5x2-s2of2.json"]
    assert json.loads(kept[0].read_text())["pgd"] == [5, 2]

    bad = sensitivity("IMP:9", "--timeout", "5")
    assert bad.returncode != 0 and "no finished verification of IMP round 9" in bad.stderr
    bad = sensitivity("IMP", "--timeout", "5")
    assert bad.returncode == 2 and "LABEL:ROUND" in bad.stderr
    bad = sensitivity("IMP:1", "--timeout", "5", "--pgd", "5x0")
    assert bad.returncode == 2 and "--pgd must be STEPSxRESTARTS" in bad.stderr
