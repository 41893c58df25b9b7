"""bench/reproduce.py end to end on its tiny "smoke" schedule (synthetic data, seconds)."""
import json
import os
import subprocess
import sys
import xml.etree.ElementTree as ET

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SCRIPT = os.path.join(ROOT, "bench", "reproduce.py")
METHODS = ["dense", "IMP", "HYDRA", "Random", "IMP+NRS", "Slim"]


def run_script(*args):
    return subprocess.run([sys.executable, SCRIPT, "--schedule", "smoke", *args], capture_output=True, text=True,
                          timeout=300, cwd=ROOT)


def test_smoke_schedule_writes_table_json_and_chart(tmp_path):
    out = tmp_path / "smoke"
    done = run_script("--out", str(out), "--jobs", "2", "--threads", "1")
    assert done.returncode == 0, done.stderr[-3000:]

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
