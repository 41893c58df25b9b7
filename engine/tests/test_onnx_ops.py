"""The ONNX op table on graphs as VNN-COMP ships them: every imported model computes what
onnxruntime computes, its bounds contain sampled outputs, MaxPool's ReLU form is exact
inside branch and bound, and unsupported forms fail with a message naming the node."""
import json
import os

import numpy as np
import onnx
import onnxruntime as ort
import pytest
import torch
from onnx import TensorProto, helper, numpy_helper

from certprune.bounds import compute_bounds
from certprune.onnx.constants import CONSTANT_OPS
from certprune.onnx.ops import OP_TABLE
from certprune.onnx_io import SUPPORTED_OPS, OnnxError, load_onnx
from test_bounds_nets import single_thread  # noqa: F401 (fixture)

ENGINE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _save(path, nodes, in_shape, inits=None, out_name="y", opset=13):
    inits = inits or {}
    tensors = [numpy_helper.from_array(np.asarray(v, dtype=np.int64 if k.startswith("i_") else np.float32), k)
               for k, v in inits.items()]
    graph = helper.make_graph(nodes, "t", [helper.make_tensor_value_info("x", TensorProto.FLOAT, in_shape)],
                              [helper.make_tensor_value_info(out_name, TensorProto.FLOAT, None)], initializer=tensors)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])
    model.ir_version = 8
    onnx.save(model, str(path))
    return str(path)


def _check(path, lo=0.0, hi=1.0, samples=200, eps=0.05, methods=("ibp", "crown", "alpha-crown")):
    """The imported model equals onnxruntime on random inputs; bounds contain samples."""
    model, shape = load_onnx(path)
    sess = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
    inp = sess.get_inputs()[0]
    full = [d if isinstance(d, int) else 1 for d in inp.shape]
    rng = np.random.default_rng(0)
    for _ in range(5):
        x = rng.uniform(lo, hi, size=full).astype(np.float32)
        ref = sess.run(None, {inp.name: x})[0].reshape(-1)
        with torch.no_grad():
            got = model(torch.tensor(x).reshape(1, *shape))[0].numpy()
        assert np.allclose(got, ref, rtol=1e-5, atol=1e-5), (got, ref)
    centre = torch.tensor(rng.uniform(lo, hi, size=full).astype(np.float32)).reshape(1, *shape)
    xl, xu = centre - eps, centre + eps
    points = xl + torch.rand(samples, *shape, generator=torch.Generator().manual_seed(1)) * (xu - xl)
    with torch.no_grad():
        outs = model(points)
    for method in methods:
        b = compute_bounds(model, xl, xu, method=method, alpha_iterations=5)
        assert bool((b.lower[0] <= outs.min(0).values + 1e-5).all()), method
        assert bool((outs.max(0).values <= b.upper[0] + 1e-5).all()), method
    return model, shape


def test_operator_list_is_the_op_table():
    listed = json.load(open(os.path.join(ENGINE, "schemas", "onnx-operators.json")))["operators"]
    assert set(listed) == set(OP_TABLE) | set(CONSTANT_OPS) and len(listed) == len(set(listed))
    assert tuple(listed) == SUPPORTED_OPS


@pytest.mark.parametrize("in_shape, expected", [
    ([5], (5,)), ([1], (1,)), ([1, 5], (5,)), (["N", 5], (5,)), ([1, 1, 1, 5], (1, 1, 5)),
])
def test_flat_inputs_of_any_rank(tmp_path, in_shape, expected):
    """ACAS Xu style: Sub (normalisation), Flatten (when rank > 1), MatMul + Add, Relu, MatMul."""
    n = expected[-1] if expected != (1,) else 1
    rng = np.random.default_rng(3)
    full = [1 if isinstance(d, str) else d for d in in_shape]
    inits = {"avg": rng.normal(size=full), "w1": rng.normal(size=(n, 7)), "b1": rng.normal(size=7),
             "w2": rng.normal(size=(7, 3))}
    nodes = [helper.make_node("Sub", ["x", "avg"], ["s"])]
    data = "s"
    if len(in_shape) > 1:
        nodes.append(helper.make_node("Flatten", ["s"], ["f"], axis=1))
        data = "f"
    nodes += [helper.make_node("MatMul", [data, "w1"], ["h"]), helper.make_node("Add", ["h", "b1"], ["h2"]),
              helper.make_node("Relu", ["h2"], ["r"]), helper.make_node("MatMul", ["r", "w2"], ["y"])]
    model, shape = _check(_save(tmp_path / "flat.onnx", nodes, in_shape, inits))
    assert shape == expected


def test_channels_last_transpose_and_shape_arithmetic(tmp_path):
    """Marabou CIFAR-10 style: (N, H, W, C) input, Transpose to NCHW, Conv, Relu, Transpose back,
    Reshape to (-1, K) (the target computed by Shape -> Gather -> Unsqueeze -> Concat), MatMul."""
    rng = np.random.default_rng(4)
    inits = {"cw": rng.normal(size=(4, 3, 3, 3)), "cb": rng.normal(size=4), "i_idx": 0, "i_rest": [-1],
             "w": rng.normal(size=(4 * 3 * 3, 5))}
    nodes = [
        helper.make_node("Transpose", ["x"], ["t"], perm=[0, 3, 1, 2]),
        helper.make_node("Conv", ["t", "cw", "cb"], ["c"], strides=[2, 2]),
        helper.make_node("Relu", ["c"], ["r"]),
        helper.make_node("Transpose", ["r"], ["t2"], perm=[0, 2, 3, 1]),
        helper.make_node("Shape", ["t2"], ["sh"]),
        helper.make_node("Gather", ["sh", "i_idx"], ["n"], axis=0),
        helper.make_node("Unsqueeze", ["n"], ["n1"], axes=[0]),
        helper.make_node("Concat", ["n1", "i_rest"], ["target"], axis=0),
        helper.make_node("Reshape", ["t2", "target"], ["f"]),
        helper.make_node("MatMul", ["f", "w"], ["y"]),
    ]
    _, shape = _check(_save(tmp_path / "nhwc.onnx", nodes, ["unk__17", 7, 7, 3], inits, opset=11))
    assert shape == (7, 7, 3)


def test_pad_and_average_pool(tmp_path):
    """VeriVital avgpool style (Pad of zeros, AveragePool 2x2/2) plus an asymmetric Pad and
    an AveragePool with uncounted padding (border windows average fewer values)."""
    rng = np.random.default_rng(5)
    inits = {"cw": rng.normal(size=(3, 1, 2, 2)), "cb": rng.normal(size=3), "i_pads": [0, 0, 1, 0, 0, 0, 0, 1],
             "gw": rng.normal(size=(5, 3 * 3 * 3)), "gb": rng.normal(size=5)}
    nodes = [
        helper.make_node("Conv", ["x", "cw", "cb"], ["c"]),
        helper.make_node("Relu", ["c"], ["r"]),
        helper.make_node("Pad", ["r", "i_pads"], ["p"], mode="constant"),
        helper.make_node("AveragePool", ["p"], ["a"], kernel_shape=[2, 2], strides=[2, 2]),
        helper.make_node("AveragePool", ["a"], ["a2"], kernel_shape=[3, 3], strides=[1, 1], pads=[1, 1, 1, 1]),
        helper.make_node("Flatten", ["a2"], ["f"]),
        helper.make_node("Gemm", ["f", "gw", "gb"], ["y"], transB=1),
    ]
    _check(_save(tmp_path / "avg.onnx", nodes, [1, 1, 6, 6], inits))


def test_concat_with_constants_and_valued_pad(tmp_path):
    """Concat of the data with constants (before and after it) and Pad with a non-zero
    value are affine maps: exact forward, sound bounds."""
    rng = np.random.default_rng(11)
    inits = {"a": rng.normal(size=(1, 2, 3)), "b": rng.normal(size=(1, 1, 3)), "i_p": [0, 1, 0, 0, 0, 2],
             "v": np.float32(-0.75), "w": rng.normal(size=(30, 4))}
    nodes = [helper.make_node("Concat", ["a", "x", "b"], ["c"], axis=1),  # (1, 2 + 2 + 1, 3)
             helper.make_node("Relu", ["c"], ["r"]),
             helper.make_node("Pad", ["r", "i_p", "v"], ["p"], mode="constant"),  # (1, 6, 5)
             helper.make_node("Flatten", ["p"], ["f"]),
             helper.make_node("MatMul", ["f", "w"], ["y"])]
    _check(_save(tmp_path / "concat.onnx", nodes, [1, 2, 3], inits), lo=-1.0)


@pytest.mark.parametrize("auto_pad", ["SAME_UPPER", "SAME_LOWER", "VALID"])
def test_conv_and_pool_auto_pad(tmp_path, auto_pad):
    rng = np.random.default_rng(10)
    nodes = [helper.make_node("Conv", ["x", "cw"], ["c"], strides=[2, 2], auto_pad=auto_pad),
             helper.make_node("Relu", ["c"], ["r"]),
             helper.make_node("MaxPool", ["r"], ["m"], kernel_shape=[2, 2], auto_pad=auto_pad),
             helper.make_node("Flatten", ["m"], ["y"])]
    _check(_save(tmp_path / "auto.onnx", nodes, [1, 1, 6, 5], {"cw": rng.normal(size=(2, 1, 3, 2))}))


@pytest.mark.parametrize("after_relu, kernel, stride, pads", [
    (True, 4, 4, [0, 0, 0, 0]),  # VeriVital maxpool: 4x4/4 after a Relu
    (True, 3, 2, [1, 1, 1, 1]),  # odd window (a leftover per tree level), zero padding after a Relu
    (False, 2, 2, [0, 0, 0, 0]),  # signed inputs: relu(b) - relu(-b) channels
    (False, 3, 1, [0, 0, 0, 0]),
])
def test_max_pool_is_exact(tmp_path, after_relu, kernel, stride, pads):
    rng = np.random.default_rng(6)
    inits = {"cw": rng.normal(size=(2, 1, 2, 2)), "cb": rng.normal(size=2), "gw": rng.normal(size=(8, 3))}
    nodes = [helper.make_node("Conv", ["x", "cw", "cb"], ["c"])]
    data = "c"
    if after_relu:
        nodes.append(helper.make_node("Relu", ["c"], ["r"]))
        data = "r"
    nodes += [helper.make_node("MaxPool", [data], ["m"], kernel_shape=[kernel, kernel], strides=[stride, stride],
                               pads=pads),
              helper.make_node("Flatten", ["m"], ["f"])]
    size = onnx.shape_inference.infer_shapes(onnx.load(_save(tmp_path / "probe.onnx", nodes, [1, 1, 9, 9], inits,
                                                             out_name="f")))
    flat = [d.dim_value for d in size.graph.output[0].type.tensor_type.shape.dim][1]
    inits["gw"] = rng.normal(size=(flat, 3))
    nodes.append(helper.make_node("MatMul", ["f", "gw"], ["y"]))
    model, shape = _check(_save(tmp_path / "max.onnx", nodes, [1, 1, 9, 9], inits), lo=-1.0)


@pytest.mark.parametrize("seed, eps, expected", [(22, 0.2, "verified"), (24, 0.1, "falsified")])
def test_max_pool_inside_branch_and_bound_agrees_with_sampling(tmp_path, seed, eps, expected):
    """Complete verification through the ReLU form of a signed-input MaxPool 3x3/2, with
    the attack off so that branch and bound (down to the exact LP of fully split domains)
    decides: 'verified' leaves no violating sample; 'falsified' gives a real counterexample."""
    import time
    from certprune.verify import Clause, VerifySettings, verify_box
    rng = np.random.default_rng(seed)
    inits = {"cw": rng.normal(size=(3, 1, 2, 2)), "cb": rng.normal(size=3) * 0.1,
             "gw": rng.normal(size=(3 * 2 * 2, 3)), "gb": rng.normal(size=3) * 0.1}
    nodes = [helper.make_node("Conv", ["x", "cw", "cb"], ["c"]),
             helper.make_node("MaxPool", ["c"], ["m"], kernel_shape=[3, 3], strides=[2, 2]),
             helper.make_node("Flatten", ["m"], ["f"]), helper.make_node("Gemm", ["f", "gw", "gb"], ["y"])]
    model, shape = load_onnx(_save(tmp_path / "bab.onnx", nodes, [1, 1, 6, 6], inits))
    x0 = torch.tensor(rng.uniform(0, 1, size=(1, *shape)), dtype=torch.float32)
    with torch.no_grad():
        label = int(model(x0).argmax())
    spec = torch.zeros(2, 3)
    for row, j in enumerate(j for j in range(3) if j != label):  # clause: y_label - y_j <= 0
        spec[row, label], spec[row, j] = 1.0, -1.0
    clauses = [Clause(spec[i:i + 1], torch.zeros(1)) for i in range(2)]
    lo, hi = x0 - eps, x0 + eps
    result = verify_box(model, lo, hi, clauses, "bab", deadline=time.monotonic() + 60,
                        settings=VerifySettings(pgd_steps=0, pgd_restarts=1))
    assert (result.status, result.decided_by) == (expected, "bab")
    points = lo + torch.rand(20000, *shape, generator=torch.Generator().manual_seed(2)) * (hi - lo)
    with torch.no_grad():
        margins = model(points) @ spec.T
    if result.status == "verified":
        assert bool((margins > 0).all())
    else:
        cex = result.counterexample.unsqueeze(0)
        assert bool(((cex >= lo - 1e-6) & (cex <= hi + 1e-6)).all())
        with torch.no_grad():
            assert bool(((model(cex) @ spec.T) <= 1e-6).any())


def test_grouped_conv_batchnorm_squeeze_and_gemm_trans_a(tmp_path):
    rng = np.random.default_rng(8)
    bn = [rng.uniform(0.5, 1.5, 4), rng.normal(size=4), rng.normal(size=4), rng.uniform(0.5, 1.5, 4)]
    inits = {"cw": rng.normal(size=(4, 1, 3, 3)), "g": bn[0], "b": bn[1], "m": bn[2], "v": bn[3],
             "i_ax": [0], "gw": rng.normal(size=(4 * 4 * 4, 3))}
    nodes = [
        helper.make_node("Conv", ["x", "cw"], ["c"], group=2, pads=[1, 1, 1, 1]),
        helper.make_node("BatchNormalization", ["c", "g", "b", "m", "v"], ["n"]),
        helper.make_node("Relu", ["n"], ["r"]),
        helper.make_node("Flatten", ["r"], ["f"], axis=0),  # (1, 64) at batch size 1
        helper.make_node("Transpose", ["f"], ["ft"], perm=[1, 0]),  # (64, 1)
        helper.make_node("Gemm", ["ft", "gw"], ["o"], transA=1),
        helper.make_node("Squeeze", ["o", "i_ax"], ["y"]),
    ]
    _check(_save(tmp_path / "group.onnx", nodes, [1, 2, 4, 4], inits))


@pytest.mark.parametrize("case, message", [
    ("maxpool_pads_signed", r"MaxPool at node 1: pads \[1, 1, 1, 1\].*>= 0"),
    ("reflect_pad", r"Pad at node 0.*mode 'reflect'"),
    ("concat_batch", r"Concat at node 0: concatenates along axis 0 of data \[1, 3\]"),
    ("symbolic_inner_axis", r"ONNX input x has shape \[1, 'H', 3\]: axis 1 is symbolic"),
    ("data_broadcast_up", r"Add at node 0.*changes the data's shape"),
])
def test_unsupported_forms_name_the_node(tmp_path, case, message):
    if case == "maxpool_pads_signed":
        nodes = [helper.make_node("Identity", ["x"], ["i"]),
                 helper.make_node("MaxPool", ["i"], ["y"], kernel_shape=[2, 2], pads=[1, 1, 1, 1])]
        path = _save(tmp_path / "m.onnx", nodes, [1, 1, 4, 4])
    elif case == "reflect_pad":
        nodes = [helper.make_node("Pad", ["x", "i_p"], ["y"], mode="reflect")]
        path = _save(tmp_path / "m.onnx", nodes, [1, 1, 4, 4], {"i_p": [0, 0, 1, 1, 0, 0, 1, 1]})
    elif case == "concat_batch":
        nodes = [helper.make_node("Concat", ["x", "c"], ["y"], axis=0)]
        path = _save(tmp_path / "m.onnx", nodes, [1, 3], {"c": [[1.0, 2.0, 3.0]]})
    elif case == "symbolic_inner_axis":
        nodes = [helper.make_node("Relu", ["x"], ["y"])]
        path = _save(tmp_path / "m.onnx", nodes, [1, "H", 3])
    else:
        nodes = [helper.make_node("Add", ["x", "c"], ["y"])]
        path = _save(tmp_path / "m.onnx", nodes, [1, 3], {"c": np.ones((2, 3))})
    with pytest.raises(OnnxError, match=message):
        load_onnx(path)


BENCH = os.path.join(ENGINE, "..", "..", "shared", "benchmarks", "vnncomp2021")


@pytest.mark.parametrize("name", ["verivital/Convnet_avgpool.onnx", "verivital/Convnet_maxpool.onnx",
                                  "marabou-cifar10/nets/cifar10_small.onnx",
                                  "acasxu/ACASXU_run2a_1_1_batch_2000.onnx"])
def test_vnncomp_2021_networks_match_onnxruntime(name):
    path = os.path.join(BENCH, name)
    if not os.path.exists(path):
        pytest.skip(f"{path} is not in this checkout")
    lo = -0.5 if "acasxu" in name else 0.0
    _check(path, lo=lo, hi=0.5 if "acasxu" in name else 1.0, samples=50, eps=0.002, methods=("ibp", "crown"))


def test_models_are_read_without_importing_onnx(tmp_path):
    """The verifier reads ONNX files through the protobuf classes alone (start-up time);
    tensors stored as raw bytes or as typed lists, and Constant nodes, read the same."""
    import subprocess
    import sys
    rng = np.random.default_rng(9)
    w = rng.normal(size=(4, 3)).astype(np.float32)
    nodes = [helper.make_node("Constant", [], ["k"], value=helper.make_tensor("kv", TensorProto.FLOAT, [3],
                                                                             [0.5, -1.0, 2.0])),
             helper.make_node("Constant", [], ["shape"], value_ints=[1, 4]),
             helper.make_node("Reshape", ["x", "shape"], ["r"]),
             helper.make_node("MatMul", ["r", "w"], ["h"]), helper.make_node("Add", ["h", "k"], ["h2"]),
             helper.make_node("Relu", ["h2"], ["y"])]
    graph = helper.make_graph(nodes, "t", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 2, 2])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)],
                              initializer=[helper.make_tensor("w", TensorProto.FLOAT, [4, 3], w.reshape(-1).tolist())])
    path = str(tmp_path / "lists.onnx")
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)]), path)
    model, shape = _check(path, lo=-1.0)
    x = torch.linspace(-1, 1, 4).reshape(1, *shape)
    with torch.no_grad():
        expected = model(x)[0].tolist()
    script = ("import sys, torch; from certprune.onnx_io import load_onnx; "
              f"m, s = load_onnx({path!r}); assert 'onnx' not in sys.modules, 'onnx was imported'; "
              "print(m(torch.linspace(-1, 1, 4).reshape(1, *s))[0].tolist())")
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=ENGINE, timeout=120)
    assert out.returncode == 0, out.stderr
    assert np.allclose(eval(out.stdout), expected, atol=1e-6)


@pytest.mark.parametrize("which", ["permute", "pad", "pad_fill", "grouped_conv"])
def test_new_bound_operators_are_exact_adjoints(which):
    """For the affine operators the importer adds: A . op(x) == A' . x + bias (the backward
    step is the exact adjoint), IBP contains op(x) on boxes, and centre/radius IBP agrees."""
    from certprune.bounds.operators.permute import BoundPermute
    from certprune.bounds.operators.pool import BoundGroupedConv2d, BoundPad
    from certprune.bounds.values import Interval
    gen = torch.Generator().manual_seed(12)
    if which == "permute":
        op = BoundPermute(0, (2, 3, 4), (2, 0, 1))
    elif which in ("pad", "pad_fill"):
        out_shape = (2, 3 + 1 + 2, 4 + 0 + 3)
        fill = torch.randn(out_shape, generator=gen) if which == "pad_fill" else None
        if fill is not None:
            fill[:, 1:4, 0:4] = 0.0  # zero where the sample goes
        op = BoundPad(0, (2, 3, 4), [(0, 0), (1, 2), (0, 3)], fill)
    else:
        op = BoundGroupedConv2d(0, (4, 7, 6), torch.randn(6, 2, 3, 2, generator=gen), torch.randn(6, generator=gen),
                                stride=2, padding=1, groups=2)
    x = torch.randn(3, *op.in_shape, generator=gen, dtype=torch.float32)
    A = torch.randn(3, 5, *op.out_shape, generator=gen)
    back, bias = op.backward_coefficients(A)
    lhs = (A * op.forward(x).unsqueeze(1)).flatten(2).sum(-1)
    rhs = (back * x.unsqueeze(1)).flatten(2).sum(-1) + bias
    assert back.shape == (3, 5, *op.in_shape) and torch.allclose(lhs, rhs, atol=1e-4, rtol=1e-5)
    lo, hi = x[:1] - 0.3, x[:1] + 0.2
    iv = op.interval(Interval(lo, hi))
    outs = op.forward(lo + torch.rand(64, *op.in_shape, generator=gen) * (hi - lo))
    assert bool((iv.lower[0] <= outs.min(0).values + 1e-5).all() and (outs.max(0).values <= iv.upper[0] + 1e-5).all())
    c, r, f = op.interval_cr((hi + lo) / 4, (hi - lo) / 4, 2.0)  # the box as centre * 2 and radius * 2
    assert torch.allclose(c * f - r * f, iv.lower, atol=1e-5) and torch.allclose(c * f + r * f, iv.upper, atol=1e-5)
