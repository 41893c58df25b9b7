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
engine/schemas/onnx-operators.json (a test keeps them equal).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Callable, Dict, List, Sequence, Tuple

import numpy as np
import torch
from torch import nn

from ..bounds.layers import ElementwiseAffine, Reshape
from . import pooling
from .layers import FixedConv2d, Fused, Permute, Pad


class OnnxError(ValueError):
    """An ONNX model that cannot be read or is outside the supported subset."""


@dataclass(frozen=True)
class Flow:
    """The data tensor between two nodes."""

    full: Tuple[int, ...]  # ONNX shape at batch size 1
    nonnegative: bool = False  # known >= 0 (it comes from a ReLU): lets MaxPool drop channels

    @property
    def sample(self) -> Tuple[int, ...]:
        return sample_shape(self.full)

    @property
    def batched(self) -> bool:
        return len(self.full) >= 2 and self.full[0] == 1


def sample_shape(full: Sequence[int]) -> Tuple[int, ...]:
    full = tuple(int(s) for s in full)
    return full[1:] if len(full) >= 2 and full[0] == 1 else full


@dataclass
class Node:
    """One ONNX node, its attributes, and the constants known when it is reached."""

    op: str
    inputs: List[str]
    outputs: List[str]
    attrs: dict
    where: str  # "node 3 (name)", for messages
    opset: int
    constants: Dict[str, np.ndarray]

    def has(self, i: int) -> bool:
        return len(self.inputs) > i and bool(self.inputs[i])

    def const(self, i: int) -> np.ndarray:
        if not self.has(i) or self.inputs[i] not in self.constants:
            raise OnnxError(f"{self.op} at {self.where}: input {i} must be a constant (an initializer or a "
                            f"Constant node)")
        return np.asarray(self.constants[self.inputs[i]])

    def ints(self, name: str, default: Sequence[int]) -> List[int]:
        return [int(v) for v in self.attrs.get(name, default)]

    def fail(self, why: str) -> OnnxError:
        return OnnxError(f"{self.op} at {self.where}: {why}")


Layers = List[nn.Module]  # or Fused items: layers with a faster equivalent forward (layers.Fused)
# builder(node, flow) -> (layers, flow after the node)
Builder = Callable[[Node, Flow], Tuple[Layers, Flow]]


def _tensor(value) -> torch.Tensor:
    return torch.as_tensor(np.array(value, dtype=np.float32))


def _to_sample(const: np.ndarray, flow: Flow, node: Node) -> np.ndarray:
    """A constant broadcasting against the data's full shape, in the layers' sample layout;
    refused when it would change the data's shape (the data is broadcast up)."""
    try:
        out = np.broadcast_shapes(flow.full, const.shape)
    except ValueError:
        raise node.fail(f"its constant of shape {list(const.shape)} does not broadcast against the data "
                        f"{list(flow.full)}") from None
    if tuple(out) != flow.full:
        raise node.fail(f"its constant of shape {list(const.shape)} changes the data's shape {list(flow.full)} "
                        f"-> {list(out)}; only element-wise constants are supported")
    aligned = const.reshape((1,) * (len(flow.full) - const.ndim) + const.shape)
    return aligned.reshape(aligned.shape[1:]) if flow.batched else aligned


def _reshaped(layers: Layers, before: Tuple[int, ...], after: Tuple[int, ...]) -> Layers:
    return layers if before == after else layers + [Reshape(after)]


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


# --------------------------------------------------------------------------- linear layers

def _linear(weight: np.ndarray, bias: np.ndarray) -> nn.Linear:
    """weight (out, in), bias (out,)."""
    layer = nn.Linear(weight.shape[1], weight.shape[0], bias=True)
    with torch.no_grad():
        layer.weight.copy_(_tensor(weight))
        layer.bias.copy_(_tensor(bias))
    return layer


def _gemm(node: Node, flow: Flow):
    if len(flow.full) != 2:
        raise node.fail(f"needs 2-d data; got shape {list(flow.full)} (add a Flatten before it)")
    rows, k = (flow.full[1], flow.full[0]) if int(node.attrs.get("transA", 0)) else flow.full
    if rows != 1:
        raise node.fail(f"multiplies {rows} rows of data (shape {list(flow.full)}); only one row is supported")
    if node.inputs[0] in node.constants:
        raise node.fail("takes the data as its second operand; only data @ constant is supported")
    w = np.asarray(node.const(1), dtype=np.float64) * float(node.attrs.get("alpha", 1.0))
    weight = w if int(node.attrs.get("transB", 0)) else w.T  # (out, in)
    if weight.ndim != 2 or weight.shape[1] != k:
        raise node.fail(f"its weight {list(w.shape)} does not fit data of shape {list(flow.full)}")
    bias = np.zeros(weight.shape[0])
    if node.has(2):
        c = np.asarray(node.const(2), dtype=np.float64) * float(node.attrs.get("beta", 1.0))
        try:
            bias = np.broadcast_to(c, (1, weight.shape[0])).reshape(-1)
        except ValueError:
            raise node.fail(f"its bias {list(c.shape)} does not broadcast to (1, {weight.shape[0]})") from None
    new = replace(flow, full=(1, weight.shape[0]), nonnegative=False)
    return _reshaped([], flow.sample, (k,)) + [_linear(weight, bias)], new


def _matmul(node: Node, flow: Flow):
    if node.inputs[0] in node.constants:
        raise node.fail("multiplies a constant by the data; only data @ constant is supported")
    w = np.asarray(node.const(1), dtype=np.float64)
    if w.ndim not in (1, 2):
        raise node.fail(f"has a {w.ndim}-d constant; only matrices and vectors are supported")
    k = flow.full[-1]
    if w.shape[0] != k:
        raise node.fail(f"its constant {list(w.shape)} does not fit data of shape {list(flow.full)}")
    if math.prod(flow.full[:-1]) != 1:
        raise node.fail(f"multiplies several rows of data (shape {list(flow.full)}); only one row is supported")
    matrix = w.reshape(k, -1)
    full = flow.full[:-1] + ((matrix.shape[1],) if w.ndim == 2 else ())
    new = Flow(full if full else (1,))
    layers = _reshaped([], flow.sample, (k,)) + [_linear(matrix.T, np.zeros(matrix.shape[1]))]
    return _reshaped(layers, (matrix.shape[1],), new.sample), new


def _conv(node: Node, flow: Flow):
    w = np.asarray(node.const(1), dtype=np.float64)
    if w.ndim != 4:
        raise node.fail(f"has a {w.ndim}-d kernel; only 2-d convolutions are supported")
    if len(flow.full) != 4 or not flow.batched:
        raise node.fail(f"needs data of shape (1, C, H, W); got {list(flow.full)}")
    groups = int(node.attrs.get("group", 1))
    channels, h, wd = flow.sample
    if w.shape[1] * groups != channels:
        raise node.fail(f"its kernel {list(w.shape)} with group={groups} does not fit {channels} input channels")
    kernel = tuple(w.shape[2:])
    stride, dilation = node.ints("strides", [1, 1]), node.ints("dilations", [1, 1])
    pads = _window_pads(node, (h, wd), kernel, stride, dilation)
    bias = np.asarray(node.const(2), dtype=np.float64) if node.has(2) else np.zeros(w.shape[0])
    prefix, padding = pooling._padding(pads)
    if groups == 1:
        layer = nn.Conv2d(channels, w.shape[0], kernel, stride=tuple(stride), padding=padding,
                          dilation=tuple(dilation), bias=True)
        with torch.no_grad():
            layer.weight.copy_(_tensor(w))
            layer.bias.copy_(_tensor(bias))
    else:
        layer = FixedConv2d(_tensor(w), _tensor(bias), stride, padding, dilation, groups)
    layers = prefix + [layer]
    return layers, Flow((1,) + _probe(layers, flow.sample))


def _window_pads(node: Node, hw, kernel, stride, dilation) -> List[int]:
    """ONNX pads (top, left, bottom, right) of a Conv / pooling node, auto_pad resolved."""
    auto = node.attrs.get("auto_pad", b"NOTSET")
    auto = auto.decode() if isinstance(auto, bytes) else str(auto)
    if auto in ("NOTSET", ""):
        pads = node.ints("pads", [0, 0, 0, 0])
        if len(pads) != 4:
            raise node.fail(f"has pads {pads}; expected 4 values for a 2-d window")
        if any(p < 0 for p in pads):
            raise node.fail(f"has negative pads {pads}")
        return pads
    if auto == "VALID":
        return [0, 0, 0, 0]
    if auto not in ("SAME_UPPER", "SAME_LOWER"):
        raise node.fail(f"uses auto_pad={auto}, which is not supported")
    begin, end = [], []
    for size, k, s, d in zip(hw, kernel, stride, dilation):
        total = max((math.ceil(size / s) - 1) * s + (k - 1) * d + 1 - size, 0)
        small, big = total // 2, total - total // 2
        begin.append(small if auto == "SAME_UPPER" else big)
        end.append(big if auto == "SAME_UPPER" else small)
    return begin + end


def _probe(layers: Layers, sample: Tuple[int, ...]) -> Tuple[int, ...]:
    plain = [m for item in layers for m in (item.layers if isinstance(item, Fused) else [item])]
    with torch.no_grad():
        return tuple(nn.Sequential(*plain)(torch.zeros(1, *sample)).shape[1:])


def _pool(node: Node, flow: Flow):
    if len(flow.full) != 4 or not flow.batched:
        raise node.fail(f"needs data of shape (1, C, H, W); got {list(flow.full)}")
    if len([o for o in node.outputs if o]) > 1:
        raise node.fail("returns the max indices too, which is not supported")
    kernel = node.ints("kernel_shape", [])
    if len(kernel) != 2:
        raise node.fail(f"has kernel_shape {kernel}; only 2-d pooling is supported")
    stride, dilation = node.ints("strides", [1, 1]), node.ints("dilations", [1, 1])
    channels, h, w = flow.sample
    pads = _window_pads(node, (h, w), kernel, stride, dilation)
    if int(node.attrs.get("ceil_mode", 0)):
        for size, k, s, d, a, b in zip((h, w), kernel, stride, dilation, pads[:2], pads[2:]):
            span = size + a + b - d * (k - 1) - 1
            if span % s:  # ceil would add a partial window that floor leaves out
                raise node.fail("uses ceil_mode=1 with a partial last window, which is not supported")
    if node.op == "AveragePool":
        layers = pooling.average_pool(channels, (h, w), kernel, stride, pads, dilation,
                                      bool(int(node.attrs.get("count_include_pad", 0))))
        nonneg = flow.nonnegative
    else:
        if any(p >= k for p, k in zip(pads, kernel + kernel)):
            raise node.fail(f"pads {pads} reach a whole window ({kernel}); windows of padding only are not supported")
        if any(pads) and not flow.nonnegative:
            raise node.fail(f"pads {pads} (with -inf); supported only where the input is known to be >= 0 "
                            f"(after a Relu), where zero padding gives the same maxima")
        layers = pooling.max_pool(channels, kernel, stride, pads, dilation, flow.nonnegative)
        nonneg = flow.nonnegative
    return layers, Flow((1,) + _probe(layers, flow.sample), nonneg)


# --------------------------------------------------------------------------- the table

OP_TABLE: Dict[str, Builder] = {
    "Relu": _relu,
    "Identity": _identity,
    "Dropout": _identity,  # inference: the identity
    "Add": _arithmetic,
    "Sub": _arithmetic,
    "Mul": _arithmetic,
    "Div": _arithmetic,
    "BatchNormalization": _batchnorm,
    "Reshape": _reshape,
    "Flatten": _flatten,
    "Squeeze": _squeeze_unsqueeze,
    "Unsqueeze": _squeeze_unsqueeze,
    "Transpose": _transpose,
    "Pad": _pad,
    "Concat": _concat,
    "Gemm": _gemm,
    "MatMul": _matmul,
    "Conv": _conv,
    "AveragePool": _pool,
    "MaxPool": _pool,
}
