"""ONNX builders with weights or windows: Gemm, MatMul, Conv, AveragePool, MaxPool (the
op table is ops.py)."""
from __future__ import annotations

import math
from dataclasses import replace
from typing import List, Tuple

import numpy as np
import torch
from torch import nn

from . import pooling
from .layers import FixedConv2d, Fused
from .node import Flow, Layers, Node, _reshaped, _tensor


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


