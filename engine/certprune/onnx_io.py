"""ONNX interchange (VNN-COMP): export trained models, import ONNX models for verification.

    export_onnx(model, (1, 28, 28), "model.onnx")     # BatchNorm folded, opset 13
    model, input_shape = load_onnx("model.onnx")       # a flat nn.Sequential again

Exported graphs take NCHW input of shape (N, C, H, W) (N symbolic); VNNLIB variable
X_i is element i of that input flattened per sample (i = c*H*W + h*W + w), as VNN-COMP
tools read it. The importer accepts chains of Conv, Gemm, MatMul, Add, Sub, Mul, Div
(with constants), Relu, Flatten, Reshape, BatchNormalization, Constant and Identity;
anything else is reported as ``unsupported ONNX operator <name> at node <n>``.
"""
from __future__ import annotations

import json
import math
import os
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np
import torch
from torch import nn

from .bounds.layers import ElementwiseAffine, Reshape

OPSET = 13
# One list for the engine and the server's inspector (engine/schemas/onnx-operators.json).
with open(os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "schemas",
                       "onnx-operators.json"), encoding="utf-8") as _f:
    SUPPORTED_OPS = tuple(json.load(_f)["operators"])


class OnnxError(ValueError):
    """An ONNX model that cannot be read or is outside the supported subset."""


# --------------------------------------------------------------------------- export

def export_onnx(model: nn.Sequential, input_shape: Sequence[int], path: str) -> str:
    """Write ``model`` (eval semantics, BatchNorm folded) as an ONNX file; returns path."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    from .models import fold_batchnorm

    folded = fold_batchnorm(model).cpu().float()
    nodes, inits = [], []
    current = "input"
    shape = tuple(int(s) for s in input_shape)

    def const(name: str, value) -> str:
        inits.append(numpy_helper.from_array(np.asarray(value, dtype=np.float32), name))
        return name

    for i, layer in enumerate(folded):
        out = f"layer{i}"
        if isinstance(layer, nn.Conv2d):
            if isinstance(layer.padding, str) or layer.groups != 1 or layer.padding_mode != "zeros":
                raise OnnxError(f"layer {i} (Conv2d) uses padding/groups the exporter does not support")
            inputs = [current, const(f"w{i}", layer.weight.detach().numpy())]
            if layer.bias is not None:
                inputs.append(const(f"b{i}", layer.bias.detach().numpy()))
            ph, pw = layer.padding
            nodes.append(helper.make_node("Conv", inputs, [out], name=f"conv{i}",
                                          kernel_shape=list(layer.kernel_size), strides=list(layer.stride),
                                          pads=[ph, pw, ph, pw], dilations=list(layer.dilation), group=1))
        elif isinstance(layer, nn.Linear):
            bias = layer.bias.detach().numpy() if layer.bias is not None else np.zeros(layer.out_features)
            nodes.append(helper.make_node("Gemm", [current, const(f"w{i}", layer.weight.detach().numpy()),
                                                   const(f"b{i}", bias)], [out], name=f"gemm{i}", transB=1))
        elif isinstance(layer, nn.ReLU):
            nodes.append(helper.make_node("Relu", [current], [out], name=f"relu{i}"))
        elif isinstance(layer, nn.Flatten):
            if layer.start_dim != 1 or layer.end_dim != -1:
                raise OnnxError(f"layer {i} (Flatten) must flatten dims 1..-1 to be exported")
            nodes.append(helper.make_node("Flatten", [current], [out], name=f"flatten{i}", axis=1))
        elif isinstance(getattr(layer, "mean", None), torch.Tensor) and isinstance(getattr(layer, "std", None), torch.Tensor):
            mid = f"centered{i}"
            nodes.append(helper.make_node("Sub", [current, const(f"mean{i}", layer.mean.detach().numpy())], [mid],
                                          name=f"sub{i}"))
            nodes.append(helper.make_node("Div", [mid, const(f"std{i}", layer.std.detach().numpy())], [out],
                                          name=f"div{i}"))
        elif isinstance(layer, ElementwiseAffine):
            mid = f"scaled{i}"
            nodes.append(helper.make_node("Mul", [current, const(f"scale{i}", layer.scale.numpy())], [mid], name=f"mul{i}"))
            nodes.append(helper.make_node("Add", [mid, const(f"shift{i}", layer.shift.numpy())], [out], name=f"add{i}"))
        elif isinstance(layer, (Reshape, nn.Unflatten)):
            target = tuple(layer(torch.zeros(1, *shape)).shape[1:])
            nodes.append(helper.make_node("Reshape", [current, _int_const(inits, f"shape{i}", (-1,) + target)],
                                          [out], name=f"reshape{i}"))
        elif isinstance(layer, nn.Identity):
            nodes.append(helper.make_node("Identity", [current], [out], name=f"identity{i}"))
        elif isinstance(layer, nn.modules.batchnorm._BatchNorm):
            bn = layer
            scale = (bn.weight.detach() if bn.affine else torch.ones(bn.num_features)).numpy()
            bias = (bn.bias.detach() if bn.affine else torch.zeros(bn.num_features)).numpy()
            nodes.append(helper.make_node("BatchNormalization",
                                          [current, const(f"g{i}", scale), const(f"beta{i}", bias),
                                           const(f"rm{i}", bn.running_mean.numpy()),
                                           const(f"rv{i}", bn.running_var.numpy())], [out],
                                          name=f"bn{i}", epsilon=float(bn.eps)))
        else:
            raise OnnxError(f"layer {i} ({type(layer).__name__}) cannot be exported to ONNX")
        with torch.no_grad():
            shape = tuple(layer(torch.zeros(1, *shape)).shape[1:])
        current = out
    nodes.append(helper.make_node("Identity", [current], ["output"], name="output"))
    graph = helper.make_graph(
        nodes, "certprune",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, ["N"] + [int(s) for s in input_shape])],
        [helper.make_tensor_value_info("output", TensorProto.FLOAT, ["N"] + list(shape))],
        initializer=inits)
    proto = helper.make_model(graph, producer_name="certprune", opset_imports=[helper.make_opsetid("", OPSET)])
    proto.ir_version = min(proto.ir_version, 8)  # readable by onnx >= 1.10 / onnxruntime >= 1.10
    onnx.checker.check_model(proto)
    onnx.save(proto, path)
    return path


def _int_const(inits: list, name: str, values) -> str:
    from onnx import numpy_helper
    inits.append(numpy_helper.from_array(np.asarray(values, dtype=np.int64), name))
    return name


# --------------------------------------------------------------------------- import

def load_onnx(path: str) -> Tuple[nn.Sequential, Tuple[int, ...]]:
    """Read an ONNX model as a flat float32 nn.Sequential in eval mode.

    Returns (model, per-sample input shape). Raises OnnxError with a clear message for
    unreadable files, unsupported operators and graphs that are not a simple chain.
    """
    import onnx
    from onnx import numpy_helper

    try:
        proto = onnx.load(path)
    except FileNotFoundError:
        raise OnnxError(f"ONNX model {path} does not exist") from None
    except Exception as exc:  # protobuf decode errors come in several types
        raise OnnxError(f"cannot read ONNX model {path}: {type(exc).__name__}: {exc}".strip()) from None
    graph = proto.graph
    if len(graph.node) == 0:
        raise OnnxError(f"ONNX model {path} has no nodes (empty or not an ONNX file)")
    constants: Dict[str, np.ndarray] = {t.name: numpy_helper.to_array(t) for t in graph.initializer}
    inputs = [i for i in graph.input if i.name not in constants]
    if len(inputs) != 1:
        raise OnnxError(f"ONNX model {path} must have exactly one input, found {len(inputs)}")
    if len(graph.output) != 1:
        raise OnnxError(f"ONNX model {path} must have exactly one output, found {len(graph.output)}")
    dims = inputs[0].type.tensor_type.shape.dim
    shape = [d.dim_value if d.HasField("dim_value") else -1 for d in dims]
    if len(shape) < 2 or any(s <= 0 for s in shape[1:]):
        raise OnnxError(f"ONNX input {inputs[0].name} has shape {shape}; expected (batch, ...) with fixed "
                        f"sample dimensions")
    input_shape = tuple(shape[1:])

    layers: List[nn.Module] = []
    current = inputs[0].name
    aliases = {current}
    shape = input_shape  # per-sample shape flowing along the chain
    for n, node in enumerate(graph.node):
        where = f"node {n}" + (f" ({node.name})" if node.name else "")
        op = node.op_type
        if op not in SUPPORTED_OPS or (node.domain not in ("", "ai.onnx")):
            raise OnnxError(f"unsupported ONNX operator {op} at {where}")
        attrs = {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}
        if op == "Constant":
            constants[node.output[0]] = _constant_value(attrs, where)
            continue
        data = [i for i in node.input if i and i not in constants]
        if len(data) != 1 or data[0] not in aliases:
            raise OnnxError(f"unsupported graph structure at {where} ({op}): each node must take the previous "
                            f"node's output plus constants (a simple chain); got inputs {list(node.input)}")
        if op == "Identity":
            aliases.add(node.output[0])
            continue
        if op not in ("Add", "Sub", "Mul", "Div") and node.input[0] != data[0]:
            raise OnnxError(f"{op} at {where} must take the data as its first input")
        try:
            layer = _layer_for(op, node, attrs, constants, where, shape)
        except (KeyError, IndexError, TypeError, ValueError) as exc:
            if isinstance(exc, OnnxError):
                raise
            raise OnnxError(f"malformed {op} at {where}: {type(exc).__name__}: {exc}") from None
        try:
            with torch.no_grad():
                out_shape = tuple(layer(torch.zeros(1, *shape)).shape[1:])
        except Exception as exc:
            raise OnnxError(f"{op} at {where} cannot take inputs of shape {shape}: {exc}") from None
        if op in ("Add", "Sub", "Mul", "Div") and out_shape != shape:
            raise OnnxError(f"{op} at {where}: its constant changes the shape {shape} -> {out_shape}; only "
                            f"element-wise constants are supported")
        layers.append(layer)
        shape = out_shape
        aliases = {node.output[0]}
    if graph.output[0].name not in aliases:
        raise OnnxError(f"ONNX output {graph.output[0].name} is not produced by the last node of the chain")
    return nn.Sequential(*layers).eval(), input_shape


def _constant_value(attrs: dict, where: str) -> np.ndarray:
    from onnx import numpy_helper
    if "value" in attrs:
        return numpy_helper.to_array(attrs["value"])
    for key in ("value_float", "value_int"):
        if key in attrs:
            return np.asarray(attrs[key])
    for key in ("value_floats", "value_ints"):
        if key in attrs:
            return np.asarray(list(attrs[key]))
    raise OnnxError(f"Constant at {where} has no supported value attribute")


def _tensor(value: np.ndarray) -> torch.Tensor:
    return torch.as_tensor(np.array(value, dtype=np.float32))


def _layer_for(op: str, node, attrs: dict, constants: Dict[str, np.ndarray], where: str,
               shape: Tuple[int, ...]) -> nn.Module:
    """The torch layer for one ONNX node whose data input has per-sample shape ``shape``."""
    ins = list(node.input)  # the caller checked: exactly one of them is data, the rest constants
    if op == "Relu":
        return nn.ReLU()
    if op == "Flatten":
        if int(attrs.get("axis", 1)) != 1:
            raise OnnxError(f"Flatten at {where} uses axis={attrs.get('axis')}; only axis=1 is supported")
        return nn.Flatten()
    if op == "Reshape":
        target = [int(v) for v in np.asarray(constants[ins[1]]).reshape(-1)]
        if not target or target[0] not in (-1, 0, 1):
            raise OnnxError(f"Reshape at {where} to {target} changes the batch axis; only per-sample reshapes "
                            f"(shape[0] in -1, 0, 1) are supported")
        rest = target[1:]
        if any(v == 0 or v < -1 for v in rest) or sum(v == -1 for v in rest) > 1:
            raise OnnxError(f"Reshape at {where} to {target}: only positive sizes and one -1 are supported")
        size, known = math.prod(shape), math.prod(v for v in rest if v != -1)
        if -1 in rest:
            if known == 0 or size % known:
                raise OnnxError(f"Reshape at {where} cannot reshape {shape} to {target}")
            rest = [size // known if v == -1 else v for v in rest]
        if math.prod(rest) != size:
            raise OnnxError(f"Reshape at {where} cannot reshape a sample of shape {shape} to {rest}")
        return Reshape(rest)
    if op in ("Gemm", "MatMul") and len(shape) != 1:
        raise OnnxError(f"{op} at {where} receives per-sample shape {shape}; add a Flatten before it")
    if op == "Gemm":
        if int(attrs.get("transA", 0)):
            raise OnnxError(f"Gemm at {where} uses transA=1, which is not supported")
        w = np.asarray(constants[ins[1]], dtype=np.float64) * float(attrs.get("alpha", 1.0))
        weight = w if int(attrs.get("transB", 0)) else w.T  # (out, in)
        layer = nn.Linear(weight.shape[1], weight.shape[0], bias=True)
        bias = np.zeros(weight.shape[0])
        if len(ins) > 2 and ins[2]:
            bias = np.broadcast_to(np.asarray(constants[ins[2]], dtype=np.float64) * float(attrs.get("beta", 1.0)),
                                   (weight.shape[0],))
        with torch.no_grad():
            layer.weight.copy_(_tensor(weight))
            layer.bias.copy_(_tensor(bias))
        return layer
    if op == "MatMul":
        if ins[0] in constants:
            raise OnnxError(f"MatMul at {where} multiplies a constant by the data; only data @ constant is supported")
        w = np.asarray(constants[ins[1]])
        if w.ndim != 2:
            raise OnnxError(f"MatMul at {where} has a {w.ndim}-d constant; only matrices are supported")
        layer = nn.Linear(w.shape[0], w.shape[1], bias=True)
        with torch.no_grad():
            layer.weight.copy_(_tensor(w.T))
            layer.bias.zero_()
        return layer
    if op == "Conv":
        w = np.asarray(constants[ins[1]])
        if w.ndim != 4:
            raise OnnxError(f"Conv at {where} has a {w.ndim}-d kernel; only 2-d convolutions are supported")
        if attrs.get("auto_pad", b"NOTSET") not in (b"NOTSET", "NOTSET"):
            raise OnnxError(f"Conv at {where} uses auto_pad; write explicit pads instead")
        if int(attrs.get("group", 1)) != 1:
            raise OnnxError(f"Conv at {where} uses group={attrs.get('group')}; only group=1 is supported")
        pads = list(attrs.get("pads", [0, 0, 0, 0]))
        if pads[0] != pads[2] or pads[1] != pads[3]:
            raise OnnxError(f"Conv at {where} pads {pads} asymmetrically; only symmetric padding is supported")
        layer = nn.Conv2d(w.shape[1], w.shape[0], tuple(w.shape[2:]), stride=tuple(attrs.get("strides", [1, 1])),
                          padding=(pads[0], pads[1]), dilation=tuple(attrs.get("dilations", [1, 1])), bias=True)
        with torch.no_grad():
            layer.weight.copy_(_tensor(w))
            layer.bias.copy_(_tensor(constants[ins[2]]) if len(ins) > 2 and ins[2] else torch.zeros(w.shape[0]))
        return layer
    if op == "BatchNormalization":
        scale, bias, mean, var = (np.asarray(constants[i], dtype=np.float64) for i in ins[1:5])
        eps = float(attrs.get("epsilon", 1e-5))
        factor = scale / np.sqrt(var + eps)
        view = (-1,) + (1,) * (len(shape) - 1)  # the channel axis is axis 1 of (N, C, ...)
        return ElementwiseAffine(_tensor(factor.reshape(view)), _tensor((bias - mean * factor).reshape(view)))
    if op in ("Add", "Sub", "Mul", "Div"):
        const_name = ins[1] if ins[1] in constants else ins[0]
        c = np.asarray(constants[const_name], dtype=np.float64)
        data_first = ins[0] not in constants
        one, zero = np.ones_like(c), np.zeros_like(c)
        if op == "Add":
            scale, shift = one, c
        elif op == "Mul":
            scale, shift = c, zero
        elif op == "Sub":
            scale, shift = (one, -c) if data_first else (-one, c)
        else:
            if not data_first:
                raise OnnxError(f"Div at {where} divides a constant by the data, which is not piecewise linear")
            if np.any(c == 0):
                raise OnnxError(f"Div at {where} divides by zero")
            scale, shift = 1.0 / c, zero
        return ElementwiseAffine(_tensor(scale), _tensor(shift))
    raise OnnxError(f"unsupported ONNX operator {op} at {where}")



# --------------------------------------------------------------------------- benchmark bundle

def export_bundle(model: nn.Sequential, images: torch.Tensor, labels: torch.Tensor, eps: float, out_dir: str,
                  timeout: float, lower: float = 0.0, upper: float = 1.0) -> List[str]:
    """A VNN-COMP benchmark folder: onnx/model.onnx, vnnlib/sample_<i>.vnnlib (the L-inf ball
    of radius eps around image i, clipped to [lower, upper], exactly the box CertPrune
    verifies) and instances.csv (``onnx_path,vnnlib_path,timeout_s`` relative to out_dir).

    images (N, *input_shape), labels (N,). Returns the written paths (model first, csv last).
    """
    import os

    from .vnnlib import write_vnnlib

    os.makedirs(os.path.join(out_dir, "onnx"), exist_ok=True)
    os.makedirs(os.path.join(out_dir, "vnnlib"), exist_ok=True)
    input_shape = tuple(images.shape[1:])
    onnx_rel = "onnx/model.onnx"
    paths = [export_onnx(model, input_shape, os.path.join(out_dir, onnx_rel))]
    with torch.no_grad():
        num_classes = int(model.eval()(images[:1].to(next(model.parameters()).device)).shape[1])
    rows = []
    for i in range(images.shape[0]):
        x = images[i].detach().float().cpu()
        x_lower, x_upper = (x - eps).clamp(lower, upper), (x + eps).clamp(lower, upper)
        rel = f"vnnlib/sample_{i}.vnnlib"
        paths.append(write_vnnlib(os.path.join(out_dir, rel), x_lower.numpy(), x_upper.numpy(),
                                  int(labels[i]), num_classes))
        rows.append(f"{onnx_rel},{rel},{float(timeout):g}")
    csv = os.path.join(out_dir, "instances.csv")
    with open(csv, "w", encoding="utf-8") as f:
        f.write("\n".join(rows) + "\n")
    paths.append(csv)
    return paths
