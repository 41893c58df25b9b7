"""Small value types passed between bound operators.

Shapes: B = batch (samples or branch-and-bound subdomains), S = number of bounded
outputs ("specs"), and ``*shape`` = the shape of one sample at some layer, e.g. (C, H, W).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Dict, List, Optional, Tuple

import torch
from torch import Tensor


@dataclass
class Interval:
    """Element-wise bounds lower <= x <= upper, both (B, *shape)."""

    lower: Tensor
    upper: Tensor

    @property
    def center(self) -> Tensor:
        return (self.upper + self.lower) / 2

    @property
    def radius(self) -> Tensor:
        return (self.upper - self.lower) / 2

    @staticmethod
    def from_center(center: Tensor, radius: Tensor) -> "Interval":
        return Interval(center - radius, center + radius)


@dataclass
class LinearBounds:
    """Linear functions of some layer's value z, bounding S outputs from below and above.

    lower_out >= (lA * z).sum(over *shape) + lbias,  upper_out <= (uA * z).sum + ubias.
    lA, uA: (B, S, *shape) or None when that side is not wanted; lbias, ubias: (B, S).
    """

    lA: Optional[Tensor]
    uA: Optional[Tensor]
    lbias: Tensor
    ubias: Tensor


@dataclass
class Relaxation:
    """Linear bounds of ReLU(z) in terms of z, one per neuron (and per spec for alpha).

    lower_slope * z <= relu(z) <= upper_slope * z + upper_intercept on [l, u].
    lower_slope_l is used for the lower bound of the outputs, lower_slope_u for the
    upper bound (alpha-CROWN optimises them separately). Shapes: (B, *shape) or
    (B, S, *shape) for per-spec slopes; upper_*: (B, *shape).
    """

    lower_slope_l: Tensor
    lower_slope_u: Tensor
    upper_slope: Tensor
    upper_intercept: Tensor


@dataclass
class Bounds:
    """What ``compute_bounds`` returns.

    lower, upper: (B, S) bounds of spec @ logits (S = K when spec is None).
    upper is None when it was not requested (bound_upper=False).
    ibp_lower: (B, S) IBP lower bound of the same outputs ('ibp' and 'crown-ibp' only).
    preactivations: one (l, u) per ReLU, each (B, *shape of that ReLU's input).
    relu_indices: the index in the Sequential of each ReLU.
    alphas: alpha-CROWN's optimised lower slopes per ReLU (B, S, *shape), when optimised.
    clean_output: the network's output (B, K) on ``clean_input`` (logits, before the spec),
    computed on the way when BatchNorm layers are in train mode, else None.
    batch_statistics: Sequential index -> (mean, biased variance, count) of each train-mode
    BatchNorm on the clean batch (detached), so that a caller may update running
    statistics without another forward pass (the bounds never touch them).
    """

    lower: Tensor
    upper: Optional[Tensor]
    ibp_lower: Optional[Tensor] = None
    preactivations: List[Tuple[Tensor, Tensor]] = field(default_factory=list)
    relu_indices: List[int] = field(default_factory=list)
    alphas: Optional[Dict[int, Tensor]] = None
    clean_output: Optional[Tensor] = None
    batch_statistics: Dict[int, Tuple[Tensor, Tensor, int]] = field(default_factory=dict)
