"""Pooling as layers the bound code already handles exactly.

* AveragePool is linear: a depthwise convolution with weight 1 / (window size), or, with
  padding that is not counted (count_include_pad=0), a sum convolution followed by a
  per-position scale 1 / (valid elements).
* MaxPool is rewritten exactly with ReLUs, so that IBP, CROWN and branch and bound (down
  to the exact LP of fully split domains) need no max relaxation:

      max(a, b) = relu(a - b) + b,   b = relu(b) - relu(-b)

  A window of k values is reduced by a tree of such pairwise maxes, one (fixed,
  depthwise) convolution + ReLU per tree level. When the pooled input is known to be
  >= 0 (it comes from a ReLU), every partial max is >= 0 too, so b = relu(b) and the
  relu(-b) channel is dropped; relu(b) is then stable under any bound and costs nothing.
"""
from __future__ import annotations

from typing import List, Sequence, Tuple

import numpy as np
import torch
from torch import nn

from ..bounds.layers import ElementwiseAffine
from .layers import FixedConv2d, Fused, Pad


def _padding(pads: Sequence[int]) -> Tuple[List[nn.Module], Tuple[int, int]]:
    """ONNX pads (top, left, bottom, right) -> (a Pad layer if asymmetric, conv padding)."""
    top, left, bottom, right = (int(p) for p in pads)
    if top == bottom and left == right:
        return [], (top, left)
    return [Pad(((0, 0), (top, bottom), (left, right)))], (0, 0)


def average_pool(channels: int, hw: Tuple[int, int], kernel: Sequence[int], stride: Sequence[int],
                 pads: Sequence[int], dilation: Sequence[int], count_include_pad: bool) -> List[nn.Module]:
    """Layers computing AveragePool on samples (channels, *hw); fused with F.avg_pool2d
    (torch's kernel, much faster than a grouped convolution) where it computes the same."""
    layers = _average_pool_layers(channels, hw, kernel, stride, pads, dilation, count_include_pad)
    if tuple(dilation) != (1, 1):
        return layers
    if count_include_pad or not any(pads):
        fast = nn.Sequential(Pad(((0, 0), (pads[0], pads[2]), (pads[1], pads[3]))),
                             nn.AvgPool2d(tuple(kernel), tuple(stride)))
    elif pads[0] == pads[2] and pads[1] == pads[3] and 2 * pads[0] <= kernel[0] and 2 * pads[1] <= kernel[1]:
        fast = nn.AvgPool2d(tuple(kernel), tuple(stride), (pads[0], pads[1]), count_include_pad=False)
    else:
        return layers
    return [Fused(layers, fast)]


def _average_pool_layers(channels, hw, kernel, stride, pads, dilation, count_include_pad) -> List[nn.Module]:
    kh, kw = (int(k) for k in kernel)
    prefix, padding = _padding(pads)
    counted = count_include_pad or not any(pads)
    weight = torch.ones(channels, 1, kh, kw, dtype=torch.float64) / (kh * kw if counted else 1.0)
    conv = FixedConv2d(weight.float(), None, stride, padding, dilation, groups=channels)
    if counted:
        return prefix + [conv]
    # Border windows average over the elements that are inside the input only.
    ones = torch.ones(1, 1, *hw, dtype=torch.float64)
    probe = nn.Sequential(*prefix, FixedConv2d(torch.ones(1, 1, kh, kw, dtype=torch.float64), None, stride,
                                                padding, dilation))
    with torch.no_grad():
        counts = probe(ones)[0]  # (1, Ho, Wo)
    return prefix + [conv, ElementwiseAffine((1.0 / counts).float(), torch.zeros(1, 1, 1))]


def max_pool(channels: int, kernel: Sequence[int], stride: Sequence[int], pads: Sequence[int],
             dilation: Sequence[int], nonnegative: bool) -> List[nn.Module]:
    """Layers computing MaxPool exactly with depthwise convolutions and ReLUs.

    pads: zero padding (top, left, bottom, right); the caller allows it only for
    non-negative inputs, where a zero never exceeds the window's true maximum.
    """
    kh, kw = (int(k) for k in kernel)
    prefix, padding = _padding(pads)
    window = kh * kw
    # values (m, t): each current value as a combination of the t channels per input
    # channel of the tensor at this level; level 0's "channels" are the window positions.
    values = np.eye(window)
    layers: List[nn.Module] = list(prefix)
    first = True
    while values.shape[0] > 1:
        rows, next_values = _tree_level(values, nonnegative)
        layers += [_depthwise(rows, channels, (kh, kw) if first else (1, 1), stride if first else (1, 1),
                              padding if first else (0, 0), dilation if first else (1, 1)), nn.ReLU()]
        values, first = next_values, False
    layers.append(_depthwise(values, channels, (kh, kw) if first else (1, 1), stride if first else (1, 1),
                             padding if first else (0, 0), dilation if first else (1, 1)))
    # Forward passes use torch's max_pool2d on the explicitly zero-padded input: the same
    # maxima (zero padding only ever comes with non-negative inputs).
    top, left, bottom, right = (int(p) for p in pads)
    fast = nn.Sequential(Pad(((0, 0), (top, bottom), (left, right))),
                         nn.MaxPool2d((kh, kw), tuple(stride), 0, tuple(dilation)))
    return [Fused(layers, fast)]


def _tree_level(values: np.ndarray, nonnegative: bool) -> Tuple[np.ndarray, np.ndarray]:
    """One level of pairwise maxes: (pre-activation rows (r, t), next values (m', r))."""
    rows, combos = [], []

    def keep(v):  # rows whose ReLUs give back v exactly: [relu(v)] or [relu(v), relu(-v)]
        start = len(rows)
        rows.append(v)
        if nonnegative:
            return {start: 1.0}
        rows.append(-v)
        return {start: 1.0, start + 1: -1.0}

    m = values.shape[0]
    for i in range(0, m - 1, 2):
        a, b = values[i], values[i + 1]
        d = len(rows)
        rows.append(a - b)  # max(a, b) = relu(a - b) + b
        combo = {d: 1.0}
        combo.update(keep(b))
        combos.append(combo)
    if m % 2:
        combos.append(keep(values[-1]))
    next_values = np.zeros((len(combos), len(rows)))
    for j, combo in enumerate(combos):
        for r, c in combo.items():
            next_values[j, r] = c
    return np.stack(rows), next_values


def _depthwise(rows: np.ndarray, channels: int, kernel, stride, padding, dilation) -> FixedConv2d:
    """The same rows (r, t) for every input channel: a grouped conv with groups=channels."""
    r, t = rows.shape
    per_group = torch.as_tensor(rows, dtype=torch.float32).reshape(r, t // (kernel[0] * kernel[1]), *kernel)
    weight = per_group.repeat(channels, 1, 1, 1)  # (channels * r, t / window, kh, kw)
    return FixedConv2d(weight, None, stride, padding, dilation, groups=channels)
