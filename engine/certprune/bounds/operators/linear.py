"""Fully connected layer y = W x + b, optionally with one weight matrix per batch item.

The per-item form (W: (B, out, in)) is what folding a specification C (B, S, K) into
the last layer produces: W' = C W, b' = C b.
"""
from __future__ import annotations

from typing import Optional, Tuple

import torch
from torch import Tensor

from ..values import Interval
from .base import BoundOp


class BoundLinear(BoundOp):
    def __init__(self, index: int, in_shape, weight: Tensor, bias: Optional[Tensor]):
        super().__init__(index, in_shape)
        if len(self.in_shape) != 1:
            raise ValueError(f"layer {index} (Linear) expects flat inputs, got per-sample shape "
                             f"{self.in_shape}; add a Flatten before it")
        if weight.shape[-1] != self.in_shape[0]:
            raise ValueError(f"layer {index} (Linear) takes {weight.shape[-1]} inputs but receives "
                             f"{self.in_shape[0]}")
        self.weight = weight  # (out, in) or (B, out, in)
        out = weight.shape[-2]
        if bias is None:
            bias = weight.new_zeros(weight.shape[:-1])
        self.bias = bias  # (out,) or (B, out)
        self.out_shape = (int(out),)
        self.batched = weight.dim() == 3

    def _apply(self, weight: Tensor, x: Tensor) -> Tensor:
        if self.batched:
            return torch.bmm(weight, x.unsqueeze(-1)).squeeze(-1)
        return x.matmul(weight.t())

    def forward(self, x: Tensor) -> Tensor:  # (B, in) -> (B, out)
        return self._apply(self.weight, x) + self.bias

    def interval(self, iv: Interval) -> Interval:
        center = self._apply(self.weight, iv.center) + self.bias
        radius = self._apply(self.weight.abs(), iv.radius)
        return Interval.from_center(center, radius)

    def interval_cr(self, c: Tensor, r: Tensor, f: float) -> Tuple[Tensor, Tensor, float]:
        weight = self.weight if f == 1.0 else self.weight * f
        if self.batched:
            return torch.baddbmm(self.bias.unsqueeze(-1), weight, c.unsqueeze(-1)).squeeze(-1), \
                self._apply(weight.abs(), r), 1.0
        return torch.addmm(self.bias, c, weight.t()) if c.dim() == 2 else c.matmul(weight.t()) + self.bias, \
            r.matmul(weight.abs().t()), 1.0

    def backward_coefficients(self, A: Tensor) -> Tuple[Tensor, Tensor]:
        """A (N, S, out) -> (A W (N, S, in), A b (N, S))."""
        if self.batched:
            return torch.bmm(A, self.weight), torch.bmm(A, self.bias.unsqueeze(-1)).squeeze(-1)
        return A.matmul(self.weight), A.matmul(self.bias)
