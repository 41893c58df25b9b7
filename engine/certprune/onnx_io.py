"""ONNX interchange (VNN-COMP): export trained models, import ONNX models for verification.

    export_onnx(model, (1, 28, 28), "model.onnx")     # BatchNorm folded, opset 13
    model, input_shape = load_onnx("model.onnx")       # a flat nn.Sequential again

Exported graphs take NCHW input of shape (N, C, H, W) (N symbolic); VNNLIB variable
X_i is element i of that input flattened per sample (i = c*H*W + h*W + w), as VNN-COMP
tools read it. The importer accepts chains of the operators listed in
engine/schemas/onnx-operators.json (the op table is certprune/onnx/ops.py: linear maps
with constant operands, Relu, padding, pooling, reshapes and transposes; shape
arithmetic on constants is evaluated); anything else is reported as
``unsupported ONNX operator <name> at node <n>``.
"""
from __future__ import annotations

import json
import math
import os
from typing import Dict, List, Sequence, Tuple

import numpy as np
import torch
from torch import nn

from .bounds.layers import Reshape
from .onnx.ops import OnnxError  # one class for the importer and its op table

OPSET = 13
# One list for the engine and the server's inspector (engine/schemas/onnx-operators.json).
with open(os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "schemas",
                       "onnx-operators.json"), encoding="utf-8") as _f:
    SUPPORTED_OPS = tuple(json.load(_f)["operators"])


# --------------------------------------------------------------------------- export

def export_onnx(model: nn.Sequential, input_shape: Sequence[int], path: str) -> str:
    """Write ``model`` (eval semantics, BatchNorm folded) as an ONNX file; returns path.

    Each layer is written by its entry in onnx/export.py's table (layer type -> writer)."""
    import onnx
    from onnx import TensorProto, helper

    from .models import fold_batchnorm
    from .onnx.export import write_layers

    folded = fold_batchnorm(model).cpu().float()
    graph_nodes, shape = write_layers(folded, input_shape)
    graph = helper.make_graph(
        graph_nodes.nodes, "certprune",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, ["N"] + [int(s) for s in input_shape])],
        [helper.make_tensor_value_info("output", TensorProto.FLOAT, ["N"] + list(shape))],
        initializer=graph_nodes.initializers)
    proto = helper.make_model(graph, producer_name="certprune", opset_imports=[helper.make_opsetid("", OPSET)])
    proto.ir_version = min(proto.ir_version, 8)  # readable by onnx >= 1.10 / onnxruntime >= 1.10
    onnx.checker.check_model(proto)
    onnx.save(proto, path)
    return path


# --------------------------------------------------------------------------- import

def load_onnx(path: str) -> Tuple[nn.Sequential, Tuple[int, ...]]:
    """Read an ONNX model as a flat float32 nn.Sequential in eval mode.

    Returns (model, per-sample input shape): the ONNX input's shape without a leading
    batch axis of 1 or a symbolic one ([N, 3, 32, 32] -> (3, 32, 32), [1, 5] -> (5,),
    [5] -> (5,)). The op table is certprune/onnx/ops.py. Raises OnnxError with a clear
    message for unreadable files, unsupported operators and graphs that are not a chain.
    """
    from .onnx.layers import Fused, OnnxSequential
    from .onnx.constants import CONSTANT_OPS
    from .onnx.ops import OP_TABLE, Flow, Node
    from .onnx.proto import attribute_value, read_model, to_array

    try:
        proto = read_model(path)
    except FileNotFoundError:
        raise OnnxError(f"ONNX model {path} does not exist") from None
    except Exception as exc:  # protobuf decode errors come in several types
        raise OnnxError(f"cannot read ONNX model {path}: {type(exc).__name__}: {exc}".strip()) from None
    graph = proto.graph
    if len(graph.node) == 0:
        raise OnnxError(f"ONNX model {path} has no nodes (empty or not an ONNX file)")
    opset = max([o.version for o in proto.opset_import if o.domain in ("", "ai.onnx")] or [1])
    constants: Dict[str, np.ndarray] = {t.name: to_array(t) for t in graph.initializer}
    inputs = [i for i in graph.input if i.name not in constants]
    if len(inputs) != 1:
        raise OnnxError(f"ONNX model {path} must have exactly one input, found {len(inputs)}")
    if len(graph.output) != 1:
        raise OnnxError(f"ONNX model {path} must have exactly one output, found {len(graph.output)}")
    flow = Flow(_input_shape(inputs[0]))
    input_shape = flow.sample

    layers: List[nn.Module] = []
    fused = []  # (start, end, fast module) spans of layers with a faster equivalent forward
    aliases = {inputs[0].name}
    shapes = {inputs[0].name: flow.full}  # ONNX shape (batch size 1) of every data tensor so far, for Shape
    for n, node in enumerate(graph.node):
        where = f"node {n}" + (f" ({node.name})" if node.name else "")
        op = node.op_type
        if op not in SUPPORTED_OPS or (node.domain not in ("", "ai.onnx")):
            raise OnnxError(f"unsupported ONNX operator {op} at {where}")
        attrs = {a.name: attribute_value(a) for a in node.attribute}
        view = Node(op, list(node.input), list(node.output), attrs, where, opset, constants)
        present = [i for i in node.input if i]
        try:
            if op == "Constant":
                constants[node.output[0]] = _constant_value(attrs, where)
                continue
            if op == "Shape":
                if present[0] not in shapes and present[0] not in constants:
                    raise OnnxError(f"Shape at {where} reads {present[0]}, which is not a tensor of the chain")
                full = shapes[present[0]] if present[0] in shapes else constants[present[0]].shape
                start, end = int(attrs.get("start", 0)), attrs.get("end")
                constants[node.output[0]] = np.asarray(full[start:None if end is None else int(end)],
                                                       dtype=np.int64)
                continue
            if present and all(i in constants for i in present) and CONSTANT_OPS.get(op) is not None:
                constants[node.output[0]] = np.asarray(CONSTANT_OPS[op](view, [constants[i] for i in present]))
                continue
        except OnnxError:
            raise
        except Exception as exc:
            raise OnnxError(f"cannot evaluate the constant {op} at {where}: {type(exc).__name__}: {exc}") from None
        data = [i for i in present if i not in constants]
        if len(data) != 1 or data[0] not in aliases:
            raise OnnxError(f"unsupported graph structure at {where} ({op}): each node must take the previous "
                            f"node's output plus constants (a simple chain); got inputs {list(node.input)}")
        if op not in OP_TABLE:
            raise OnnxError(f"unsupported ONNX operator {op} at {where} (supported only on constants)")
        if op not in ("Add", "Sub", "Mul", "Div", "Concat") and node.input[0] != data[0]:
            raise OnnxError(f"{op} at {where} must take the data as its first input")
        try:
            new_layers, new_flow = OP_TABLE[op](view, flow)
        except OnnxError:
            raise
        except (KeyError, IndexError, TypeError, ValueError, RuntimeError) as exc:
            raise OnnxError(f"malformed {op} at {where}: {type(exc).__name__}: {exc}") from None
        plain = [m for item in new_layers for m in (item.layers if isinstance(item, Fused) else [item])]
        try:
            with torch.no_grad():
                out_shape = tuple(nn.Sequential(*plain)(torch.zeros(1, *flow.sample)).shape[1:])
        except Exception as exc:
            raise OnnxError(f"{op} at {where} cannot take inputs of shape {list(flow.full)}: {exc}") from None
        if out_shape != new_flow.sample:  # a builder's bug, never a silent wrong model
            raise OnnxError(f"{op} at {where}: internal shape mismatch {out_shape} != {new_flow.sample}")
        for item in new_layers:
            if isinstance(item, Fused):
                _check_fused(item, flow, where, op)
                fused.append((len(layers), len(layers) + len(item.layers), item.fast))
                layers += item.layers
            else:
                layers.append(item)
        flow = new_flow
        # Identity keeps the data as it is: both names stay usable. Anything else (even a
        # reshape that needs no layer) gives a new ONNX shape: only its output continues.
        aliases = aliases | {node.output[0]} if op in ("Identity", "Dropout") else {node.output[0]}
        shapes[node.output[0]] = flow.full
    if graph.output[0].name not in aliases:
        raise OnnxError(f"ONNX output {graph.output[0].name} is not produced by the last node of the chain")
    if len(flow.sample) != 1:  # outputs Y_j are the flattened output (VNN-COMP)
        layers.append(Reshape((math.prod(flow.sample),)))
    return OnnxSequential(*layers, fused=fused).eval(), input_shape


def _check_fused(item, flow, where: str, op: str) -> None:
    """A fused shortcut must compute what its layers compute (on inputs the data can take;
    the tolerance covers float32 rounding)."""
    gen = torch.Generator().manual_seed(0)
    x = torch.rand(2, *flow.sample, generator=gen)
    if not flow.nonnegative:
        x = x * 2 - 1
    with torch.no_grad():  # float32: torch's float64 grouped convolutions are very slow on CPU
        slow = nn.Sequential(*item.layers)(x)
        fast = item.fast(x)
    if slow.shape != fast.shape or not torch.allclose(slow, fast, rtol=1e-5, atol=1e-5):
        raise OnnxError(f"{op} at {where}: internal error, its fast forward differs from its layers")


def _constant_value(attrs: dict, where: str) -> np.ndarray:
    from .onnx.proto import to_array
    if "value" in attrs:
        return to_array(attrs["value"])
    for key in ("value_float", "value_int"):
        if key in attrs:
            return np.asarray(attrs[key])
    for key in ("value_floats", "value_ints"):
        if key in attrs:
            return np.asarray(list(attrs[key]))
    raise OnnxError(f"Constant at {where} has no supported value attribute")


def _input_shape(value_info) -> Tuple[int, ...]:
    """The ONNX input's shape at batch size 1: a symbolic (or unknown) first axis counts as 1."""
    dims = value_info.type.tensor_type.shape.dim
    shape = [d.dim_value if d.HasField("dim_value") else -1 for d in dims]
    named = [d.dim_param or "?" for d in dims]
    if not shape:
        raise OnnxError(f"ONNX input {value_info.name} has no shape (rank 0 or unknown); expected a tensor "
                        f"such as [1, n] or [1, C, H, W]")
    if shape[0] <= 0:
        shape[0] = 1  # the batch axis ('N', 'unk__17', ...)
    bad = [i for i, s in enumerate(shape) if s <= 0]
    if bad:
        raise OnnxError(f"ONNX input {value_info.name} has shape "
                        f"{[s if s > 0 else named[i] for i, s in enumerate(shape)]}: axis {bad[0]} is symbolic; "
                        f"only the first (batch) axis may be")
    return tuple(shape)


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
