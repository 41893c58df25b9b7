"""ONNX export/import: round trips keep logits and bounds; unsupported input fails clearly."""
import numpy as np
import onnx
import pytest
import torch
from onnx import TensorProto, helper, numpy_helper
from torch import nn

from certprune.bounds import compute_bounds
from certprune.onnx_io import OnnxError, export_onnx, load_onnx
from test_bounds_nets import random_cnn, random_mlp, single_thread  # noqa: F401 (fixture)


def _close(a, b, tol=1e-5):
    return bool(((a - b).abs() <= tol * (1 + b.abs())).all())


@pytest.mark.parametrize("kind", ["cnn", "mlp"])
def test_round_trip_keeps_logits_and_bounds(tmp_path, kind):
    gen = torch.Generator().manual_seed(7)
    shape = (2, 9, 9) if kind == "cnn" else (1, 4, 4)
    model = random_cnn(gen, shape, 4) if kind == "cnn" else random_mlp(gen, shape, (12, 8), 4)
    path = str(tmp_path / "m.onnx")
    export_onnx(model, shape, path)
    onnx.checker.check_model(onnx.load(path))
    loaded, input_shape = load_onnx(path)
    assert input_shape == shape
    assert not any(isinstance(m, nn.BatchNorm2d) for m in loaded), "BatchNorm must be folded on export"
    x = torch.rand(5, *shape, generator=gen)
    with torch.no_grad():
        assert _close(loaded(x), model(x))
    lo, hi = (x - 0.03).clamp(0, 1), (x + 0.03).clamp(0, 1)
    for method in ("ibp", "crown", "alpha-crown"):
        a = compute_bounds(model, lo, hi, method=method, alpha_iterations=5)
        b = compute_bounds(loaded, lo, hi, method=method, alpha_iterations=5)
        assert _close(b.lower, a.lower) and _close(b.upper, a.upper), method


def _save(tmp_path, nodes, inits, in_shape, out_dim, name="g.onnx"):
    graph = helper.make_graph(nodes, "t", [helper.make_tensor_value_info("x", TensorProto.FLOAT, in_shape)],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, out_dim])],
                              initializer=[numpy_helper.from_array(np.asarray(v, dtype=np.float32), k)
                                           if not k.startswith("shape") else
                                           numpy_helper.from_array(np.asarray(v, dtype=np.int64), k)
                                           for k, v in inits.items()])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    path = str(tmp_path / name)
    onnx.save(model, path)
    return path


def test_import_covers_the_operator_list(tmp_path):
    """Flat input -> Reshape -> Sub(const, x) -> Div -> BatchNormalization -> Conv -> Relu -> Flatten
    -> Identity -> MatMul -> Add (Constant node) -> Relu -> Gemm(transB=0, alpha, beta) -> Mul."""
    rng = np.random.default_rng(0)
    conv_w, conv_b = rng.normal(size=(3, 2, 3, 3)), rng.normal(size=3)
    mm, add = rng.normal(size=(3 * 2 * 2, 5)), rng.normal(size=5)
    gw, gb = rng.normal(size=(5, 4)), rng.normal(size=4)
    bn = [rng.uniform(0.5, 1.5, 2), rng.normal(size=2), rng.normal(size=2), rng.uniform(0.5, 1.5, 2)]
    inits = {"shape": [1, 2, 4, 4], "c": 0.5, "d": 2.0, "g": bn[0], "b": bn[1], "m": bn[2], "v": bn[3],
             "cw": conv_w, "cb": conv_b, "mm": mm, "gw": gw, "gb": gb, "k": [1.0, -2.0, 0.5, 3.0]}
    nodes = [
        helper.make_node("Reshape", ["x", "shape"], ["r"]),
        helper.make_node("Sub", ["c", "r"], ["s"]),
        helper.make_node("Div", ["s", "d"], ["dv"]),
        helper.make_node("BatchNormalization", ["dv", "g", "b", "m", "v"], ["bn"], epsilon=1e-3),
        helper.make_node("Conv", ["bn", "cw", "cb"], ["cv"], pads=[0, 0, 0, 0], strides=[1, 1]),
        helper.make_node("Relu", ["cv"], ["r1"]),
        helper.make_node("Flatten", ["r1"], ["f"], axis=1),
        helper.make_node("Identity", ["f"], ["f2"]),
        helper.make_node("MatMul", ["f2", "mm"], ["h"]),
        helper.make_node("Constant", [], ["addc"], value=numpy_helper.from_array(add.astype(np.float32))),
        helper.make_node("Add", ["h", "addc"], ["h2"]),
        helper.make_node("Relu", ["h2"], ["r2"]),
        helper.make_node("Gemm", ["r2", "gw", "gb"], ["o"], alpha=2.0, beta=0.5),
        helper.make_node("Mul", ["o", "k"], ["y"]),
    ]
    path = _save(tmp_path, nodes, inits, [1, 32], 4)
    model, input_shape = load_onnx(path)
    assert input_shape == (32,)
    x = np.random.default_rng(1).uniform(size=(3, 32))
    # Reference computed by hand in numpy (float64).
    r = x.reshape(3, 2, 4, 4)
    s = (0.5 - r) / 2.0
    s = (s - bn[2][None, :, None, None]) / np.sqrt(bn[3][None, :, None, None] + 1e-3) * bn[0][None, :, None, None] \
        + bn[1][None, :, None, None]
    cv = np.zeros((3, 3, 2, 2))
    for i in range(2):
        for j in range(2):
            cv[:, :, i, j] = np.einsum("bchw,ochw->bo", s[:, :, i:i + 3, j:j + 3], conv_w) + conv_b
    h = np.maximum(cv, 0).reshape(3, -1) @ mm + add
    expected = (2.0 * np.maximum(h, 0) @ gw + 0.5 * gb) * np.array([1.0, -2.0, 0.5, 3.0])
    with torch.no_grad():
        got = model(torch.tensor(x, dtype=torch.float32)).double().numpy()
    assert np.allclose(got, expected, rtol=1e-4, atol=1e-4)
    # The bound code accepts the imported layers and its bounds contain the outputs.
    xt = torch.tensor(x[:1], dtype=torch.float32)
    b = compute_bounds(model, (xt - 0.05).clamp(0, 1), (xt + 0.05).clamp(0, 1), method="crown")
    assert bool((b.lower <= torch.tensor(expected[:1], dtype=torch.float32) + 1e-4).all())


def test_unsupported_operator_is_named_with_its_node(tmp_path):
    nodes = [helper.make_node("Relu", ["x"], ["a"], name="first"),
             helper.make_node("Sigmoid", ["a"], ["y"], name="squash")]
    path = _save(tmp_path, nodes, {}, [1, 3], 3)
    with pytest.raises(OnnxError, match=r"unsupported ONNX operator Sigmoid at node 1"):
        load_onnx(path)


def test_non_chain_graph_is_refused(tmp_path):
    nodes = [helper.make_node("Relu", ["x"], ["a"]), helper.make_node("Add", ["a", "x"], ["y"])]
    path = _save(tmp_path, nodes, {}, [1, 3], 3)
    with pytest.raises(OnnxError, match="simple chain"):
        load_onnx(path)


def test_malformed_and_missing_files(tmp_path):
    bad = tmp_path / "bad.onnx"
    bad.write_bytes(b"\x08\x07this is not a protobuf \xff\xfe" * 10)
    with pytest.raises(OnnxError, match="cannot read ONNX model|no nodes"):
        load_onnx(str(bad))
    with pytest.raises(OnnxError, match="does not exist"):
        load_onnx(str(tmp_path / "missing.onnx"))


def test_export_bundle_writes_the_boxes_verification_uses(tmp_path):
    from certprune.onnx_io import export_bundle
    from certprune.vnnlib import load_vnnlib
    gen = torch.Generator().manual_seed(8)
    model = random_mlp(gen, (1, 3, 3), (6,), 3)
    images = torch.rand(3, 1, 3, 3, generator=gen)
    labels = torch.tensor([0, 2, 1])
    paths = export_bundle(model, images, labels, 0.1, str(tmp_path / "b"), timeout=42)
    assert paths[0].endswith("onnx/model.onnx") and paths[-1].endswith("instances.csv") and len(paths) == 5
    lines = open(paths[-1]).read().splitlines()
    assert lines == [f"onnx/model.onnx,vnnlib/sample_{i}.vnnlib,42" for i in range(3)]
    for i in range(3):
        prop = load_vnnlib(paths[1 + i])
        lo = torch.tensor(prop.x_lower, dtype=torch.float32).reshape(1, 3, 3)
        hi = torch.tensor(prop.x_upper, dtype=torch.float32).reshape(1, 3, 3)
        assert torch.equal(lo, (images[i] - 0.1).clamp(0, 1)) and torch.equal(hi, (images[i] + 0.1).clamp(0, 1))
        rows = np.concatenate([c.spec for c in prop.clauses])
        assert rows.shape == (2, 3) and np.all(rows[:, int(labels[i])] == 1.0)
