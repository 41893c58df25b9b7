"""docs/extending.md's worked examples, run: a new regime, a new pruning method and a new
ONNX operator are each one file (tests/examples/, byte for byte the document's code) plus
one registry line (here: monkeypatch.setitem on the same dict, undone after the test)."""
import os
import re

import numpy as np
import onnx
import onnxruntime as ort
import pytest
import torch
from onnx import TensorProto, helper, numpy_helper

from certprune import describe, onnx_io
from certprune.bounds import compute_bounds
from certprune.data import dataset_info, load_dataset
from certprune.models import build_model
from certprune.onnx.ops import OP_TABLE
from certprune.pruning import (METHODS, PruneSettings, apply_mask, count_channels, default_rate, dense_mask,
                               get_method, is_channel_method, shrink)
from certprune.pruning.inputs import prune_data
from certprune.train import REGIMES, TrainingSettings, train
from examples import l1_channel, neg_op, uniform_noise

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
EXAMPLES = os.path.join(ROOT, "engine", "tests", "examples")


def _doc_examples() -> dict:
    """{example file name: code} of every ```python block after an <!-- example: NAME --> marker."""
    with open(os.path.join(ROOT, "docs", "extending.md"), encoding="utf-8") as f:
        text = f.read()
    return {name: code for name, code in re.findall(r"<!-- example: (\S+) -->\s*```python\n(.*?)```", text, re.S)}


def test_the_document_shows_the_tested_files_byte_for_byte():
    shown = _doc_examples()
    assert sorted(shown) == ["l1_channel.py", "neg_op.py", "uniform_noise.py"]
    for name, code in shown.items():
        with open(os.path.join(EXAMPLES, name), encoding="utf-8") as f:
            assert code == f.read(), f"docs/extending.md's {name} differs from engine/tests/examples/{name}"


# --- a regime ------------------------------------------------------------------------------

def test_a_new_regime_trains_and_is_described(monkeypatch):
    monkeypatch.setitem(REGIMES, uniform_noise.REGIME.name, uniform_noise.REGIME)   # the registry line
    train_ds, test_ds = load_dataset("synthetic", "train", size=1000), load_dataset("synthetic", "test", size=200)
    settings = TrainingSettings.from_config({"regime": "uniform-noise", "epochs": 3, "lrMilestones": [],
                                             "eps": 0.1, "epsStart": 1, "epsLength": 0}, train_ds.info)
    assert (settings.lr, settings.weight_decay) == (0.01, 5e-4)    # the record's optimizer defaults
    assert not settings.certified
    info = dataset_info("synthetic")
    torch.manual_seed(0)
    model = build_model("cnn4", info.input_shape, info.num_classes, info.mean, info.std)
    events, progress = [], []
    result = train(model, train_ds, test_ds, settings, on_epoch=events.append, device="cpu",
                   on_batch=lambda epoch, done, total: progress.append((epoch, done, total)))
    assert [e["epoch"] for e in events] == [1, 2, 3] and result.best_epoch == 3
    assert events[-1]["testAccuracy"] > 0.5 and events[-1]["robustAccuracy"] is not None   # chance: 0.1
    assert progress[0] == (1, 1, 8) and progress[-1] == (3, 8, 8) and len(progress) == 24
    assert {"name": "uniform-noise", "label": "Uniform noise", "help": uniform_noise.REGIME.help, "certified": False,
            "optimizer": "SGD", "lr": 0.01, "weightDecay": 5e-4} in describe.describe()["regimes"]


# --- a pruning method ----------------------------------------------------------------------

def test_a_new_pruning_method_prunes_channels_and_is_described(monkeypatch):
    monkeypatch.setitem(METHODS, l1_channel.L1_CHANNEL.name, l1_channel.L1_CHANNEL)   # the registry line
    assert is_channel_method("l1-channel") and default_rate("l1-channel") == 0.11
    info = dataset_info("synthetic")
    torch.manual_seed(1)
    model = build_model("cnn4", info.input_shape, info.num_classes, info.mean, info.std).eval()
    conv = model[1]                                   # 16 filters; make filter 5 the smallest, 9 the largest
    with torch.no_grad():
        conv.weight[5].mul_(1e-3)
        conv.weight[9].mul_(1e3)
    data = prune_data("l1-channel", load_dataset("synthetic", "train", size=64), TrainingSettings(), torch.device("cpu"),
                      None, torch.Generator().manual_seed(0))
    assert data.batches == () and data.loss is None    # needs nothing: nothing prepared
    mask = get_method("l1-channel")(model, dense_mask(model), PruneSettings(target_ratio=0.89, scope="conv"), data)
    alive, total = count_channels(model, mask, "conv")
    assert (alive, total) == (round(0.89 * 48), 48)
    assert not bool(mask["1.weight"][5].any()) and bool(mask["1.weight"][9].all())
    apply_mask(model, mask)
    small = shrink(model)
    x = torch.rand(4, *info.input_shape)
    assert torch.allclose(model(x), small(x), atol=1e-5)
    described = {m["name"]: m for m in describe.describe()["pruningMethods"]}
    assert described["l1-channel"]["structured"] and described["l1-channel"]["defaultRate"] == 0.11


# --- an ONNX operator ----------------------------------------------------------------------

def _neg_model(path):
    gen = np.random.default_rng(0)
    w1, b1 = gen.normal(size=(6, 4)).astype(np.float32), gen.normal(size=6).astype(np.float32)
    w2, b2 = gen.normal(size=(3, 6)).astype(np.float32), gen.normal(size=3).astype(np.float32)
    nodes = [helper.make_node("Gemm", ["x", "w1", "b1"], ["h"], transB=1), helper.make_node("Neg", ["h"], ["n"]),
             helper.make_node("Relu", ["n"], ["r"]), helper.make_node("Gemm", ["r", "w2", "b2"], ["y"], transB=1)]
    inits = [numpy_helper.from_array(v, k) for k, v in {"w1": w1, "b1": b1, "w2": w2, "b2": b2}.items()]
    graph = helper.make_graph(nodes, "neg", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 3])], initializer=inits)
    proto = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    proto.ir_version = 8
    onnx.save(proto, str(path))
    return str(path)


def test_a_new_onnx_operator_imports_and_bounds_soundly(tmp_path, monkeypatch):
    path = _neg_model(tmp_path / "neg.onnx")
    with pytest.raises(onnx_io.OnnxError, match="unsupported ONNX operator Neg at node 1"):
        onnx_io.load_onnx(path)
    monkeypatch.setitem(OP_TABLE, "Neg", neg_op._neg)                                    # the table line
    monkeypatch.setattr(onnx_io, "SUPPORTED_OPS", onnx_io.SUPPORTED_OPS + ("Neg",))      # onnx-operators.json
    model, shape = onnx_io.load_onnx(path)
    assert shape == (4,)
    session = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
    for x in torch.rand(8, 1, 4) * 2 - 1:           # the input is [1, 4]: one sample per run
        expected = session.run(None, {"x": x.numpy()})[0]
        assert np.allclose(model(x).detach().numpy(), expected, atol=1e-5)
    center, eps = torch.full((1, 4), 0.5), 0.1
    for method in ("ibp", "crown"):
        bounds = compute_bounds(model, center - eps, center + eps, method=method)
        samples = model(center + (torch.rand(500, 4) * 2 - 1) * eps).detach()
        assert bool((samples >= bounds.lower - 1e-5).all()) and bool((samples <= bounds.upper + 1e-5).all()), method
