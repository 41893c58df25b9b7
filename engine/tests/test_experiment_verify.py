"""The runner's robustness phases: PGD accuracy, stability, per-sample verification, ONNX export."""
import os

import pytest

from certprune import paths as files
from certprune.experiment import run_experiment
from certprune.protocol import load_config
from test_experiment import Events  # the validating event sink, shared

CONFIG = {"data": {"dataset": "synthetic", "trainSize": 64, "testSize": 40, "augment": False},
          "model": {"arch": "cnn4"},
          "training": {"regime": "ibp", "epochs": 2, "batchSize": 32, "epsStart": 1, "epsLength": 1},
          "pruning": {"method": "imp", "rounds": 1},
          "verification": {"mode": "crown", "samples": 6, "timeout": 10, "pgdSteps": 5, "pgdRestarts": 1,
                           "attackSamples": 20},
          "device": "cpu"}


def without_times(value):
    if isinstance(value, dict):
        return {k: without_times(v) for k, v in value.items() if k not in ("seconds", "meanVerifySeconds")}
    if isinstance(value, list):
        return [without_times(v) for v in value]
    return value


@pytest.fixture(scope="module")
def verified_run(tmp_path_factory):
    from certprune.phases import context
    folder = tmp_path_factory.mktemp("verified")
    events = Events()
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(context, "PROGRESS_INTERVAL_S", 0.0)     # every batch and sample reports progress
        summary = run_experiment(load_config(CONFIG), str(folder), events)
    return folder, summary, events


def test_rounds_report_verification_stability_and_attack(verified_run):
    folder, summary, events = verified_run
    for k, row in enumerate(summary["curve"]):
        samples = [e for e in events.of("sample_verified") if e["round"] == k]
        assert [e["index"] for e in samples] == list(range(6))
        counts = {s: sum(e["status"] == s for e in samples) for s in ("verified", "falsified", "unknown", "misclassified")}
        assert {s: row[s] for s in counts} == counts and row["samples"] == 6
        assert row["verifiedAccuracy"] == counts["verified"] / 6
        assert row["adversarialAccuracy"] is not None and 0 <= row["adversarialAccuracy"] <= 1
        assert row["unstableRatio"] is not None and row["instability"] >= 0
        stability = [e for e in events.of("stability") if e["round"] == k]
        assert len(stability) == 1 and stability[0]["eps"] == pytest.approx(0.05)
        assert os.path.getsize(folder / f"round_{k}" / "model.onnx") > 0
    kinds = {(e["round"], e["kind"]) for e in events.of("artifact")}
    assert {(0, "verification"), (0, "stability"), (0, "onnx"), (1, "onnx")} <= kinds
    best = max(range(2), key=lambda k: (summary["curve"][k]["verifiedAccuracy"], -k))
    assert summary["bestRound"] == best


def test_the_engine_names_the_best_round_and_the_rounds_within_noise(verified_run):
    from certprune.stats import BEST_ROUND_RULE, mcnemar_exact
    folder, summary, events = verified_run
    finished = events.of("finished")[0]
    verdicts = [{r["index"]: r["status"] == "verified" for r in files.load_json(
        str(folder / f"round_{k}" / "verification.json"))["results"]} for k in range(2)]
    best = finished["bestRound"]
    other = 1 - best
    b = sum(verdicts[best][i] and not verdicts[other][i] for i in range(6))
    c = sum(verdicts[other][i] and not verdicts[best][i] for i in range(6))
    assert finished["indistinguishableRounds"] == ([other] if mcnemar_exact(b, c) >= 0.05 else [])
    assert finished["bestRoundRule"] == BEST_ROUND_RULE == summary["bestRoundRule"]
    assert summary["roundTests"] == [{"round": other, "onlyBest": b, "onlyRound": c, "p": mcnemar_exact(b, c)}]
    assert summary["indistinguishableRounds"] == finished["indistinguishableRounds"]


def test_rounds_report_both_sparsities_and_per_sample_stability(verified_run):
    folder, summary, events = verified_run
    fc = 512 * 100 + 100 * 10                                  # cnn4's linear layers: outside the conv scope
    for row in summary["curve"]:
        share = row["sparsity"]
        assert share["scope"]["remaining"] / share["scope"]["total"] == row["remainingRatio"]
        assert share["all"] == {"remaining": share["scope"]["remaining"] + fc, "total": share["scope"]["total"] + fc}
        assert share["channels"] is None                       # IMP is not a structured method
    assert summary["curve"][1]["remainingRatio"] < 1.0 and summary["curve"][1]["sparsity"]["all"]["remaining"] > 0
    for event in events.of("stability"):
        assert event["samples"] == 6 and len(event["unstablePerSample"]) == 6
        assert sum(event["unstablePerSample"]) == sum(l["ibp"]["unstable"] for l in event["layers"])
        assert all(l["samples"] == 6 and l["neurons"] == 6 * l["units"] for l in event["layers"])


def test_each_phase_of_each_round_logs_its_start_and_end_and_verification_reports_progress(verified_run):
    _, _, events = verified_run
    lines = {}
    for e in events.of("log"):
        lines.setdefault((e.get("round"), e.get("phase")), []).append(e["message"])
    for k in range(2):
        for phase in ("train", "evaluate", "stability", "verify", "export"):
            assert len(lines.get((k, phase), [])) >= 2, (k, phase, lines)
        assert any(m.startswith(f"round {k}: trained 2 epochs in ") and "test accuracy" in m for m in lines[(k, "train")])
    assert len(lines[(1, "prune")]) >= 2 and "remain" in lines[(1, "prune")][-1]
    for k in range(2):
        verify = [(e["done"], e["total"], e["epoch"]) for e in events.of("progress") if e["round"] == k
                  and e["phase"] == "verify"]
        assert verify == [(n, 6, None) for n in range(1, 7)]
        train = [(e["epoch"], e["done"], e["total"]) for e in events.of("progress") if e["round"] == k
                 and e["phase"] == "train"]
        assert train == [(epoch, n, 2) for epoch in (1, 2) for n in (1, 2)]       # 64 images in batches of 32


def test_a_run_stopped_mid_verification_resumes_with_the_decided_samples(tmp_path, verified_run):
    _, reference, _ = verified_run
    crash = Events(fail_on=lambda type, f: type == "sample_verified" and f["round"] == 1 and f["index"] == 3)
    with pytest.raises(RuntimeError, match="simulated crash"):
        run_experiment(load_config(CONFIG), str(tmp_path), crash)
    partial = files.read_jsonl(str(tmp_path / "round_1" / "verification.partial.jsonl"))
    assert [r["index"] for r in partial] == [0, 1, 2, 3]             # kept before the event went out
    events = Events()
    resumed = run_experiment(load_config(CONFIG), str(tmp_path), events)
    assert without_times(resumed["curve"]) == without_times(reference["curve"])
    assert [e["index"] for e in events.of("sample_verified")] == list(range(6))   # replayed, then the rest
    assert not os.path.exists(tmp_path / "round_1" / "verification.partial.jsonl")
    stored = files.load_json(str(tmp_path / "round_1" / "verification.json"))
    assert [r["index"] for r in stored["results"]] == list(range(6))


def test_export_writes_a_vnncomp_bundle_of_a_round(verified_run, tmp_path):
    import subprocess

    import torch

    from certprune.experiment import load_round_model
    from certprune.onnx_io import load_onnx
    folder = verified_run[0]
    engine = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "bin", "certprune-engine")
    bundle = tmp_path / "bundle"
    done = subprocess.run([engine, "export", "--run", str(folder), "--round", "1", "--out", str(bundle),
                           "--samples", "3"], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == str(bundle)
    rows = (bundle / "instances.csv").read_text().split()
    assert rows == [f"onnx/model.onnx,vnnlib/sample_{i}.vnnlib,10" for i in range(3)]
    imported, shape = load_onnx(str(bundle / "onnx" / "model.onnx"))
    model, _ = load_round_model(str(folder), 1)
    x = torch.rand(5, 1, 16, 16)
    with torch.no_grad():
        assert torch.allclose(imported(x), model(x), atol=1e-5)
    missing = subprocess.run([engine, "export", "--run", str(folder), "--round", "7", "--out", str(bundle)],
                             capture_output=True, text=True, timeout=120)
    assert missing.returncode == 2 and "round 7" in missing.stderr
