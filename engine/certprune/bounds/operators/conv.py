"""2-d convolution. Its backward pass is a transposed convolution (no dense matrices)."""
from __future__ import annotations

from typing import Optional, Tuple

import torch
import torch.nn.functional as F
from torch import Tensor

from ..values import Interval
from .base import BoundOp


def _pair(v) -> Tuple[int, int]:
    return (int(v), int(v)) if isinstance(v, int) else (int(v[0]), int(v[1]))


class BoundConv2d(BoundOp):
    def __init__(self, index: int, in_shape, weight: Tensor, bias: Optional[Tensor],
                 stride=1, padding=0, dilation=1, groups: int = 1):
        super().__init__(index, in_shape)
        if len(self.in_shape) != 3:
            raise ValueError(f"layer {index} (Conv2d) expects (C, H, W) inputs, got {self.in_shape}")
        if groups != 1:
            raise ValueError(f"layer {index} (Conv2d) uses groups={groups}; only groups=1 is supported")
        if weight.shape[1] != self.in_shape[0]:
            raise ValueError(f"layer {index} (Conv2d) takes {weight.shape[1]} channels but receives "
                             f"{self.in_shape[0]}")
        self.weight, self.bias = weight, bias  # (Co, Ci, kh, kw), (Co,)
        self.stride, self.padding, self.dilation = _pair(stride), _pair(padding), _pair(dilation)
        _, h, w = self.in_shape
        kh, kw = weight.shape[2:]
        ho = (h + 2 * self.padding[0] - self.dilation[0] * (kh - 1) - 1) // self.stride[0] + 1
        wo = (w + 2 * self.padding[1] - self.dilation[1] * (kw - 1) - 1) // self.stride[1] + 1
        if ho < 1 or wo < 1:
            raise ValueError(f"layer {index} (Conv2d) leaves an empty {ho}x{wo} output for input {self.in_shape}")
        self.out_shape = (int(weight.shape[0]), int(ho), int(wo))
        # The transposed convolution must give back exactly the input size: strided
        # convolutions drop trailing rows/columns, which output_padding restores.
        self.output_padding = (
            h - ((ho - 1) * self.stride[0] - 2 * self.padding[0] + self.dilation[0] * (kh - 1) + 1),
            w - ((wo - 1) * self.stride[1] - 2 * self.padding[1] + self.dilation[1] * (kw - 1) + 1),
        )

    def _conv(self, x: Tensor, weight: Tensor, bias: Optional[Tensor]) -> Tensor:
        return F.conv2d(x, weight, bias, self.stride, self.padding, self.dilation)

    def forward(self, x: Tensor) -> Tensor:  # (B, Ci, H, W) -> (B, Co, Ho, Wo)
        return self._conv(x, self.weight, self.bias)

    def interval(self, iv: Interval) -> Interval:
        center = self._conv(iv.center, self.weight, self.bias)
        radius = self._conv(iv.radius, self.weight.abs(), None)
        return Interval.from_center(center, radius)

    def backward_coefficients(self, A: Tensor) -> Tuple[Tensor, Tensor]:
        """A (N, S, Co, Ho, Wo) -> (A' (N, S, Ci, H, W), bias (N, S))."""
        n, s = A.shape[:2]
        flat = A.reshape(n * s, *self.out_shape)
        back = F.conv_transpose2d(flat, self.weight, None, self.stride, self.padding,
                                  self.output_padding, 1, self.dilation)
        back = back.reshape(n, s, *self.in_shape)
        if self.bias is None:
            bias = A.new_zeros(n, s)
        else:
            bias = A.sum(dim=(-1, -2)).matmul(self.bias)  # (N, S, Co) @ (Co,)
        return back, bias
