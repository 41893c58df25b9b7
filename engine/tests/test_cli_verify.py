"""The verify and bounds commands on files the tests create (VNN-COMP answers and errors)."""
import json
import os
import subprocess
import sys

import numpy as np
import onnx
import pytest
import torch
from onnx import TensorProto, helper

from certprune.commands import bounds as bounds_cmd
from certprune.commands import verify as verify_cmd
from certprune.onnx_io import export_onnx
from certprune.vnnlib import write_vnnlib
from test_bounds_nets import random_mlp, single_thread  # noqa: F401 (fixture)

ENGINE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.path.join(ENGINE, "bin", "certprune-engine")


class Args:
    def __init__(self, **kw):
        defaults = dict(timeout=30.0, result_file=None, mode="bab", device="cpu", pgd_steps=20, pgd_restarts=5,
                        batch=None, method="crown", alpha_iterations=10)
        defaults.update(kw)
        self.__dict__.update(defaults)


@pytest.fixture(scope="module")
def instance(tmp_path_factory):
    """A small MLP in ONNX and two properties: a robust one (tiny eps) and a breakable one."""
    d = tmp_path_factory.mktemp("instance")
    gen = torch.Generator().manual_seed(5)
    model = random_mlp(gen, (1, 2, 3), (8, 8), 3)
    x = torch.rand(1, 2, 3, generator=gen)
    with torch.no_grad():
        label = int(model(x.unsqueeze(0)).argmax())
    onnx_path = str(d / "m.onnx")
    export_onnx(model, (1, 2, 3), onnx_path)
    paths = {"onnx": onnx_path, "model": model, "x": x, "label": label}
    for name, eps in (("robust", 1e-3), ("broken", 1.0)):
        lo, hi = (x - eps).clamp(0, 1), (x + eps).clamp(0, 1)
        paths[name] = write_vnnlib(str(d / f"{name}.vnnlib"), lo.numpy(), hi.numpy(), label, 3)
        paths[name + "_box"] = (lo, hi)
    return paths


def _parse_counterexample(text):
    values = dict((name, float(v)) for name, v in
                  (entry.strip("() ").split() for entry in text.strip()[1:-1].split("\n")))
    xs = np.array([values[f"X_{i}"] for i in range(sum(k.startswith("X_") for k in values))])
    ys = np.array([values[f"Y_{j}"] for j in range(sum(k.startswith("Y_") for k in values))])
    return xs, ys


def test_verify_answers_unsat_and_sat_with_a_checked_counterexample(instance, capsys, tmp_path):
    assert verify_cmd.main(Args(onnx=instance["onnx"], vnnlib=instance["robust"])) == 0
    assert capsys.readouterr().out.strip() == "unsat"
    result_file = str(tmp_path / "result.txt")
    assert verify_cmd.main(Args(onnx=instance["onnx"], vnnlib=instance["broken"], result_file=result_file)) == 0
    out = capsys.readouterr().out
    assert out.startswith("sat\n") and open(result_file).read() == out
    xs, ys = _parse_counterexample(out[4:])
    lo, hi = instance["broken_box"]
    assert np.all(xs >= lo.numpy().reshape(-1) - 1e-7) and np.all(xs <= hi.numpy().reshape(-1) + 1e-7)
    with torch.no_grad():
        logits = instance["model"](torch.tensor(xs, dtype=torch.float32).reshape(1, 1, 2, 3))[0].numpy()
    assert np.allclose(logits, ys, atol=1e-5)
    label = instance["label"]
    assert max(ys[j] for j in range(3) if j != label) >= ys[label], "the counterexample must reach the region"


def test_incomplete_mode_answers_unknown_when_unproven(instance, capsys, tmp_path):
    """A box IBP cannot prove and whose centre is classified correctly: with no attack
    steps, mode ibp must answer unknown (never unsat)."""
    from certprune.bounds import compute_bounds, margin_spec
    model, x, label = instance["model"], instance["x"], instance["label"]
    for eps in (0.02, 0.05, 0.1, 0.2, 0.3, 0.4):
        lo, hi = (x - eps).clamp(0, 1), (x + eps).clamp(0, 1)
        with torch.no_grad():
            centre_ok = int(model(((lo + hi) / 2).unsqueeze(0)).argmax()) == label
            ibp = compute_bounds(model, lo.unsqueeze(0), hi.unsqueeze(0), "ibp", spec=margin_spec(torch.tensor([label]), 3))
        if centre_ok and float(ibp.lower.min()) < 0:
            break
    else:
        pytest.skip("no suitable eps for this network")
    path = write_vnnlib(str(tmp_path / "mid.vnnlib"), lo.numpy(), hi.numpy(), label, 3)
    assert verify_cmd.main(Args(onnx=instance["onnx"], vnnlib=path, mode="ibp", pgd_steps=0, pgd_restarts=1)) == 0
    assert capsys.readouterr().out.strip() == "unknown"


def _write_graph(path, nodes, n_in=6, n_out=3):
    graph = helper.make_graph(nodes, "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, n_in])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, n_out])])
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)]), path)
    return path


@pytest.mark.parametrize("case, message", [
    ("garbage", "error: cannot read ONNX model"),
    ("unsupported", "error: unsupported ONNX operator Tanh at node 0"),
    ("bad_vnnlib", "error: "),
    ("wrong_inputs", "error: the property declares 6 inputs"),
])
def test_errors_are_one_clear_line(instance, capsys, tmp_path, case, message):
    onnx_path, vnnlib_path = instance["onnx"], instance["robust"]
    if case == "garbage":
        onnx_path = str(tmp_path / "garbage.onnx")
        with open(onnx_path, "wb") as f:
            f.write(b"\x08\x07not an onnx model\xff" * 4)
    elif case == "unsupported":
        onnx_path = _write_graph(str(tmp_path / "tanh.onnx"), [helper.make_node("Tanh", ["x"], ["y"])])
    elif case == "bad_vnnlib":
        vnnlib_path = str(tmp_path / "bad.vnnlib")
        with open(vnnlib_path, "w") as f:
            f.write("(declare-const X_0 Real)\n(assert (<= X_0 1.0)\n")
    elif case == "wrong_inputs":
        vnnlib_path = write_vnnlib(str(tmp_path / "seven.vnnlib"), np.zeros(7), np.ones(7), 0, 3)
        message = "error: the property declares 7 inputs X_i but the model takes 6"
    for command, extra in ((verify_cmd, {}), (bounds_cmd, {})):
        assert command.main(Args(onnx=onnx_path, vnnlib=vnnlib_path, **extra)) == 2
        out = capsys.readouterr().out.strip()
        assert out.startswith(message) and "\n" not in out, out


def test_bounds_in_process_contain_samples(instance, capsys):
    for method in ("ibp", "crown", "alpha-crown"):
        assert bounds_cmd.main(Args(onnx=instance["onnx"], vnnlib=instance["broken"], method=method)) == 0
        report = json.loads(capsys.readouterr().out)
        assert report["method"] == method and len(report["constraints"]) == 2
        lo, hi = instance["broken_box"]
        pts = lo + torch.rand(2000, 1, 2, 3) * (hi - lo)
        with torch.no_grad():
            logits = instance["model"](pts)
        label = instance["label"]
        others = [j for j in range(3) if j != label]
        for c, j in zip(report["constraints"], others):
            values = logits[:, label] - logits[:, j]  # the row of "Y_j >= Y_label" is Y_label - Y_j
            assert c["lower"] <= float(values.min()) + 1e-5 and float(values.max()) <= c["upper"] + 1e-5
        for layer in report["layers"]:
            assert layer["active"] + layer["inactive"] + layer["unstable"] == layer["neurons"]


def test_real_commands_via_subprocess(instance):
    env = dict(os.environ, CERTPRUNE_THREADS="1")
    out = subprocess.run([BIN, "verify", "--onnx", instance["onnx"], "--vnnlib", instance["robust"],
                          "--timeout", "60", "--device", "cpu"], capture_output=True, text=True, env=env, timeout=300)
    assert out.returncode == 0 and out.stdout.strip() == "unsat", out.stderr
    out = subprocess.run([BIN, "bounds", "--onnx", instance["onnx"], "--vnnlib", instance["robust"],
                          "--method", "ibp", "--device", "cpu"], capture_output=True, text=True, env=env, timeout=300)
    assert out.returncode == 0, out.stderr
    report = json.loads(out.stdout)
    assert all(c["lower"] > 0 for c in report["constraints"]) and all(c["proven"] for c in report["clauses"])


def _union_vnnlib(path, boxes, label, num_classes=3):
    """An input region that is a union of boxes (ACAS Xu prop_6's form)."""
    n = boxes[0][0].size
    lines = [f"(declare-const X_{i} Real)" for i in range(n)] + [f"(declare-const Y_{j} Real)" for j in range(num_classes)]
    cases = []
    for lo, hi in boxes:
        atoms = " ".join(f"(<= X_{i} {float(h)!r}) (>= X_{i} {float(l)!r})" for i, (l, h) in enumerate(zip(lo, hi)))
        cases.append(f"(and {atoms})")
    lines.append("(assert (or " + " ".join(cases) + "))")
    lines.append("(assert (or " + " ".join(f"(and (>= Y_{j} Y_{label}))" for j in range(num_classes) if j != label) + "))")
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")
    return path


def test_union_of_boxes_is_unsat_only_if_every_box_is(instance, capsys, tmp_path):
    x, label = instance["x"].numpy().reshape(-1), instance["label"]
    tight = ((x - 1e-3).clip(0, 1), (x + 1e-3).clip(0, 1))
    tight2 = ((x - 2e-3).clip(0, 1), (x - 1e-3).clip(0, 1))
    wide = (np.zeros_like(x), np.ones_like(x))
    both_robust = _union_vnnlib(str(tmp_path / "robust.vnnlib"), [tight, tight2], label)
    assert verify_cmd.main(Args(onnx=instance["onnx"], vnnlib=both_robust)) == 0
    assert capsys.readouterr().out.strip() == "unsat"
    one_broken = _union_vnnlib(str(tmp_path / "broken.vnnlib"), [tight, wide], label)
    assert verify_cmd.main(Args(onnx=instance["onnx"], vnnlib=one_broken)) == 0
    out = capsys.readouterr().out
    assert out.startswith("sat\n")
    xs, ys = _parse_counterexample(out[4:])
    assert max(ys[j] for j in range(3) if j != label) >= ys[label]
    assert not np.all((xs >= tight[0] - 1e-7) & (xs <= tight[1] + 1e-7)), "the robust box has no counterexample"


def test_flat_rank_one_input(capsys, tmp_path):
    """An ONNX input of shape [n] (no batch axis), as some VNN-COMP networks have."""
    from onnx import numpy_helper
    rng = np.random.default_rng(2)
    w1, b1, w2 = rng.normal(size=(4, 6)), rng.normal(size=6), rng.normal(size=(6, 3))
    graph = helper.make_graph(
        [helper.make_node("MatMul", ["x", "w1"], ["h"]), helper.make_node("Add", ["h", "b1"], ["h2"]),
         helper.make_node("Relu", ["h2"], ["r"]), helper.make_node("MatMul", ["r", "w2"], ["y"])], "flat",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [4])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [3])],
        initializer=[numpy_helper.from_array(v.astype(np.float32), k) for k, v in (("w1", w1), ("b1", b1), ("w2", w2))])
    path = str(tmp_path / "flat.onnx")
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)]), path)
    x = rng.uniform(size=4)
    label = int(np.argmax(np.maximum(x @ w1 + b1, 0) @ w2))
    spec = write_vnnlib(str(tmp_path / "p.vnnlib"), x - 1e-4, x + 1e-4, label, 3)
    assert verify_cmd.main(Args(onnx=path, vnnlib=spec)) == 0
    assert capsys.readouterr().out.strip() == "unsat"


def test_box_is_rounded_outwards_to_float32():
    lower = np.array([0.1, -0.3, 1 / 3, 0.5])
    upper = np.array([0.2, -0.1, 2 / 3, 0.5])
    lo, hi = verify_cmd.box_tensors(lower, upper, (4,), "cpu")
    assert np.all(lo.double().numpy().reshape(-1) <= lower) and np.all(hi.double().numpy().reshape(-1) >= upper)
    assert float(lo[0, 3]) == 0.5 and float(hi[0, 3]) == 0.5  # exact values stay exact


def test_a_small_model_is_verified_on_one_cpu_thread(instance, monkeypatch):
    """load_model counts the forward pass's MACs and keeps a small network to one thread
    (every VNN-COMP 2021 kit network is small); a large one gets every core, and
    CERTPRUNE_THREADS always wins."""
    from certprune.device import SMALL_MODEL_MACS, threads_for_model, use_all_cores
    from certprune.flops import MacCounter, forward_macs
    before = torch.get_num_threads()
    cpu = torch.device("cpu")
    try:
        monkeypatch.delenv("CERTPRUNE_THREADS", raising=False)
        cores = use_all_cores()
        verify_cmd.load_model(instance["onnx"], cpu)
        assert torch.get_num_threads() == 1
        assert threads_for_model(SMALL_MODEL_MACS, cpu) == cores
        assert threads_for_model(SMALL_MODEL_MACS - 1, cpu) == 1
        monkeypatch.setenv("CERTPRUNE_THREADS", "2")
        assert threads_for_model(10, cpu) == 2
    finally:
        torch.set_num_threads(before)
    # The hooks' count is what the dispatcher sees run (certprune.flops.MacCounter).
    from certprune.models import build_model
    for model, x in ((instance["model"], instance["x"].unsqueeze(0)),
                     (build_model("cnn4", (1, 28, 28), 10).eval(), torch.rand(1, 1, 28, 28))):
        with torch.no_grad(), MacCounter() as counter:
            model(x)
        assert forward_macs(model, x) == counter.total > 0
