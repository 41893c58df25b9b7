"""The ONNX op table: op name -> builder (auto_LiRPA's op table, in small).

The importer walks a chain of nodes. A builder gets one node and the data flowing into
it (``Flow``: its ONNX shape at batch size 1) and returns torch layers plus the new flow.
Nodes whose inputs are all constants (shape arithmetic such as Shape -> Gather ->
Unsqueeze -> Concat -> Reshape) are evaluated instead (constants.py).

Shapes: ONNX tensors are described at batch size 1 (``Flow.full``, a symbolic batch
axis counts as 1). The torch layers see (B, *sample) where ``sample`` is ``full``
without a leading batch axis of 1 (rank >= 2), else ``full`` itself: an input of shape
[n] or [1, n] is a sample of shape (n,), [1, 1, 1, 5] one of (1, 1, 5), [N, 32, 32, 3]
one of (32, 32, 3). Element order is ONNX's (row-major) throughout.

Every name in ``OP_TABLE`` and in ``constants.CONSTANT_OPS`` is listed in
engine/schemas/onnx-operators.json, which `npm run schemas` generates from them
(certprune.describe; a test fails when it is stale). Builders with weights or windows
(Gemm, MatMul, Conv, pooling) are in ops_linear.py; the shared types in node.py.
"""
from __future__ import annotations

from typing import Dict

import math
from dataclasses import replace

import numpy as np
from torch import nn

from ..bounds.layers import ElementwiseAffine
from .layers import Permute, Pad
# Builder, Layers, OnnxError and sample_shape are re-exported: the importer takes them from here.
from .node import Builder, Flow, Layers, Node, OnnxError, _reshaped, _tensor, _to_sample, sample_shape  # noqa: F401
from .ops_linear import _conv, _gemm, _matmul, _pool


# --------------------------------------------------------------------------- element-wise

def _relu(node: Node, flow: Flow):
    return [nn.ReLU()], replace(flow, nonnegative=True)


def _identity(node: Node, flow: Flow):
    return [], flow


def _arithmetic(node: Node, flow: Flow):
    data_first = node.inputs[0] not in node.constants
    c = np.asarray(node.const(1 if data_first else 0), dtype=np.float64)
    c = _to_sample(c, flow, node)
    one, zero = np.ones_like(c), np.zeros_like(c)
    if node.op == "Add":
        scale, shift = one, c
    elif node.op == "Mul":
        scale, shift = c, zero
    elif node.op == "Sub":
        scale, shift = (one, -c) if data_first else (-one, c)
    else:
        if not data_first:
            raise node.fail("divides a constant by the data, which is not piecewise linear")
        if np.any(c == 0):
            raise node.fail("divides by zero")
        scale, shift = 1.0 / c, zero
    nonneg = flow.nonnegative and bool(np.all(scale >= 0)) and bool(np.all(shift >= 0))
    return [ElementwiseAffine(_tensor(scale), _tensor(shift))], replace(flow, nonnegative=nonneg)


def _batchnorm(node: Node, flow: Flow):
    if len(flow.full) < 2:
        raise node.fail(f"needs a channel axis; the data has shape {list(flow.full)}")
    scale, bias, mean, var = (np.asarray(node.const(i), dtype=np.float64) for i in range(1, 5))
    factor = scale / np.sqrt(var + float(node.attrs.get("epsilon", 1e-5)))
    view = (1, -1) + (1,) * (len(flow.full) - 2)  # the channel axis is axis 1
    shift = (bias - mean * factor).reshape(view)
    return [ElementwiseAffine(_tensor(_to_sample(factor.reshape(view), flow, node)),
                              _tensor(_to_sample(shift, flow, node)))], replace(flow, nonnegative=False)


# --------------------------------------------------------------------------- shape

def _reshape(node: Node, flow: Flow):
    target = [int(v) for v in node.const(1).reshape(-1)]
    allow_zero = int(node.attrs.get("allowzero", 0))
    size = math.prod(flow.full)
    out = [flow.full[i] if v == 0 and not allow_zero and i < len(flow.full) else v for i, v in enumerate(target)]
    if sum(v == -1 for v in out) > 1 or any(v < -1 for v in out):
        raise node.fail(f"target shape {target} is malformed (at most one -1, no other negatives)")
    if -1 in out:
        known = math.prod(v for v in out if v != -1)
        if known == 0 or size % known:
            raise node.fail(f"cannot reshape data of shape {list(flow.full)} to {target}")
        out = [size // known if v == -1 else v for v in out]
    if math.prod(out) != size:
        raise node.fail(f"cannot reshape data of shape {list(flow.full)} ({size} values) to {target}")
    new = replace(flow, full=tuple(out))
    return _reshaped([], flow.sample, new.sample), new


def _flatten(node: Node, flow: Flow):
    rank = len(flow.full)
    axis = int(node.attrs.get("axis", 1))
    axis = axis + rank if axis < 0 else axis
    if not 0 <= axis <= rank:
        raise node.fail(f"axis {node.attrs.get('axis')} is out of range for data of shape {list(flow.full)}")
    new = replace(flow, full=(math.prod(flow.full[:axis]), math.prod(flow.full[axis:])))
    return _reshaped([], flow.sample, new.sample), new


def _squeeze_unsqueeze(node: Node, flow: Flow):
    axes = [int(a) for a in (node.const(1).reshape(-1) if node.has(1) else node.attrs.get("axes", []))]
    full = list(flow.full)
    if node.op == "Squeeze":
        axes = [a + len(full) if a < 0 else a for a in axes] or [i for i, s in enumerate(full) if s == 1]
        if any(full[a] != 1 for a in axes):
            raise node.fail(f"squeezes axes {axes} of data {full} that are not of size 1")
        full = [s for i, s in enumerate(full) if i not in axes]
    else:
        rank = len(full) + len(axes)
        for a in sorted(a + rank if a < 0 else a for a in axes):
            full.insert(a, 1)
    new = replace(flow, full=tuple(full))
    return _reshaped([], flow.sample, new.sample), new


def _transpose(node: Node, flow: Flow):
    rank = len(flow.full)
    perm = node.ints("perm", list(reversed(range(rank))))
    if sorted(perm) != list(range(rank)):
        raise node.fail(f"perm {perm} is not a permutation of the data's {rank} axes")
    new = replace(flow, full=tuple(flow.full[p] for p in perm))
    if flow.batched and perm[0] == 0:  # the common case: the batch axis stays first
        dims = [p - 1 for p in perm[1:]]
        return ([] if dims == sorted(dims) else [Permute(dims)]), new
    layers = _reshaped([], flow.sample, flow.full) + [Permute(perm)]
    return _reshaped(layers, flow.full, new.sample), new


def _pad(node: Node, flow: Flow):
    mode = node.attrs.get("mode", b"constant")
    mode = mode.decode() if isinstance(mode, bytes) else str(mode)
    if mode != "constant":
        raise node.fail(f"mode {mode!r} is not supported; only constant (zero) padding is")
    if node.opset >= 11 or node.has(1):
        pads = [int(v) for v in node.const(1).reshape(-1)]
        value = float(node.const(2).reshape(-1)[0]) if node.has(2) else 0.0
        if node.has(3):
            raise node.fail("pads only some axes (the axes input); give pads for every axis")
    else:
        pads = node.ints("pads", [])
        value = float(node.attrs.get("value", 0.0))
    rank = len(flow.full)
    if len(pads) != 2 * rank:
        raise node.fail(f"has {len(pads)} pads for data of rank {rank}; expected {2 * rank}")
    if not any(pads):
        return [], flow
    if any(p < 0 for p in pads):
        raise node.fail(f"has negative pads {pads} (cropping), which is not supported")
    pairs = list(zip(pads[:rank], pads[rank:]))
    if flow.batched and pairs[0] != (0, 0):
        raise node.fail("pads the batch axis")
    full = tuple(s + a + b for s, (a, b) in zip(flow.full, pairs))
    new = replace(flow, full=full, nonnegative=flow.nonnegative and value >= 0)
    fill = None
    if value != 0.0:
        fill = np.full(full, value)
        fill[tuple(slice(a, a + s) for s, (a, _) in zip(flow.full, pairs))] = 0.0
        fill = _tensor(_to_sample(fill, new, node))
    return [Pad(pairs[1:] if flow.batched else pairs, fill)], new


def _concat(node: Node, flow: Flow):
    """The data concatenated with constants: the data padded with those constants."""
    rank = len(flow.full)
    axis = int(node.attrs.get("axis", 0))
    axis = axis + rank if axis < 0 else axis
    if not 0 <= axis < rank or (flow.batched and axis == 0):
        raise node.fail(f"concatenates along axis {node.attrs.get('axis')} of data {list(flow.full)}; only a "
                        f"sample axis is supported")
    parts, before, seen = [], 0, False
    for i, name in enumerate(node.inputs):
        if name not in node.constants:
            seen = True
            continue
        c = np.asarray(node.constants[name], dtype=np.float64)
        if c.ndim != rank or any(c.shape[d] != flow.full[d] for d in range(rank) if d != axis):
            raise node.fail(f"input {i} of shape {list(c.shape)} does not fit data {list(flow.full)} along axis "
                            f"{axis}")
        parts.append((seen, c))
        before += 0 if seen else c.shape[axis]
    after = sum(c.shape[axis] for is_after, c in parts if is_after)
    full = tuple(s + (before + after if d == axis else 0) for d, s in enumerate(flow.full))
    fill = np.zeros(full)
    at = 0
    for is_after, c in parts:
        start = at if not is_after else before + flow.full[axis] + (at - before)
        index = [slice(None)] * rank
        index[axis] = slice(start, start + c.shape[axis])
        fill[tuple(index)] = c
        at += c.shape[axis]
    pairs = [(before, after) if d == axis else (0, 0) for d in range(rank)]
    new = replace(flow, full=full, nonnegative=flow.nonnegative and bool(np.all(fill >= 0)))
    return [Pad(pairs[1:] if flow.batched else pairs, _tensor(_to_sample(fill, new, node)))], new


# --------------------------------------------------------------------------- the table

OP_TABLE: Dict[str, Builder] = {
    "Conv": _conv,
    "Gemm": _gemm,
    "MatMul": _matmul,
    "Add": _arithmetic,
    "Sub": _arithmetic,
    "Mul": _arithmetic,
    "Div": _arithmetic,
    "Relu": _relu,
    "Flatten": _flatten,
    "Reshape": _reshape,
    "BatchNormalization": _batchnorm,
    "Identity": _identity,
    "Transpose": _transpose,
    "Pad": _pad,
    "AveragePool": _pool,
    "MaxPool": _pool,
    "Squeeze": _squeeze_unsqueeze,
    "Unsqueeze": _squeeze_unsqueeze,
    "Dropout": _identity,  # inference: the identity
    "Concat": _concat,
}
