"""Verifying an uploaded ONNX model (model.arch "onnx"): events, files, and clear refusals."""
import json
import os
import subprocess

import numpy as np
import onnx
import pytest
import torch
from onnx import TensorProto, helper, numpy_helper

from certprune.data import dataset_info, load_dataset
from certprune.models import build_model
from certprune.onnx_io import export_onnx, load_onnx
from certprune.protocol import load_config
from certprune.verify_model import run_verify_model
from test_experiment_verify import Events

ENGINE = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "bin", "certprune-engine")
SAMPLES = 8


def config_for(model_path, **verification):
    return load_config({"data": {"dataset": "synthetic"}, "model": {"arch": "onnx", "onnx": str(model_path)},
                        "verification": {"mode": "crown", "samples": SAMPLES, "eps": 0.08, "timeout": 10,
                                         "pgdSteps": 10, "pgdRestarts": 1, **verification},
                        "device": "cpu"})


@pytest.fixture(scope="module")
def uploaded(tmp_path_factory):
    """An MLP for the synthetic data, with some weights zeroed by hand, exported as ONNX."""
    folder = tmp_path_factory.mktemp("upload")
    info = dataset_info("synthetic")
    torch.manual_seed(3)
    model = build_model("mlp", info.input_shape, info.num_classes, info.mean, info.std, [24]).eval()
    linears = [m for m in model if isinstance(m, torch.nn.Linear)]
    with torch.no_grad():
        linears[0].weight[:5] = 0.0          # 5 dead neurons
        linears[0].weight[5:, :10] = 0.0      # and a block of pruned weights
    path = str(folder / "model.onnx")
    export_onnx(model, info.input_shape, path)
    return model, path


def test_valid_model_is_verified_like_round_zero(uploaded, tmp_path, monkeypatch):
    from certprune.phases import context
    monkeypatch.setattr(context, "PROGRESS_INTERVAL_S", 0.0)   # every sample reports progress
    model, path = uploaded
    events = Events()
    payload = run_verify_model(config_for(path), str(tmp_path), events)

    assert [e["rounds"] for e in events.of("round_started")] == [1]
    samples = events.of("sample_verified")
    assert [s["index"] for s in samples] == list(range(SAMPLES))
    assert all("counterexample" not in s for s in samples), "counterexamples stay in the files, not the events"
    finished = events.of("round_finished")[0]
    assert finished["samples"] == SAMPLES
    assert finished["standardAccuracy"] == pytest.approx((SAMPLES - finished["misclassified"]) / SAMPLES)
    assert len(events.of("stability")) == 1 and events.of("finished")[0]["rounds"] == 1

    # Layer counts from the weights: fc1 24x256 with 5 rows and a 19x10 block zeroed; fc2 10x24 dense.
    fc1, fc2 = finished["layers"]
    assert (fc1["name"], fc1["weights"], fc1["channels"], fc1["remainingChannels"]) == ("fc1", 24 * 256, 24, 19)
    assert fc1["remainingWeights"] == 19 * 256 - 19 * 10
    assert (fc2["weights"], fc2["remainingWeights"], fc2["remainingChannels"]) == (240, 240, 10)
    assert payload["remainingRatio"] == pytest.approx((19 * 246 + 240) / (24 * 256 + 240))
    # Nothing was pruned here: the scope is the whole network; no channel claim, no training.
    assert finished["sparsity"] == {"scope": {"remaining": 19 * 246 + 240, "total": 24 * 256 + 240},
                                    "all": {"remaining": 19 * 246 + 240, "total": 24 * 256 + 240}, "channels": None}
    assert not events.of("epoch") and not [e for e in events.of("progress") if e["phase"] == "train"]
    done = events.of("finished")[0]
    assert done["bestRound"] == (0 if finished["verifiedAccuracy"] is not None else None)
    assert done["indistinguishableRounds"] == [] and "McNemar" in done["bestRoundRule"]
    phases = {(e["round"], e["phase"]) for e in events.of("log")}
    assert {(0, "setup"), (0, "stability"), (0, "verify")} <= phases
    progress = [(e["round"], e["phase"], e["done"], e["total"]) for e in events.of("progress")]
    assert progress == [(0, "verify", n, SAMPLES) for n in range(1, SAMPLES + 1)]

    # The files the server's audit reads: the model copy, the samples, counterexamples that hold up.
    with open(path, "rb") as a, open(tmp_path / "round_0" / "model.onnx", "rb") as b:
        assert a.read() == b.read()
    stored = json.loads((tmp_path / "verification_samples.json").read_text())
    test = load_dataset("synthetic", "test").subset(SAMPLES)  # as the engine picks them
    assert stored["shape"] == [1, 16, 16] and stored["labels"] == test.labels.tolist()
    assert np.allclose(np.array(stored["images"]), test.images.reshape(SAMPLES, -1).numpy(), atol=0)
    results = json.loads((tmp_path / "round_0" / "verification.json").read_text())["results"]
    assert [r["status"] for r in results] == [s["status"] for s in samples]
    falsified = [r for r in results if r["status"] == "falsified"]
    for r in falsified:
        x0 = test.images[r["index"]].reshape(-1)
        x = torch.tensor(r["counterexample"], dtype=torch.float32)
        assert bool(((x >= (x0 - 0.08).clamp(0, 1) - 1e-6) & (x <= (x0 + 0.08).clamp(0, 1) + 1e-6)).all())
        with torch.no_grad():
            logits = model(x.reshape(1, 1, 16, 16))[0]
        assert int(logits.argmax()) != r["label"] or logits.max() == logits[r["label"]]
    assert all(r["counterexample"] is None for r in results if r["status"] != "falsified")


def _run_cli(tmp_path, model_path):
    config = tmp_path / "config.json"
    config.write_text(json.dumps(config_for(model_path)))
    done = subprocess.run([ENGINE, "run", "--config", str(config), "--out", str(tmp_path / "out")],
                          capture_output=True, text=True, timeout=120)
    events = [json.loads(line) for line in done.stdout.splitlines() if line.strip()]
    return done.returncode, events


def test_malformed_file_fails_with_a_clear_reason(tmp_path):
    bad = tmp_path / "bad.onnx"
    bad.write_bytes(b"this is not an ONNX model\n" * 4)
    code, events = _run_cli(tmp_path, bad)
    assert code == 1
    failed = events[-1]
    assert failed["type"] == "failed" and "cannot read ONNX model" in failed["reason"], failed["reason"]
    plan = events[0]["plan"]                       # stated before the model is read: no training claims
    assert (plan["kind"], plan["rounds"], plan["epochs"], plan["lr"], plan["trainEps"]) == ("uploaded-model", 1, 0,
                                                                                           None, None)
    assert not any(e["type"] == "sample_verified" for e in events)


def test_unsupported_operator_is_named(tmp_path):
    w = numpy_helper.from_array(np.zeros((10, 256), dtype=np.float32), "w")
    nodes = [helper.make_node("Flatten", ["x"], ["f"], axis=1), helper.make_node("Sigmoid", ["f"], ["s"]),
             helper.make_node("Gemm", ["s", "w"], ["y"], transB=1)]
    graph = helper.make_graph(nodes, "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 1, 16, 16])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", 10])], initializer=[w])
    path = tmp_path / "sigmoid.onnx"
    onnx.save(helper.make_model(graph), str(path))
    code, events = _run_cli(tmp_path, path)
    assert code == 1
    assert "unsupported ONNX operator Sigmoid at node 1" in events[-1]["reason"], events[-1]["reason"]


def test_wrong_input_shape_names_both_shapes(uploaded, tmp_path):
    info = dataset_info("synthetic")
    model = build_model("mlp", (1, 8, 8), info.num_classes, info.mean, info.std, [6]).eval()
    path = str(tmp_path / "small.onnx")
    export_onnx(model, (1, 8, 8), path)
    assert load_onnx(path)[1] == (1, 8, 8)
    with pytest.raises(ValueError, match=r"shape \(1, 8, 8\) but dataset synthetic has \(1, 16, 16\)"):
        run_verify_model(config_for(path), str(tmp_path / "out"), Events())
