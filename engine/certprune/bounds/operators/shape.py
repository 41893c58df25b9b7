"""Operators that only change the shape of a sample: Flatten, Reshape (Unflatten), Identity."""
from __future__ import annotations

import math
from typing import Tuple

import torch
from torch import Tensor

from ..values import Interval
from .base import BoundOp


class Rearrangement(BoundOp):
    """An operator that only moves values (reshape, permute): interval bounds move with
    them, exactly. Subclasses give forward and backward_coefficients."""

    is_diagonal = True

    def interval(self, iv: Interval) -> Interval:
        return Interval(self.forward(iv.lower), self.forward(iv.upper))

    def interval_cr(self, c: Tensor, r: Tensor, f: float) -> Tuple[Tensor, Tensor, float]:
        return self.forward(c), self.forward(r), f


class BoundReshape(Rearrangement):
    """Reshape each sample to ``out_shape`` (element order kept, row-major as torch/ONNX)."""

    def __init__(self, index: int, in_shape, out_shape):
        super().__init__(index, in_shape)
        out_shape = tuple(int(s) for s in out_shape)
        if math.prod(out_shape) != math.prod(self.in_shape):
            raise ValueError(f"layer {index}: cannot reshape a sample of shape {self.in_shape} "
                             f"({math.prod(self.in_shape)} values) to {out_shape}")
        self.out_shape = out_shape

    def forward(self, x: Tensor) -> Tensor:
        return x.reshape(x.shape[0], *self.out_shape)

    def backward_coefficients(self, A: Tensor) -> Tuple[Tensor, Tensor]:
        n, s = A.shape[:2]
        return A.reshape(n, s, *self.in_shape), A.new_zeros(n, s)


class BoundFlatten(BoundReshape):
    def __init__(self, index: int, in_shape):
        super().__init__(index, in_shape, (math.prod(int(v) for v in in_shape),))


class BoundIdentity(BoundReshape):
    def __init__(self, index: int, in_shape):
        super().__init__(index, in_shape, in_shape)
