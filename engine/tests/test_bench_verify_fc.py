"""bench/verify_fc.py end to end, tiny: one MLP trained on 2,000 FashionMNIST images,
its instances written in VNN-COMP's form, decided by `verify --batch`, tallied."""
import csv
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SCRIPT = os.path.join(ROOT, "bench", "verify_fc.py")


def run(*args):
    return subprocess.run([sys.executable, SCRIPT, *args], capture_output=True, text=True, timeout=600, cwd=ROOT,
                          env=dict(os.environ, CERTPRUNE_THREADS="1"))


def test_make_run_and_tally(tmp_path):
    out = str(tmp_path / "fc")
    made = run("make", "--out", out, "--nets", "256x2", "--epochs", "1", "--train-size", "2000",
               "--images", "3", "--eps", "0.001,0.3", "--timeout", "20")
    assert made.returncode == 0, made.stderr[-2000:]
    with open(os.path.join(out, "instances.csv"), encoding="utf-8") as f:
        rows = list(csv.reader(f))
    assert len(rows) == 6 and {r[0] for r in rows} == {"fc_256x2.onnx"} and {r[2] for r in rows} == {"20"}
    assert all(os.path.exists(os.path.join(out, r[1])) for r in rows)
    done = run("run", "--out", out, "--label", "t")
    assert done.returncode == 0, done.stderr[-2000:]
    with open(os.path.join(out, "results-t", "results.csv"), encoding="utf-8") as f:
        answers = {r[1]: r[2] for r in csv.reader(f)}
    # eps 0.001 around a correctly classified image: robust; eps 0.3: an attack breaks it.
    assert [a for v, a in answers.items() if v.endswith("_0.001.vnnlib")] == ["unsat"] * 3, answers
    assert [a for v, a in answers.items() if v.endswith("_0.3.vnnlib")] == ["sat"] * 3, answers
    line = [ln for ln in done.stdout.splitlines() if ln.startswith("256x2")][0].split()
    assert line[1:5] == ["t", "3", "3", "0"], line  # run, verified, falsified, unknown
    again = run("run", "--out", out, "--label", "u", "--only", "256x2", "--timeout", "10")
    assert again.returncode == 0, again.stderr[-2000:]
    both = run("tally", "--out", out, "t", "u")
    assert "0 instances answered differently by t and u; contradictions: 0" in both.stdout, both.stdout
