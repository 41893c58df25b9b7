"""Fixed linear layers the ONNX importer builds for padding and pooling.

* ``BoundPad``: the sample inside a larger one of constants (ONNX Pad in constant mode,
  Concat with constants); its backward step crops the coefficients.
* ``BoundGroupedConv2d``: a 2-d convolution with groups > 1 (AveragePool as a depthwise
  convolution, and the fixed convolutions MaxPool is rewritten into); its backward step is
  the grouped transposed convolution.
"""
from __future__ import annotations

from typing import Optional, Sequence, Tuple

import torch.nn.functional as F
from torch import Tensor

from ..values import Interval
from .base import BoundOp, sum_over_sample
from .conv import _pair


class BoundPad(BoundOp):
    """Padding: the sample placed inside a larger one whose other entries are constants.

    pads[i] = (before, after) >= 0 for sample axis i; fill (out_shape) holds the padded
    entries' values and zeros where the sample goes (None: all zero). ONNX Pad (constant
    mode) and Concat of the data with constants are both this affine map.
    """

    is_diagonal = True

    def __init__(self, index: int, in_shape, pads: Sequence[Tuple[int, int]], fill: Optional[Tensor] = None):
        super().__init__(index, in_shape)
        pads = [(int(a), int(b)) for a, b in pads]
        if len(pads) != len(self.in_shape) or any(a < 0 or b < 0 for a, b in pads):
            raise ValueError(f"layer {index}: pads {pads} must give (before, after) >= 0 for each of the "
                             f"{len(self.in_shape)} axes of a sample of shape {self.in_shape}")
        self.pads = pads
        self.out_shape = tuple(s + a + b for s, (a, b) in zip(self.in_shape, pads))
        if fill is not None and tuple(fill.shape) != self.out_shape:
            raise ValueError(f"layer {index}: fill of shape {tuple(fill.shape)} for an output of shape "
                             f"{self.out_shape}")
        self.fill = fill
        # F.pad takes (before, after) pairs starting from the last axis.
        self.torch_pads = tuple(v for a, b in reversed(pads) for v in (a, b))

    def forward(self, x: Tensor) -> Tensor:  # (B, *in_shape) -> (B, *out_shape)
        out = F.pad(x, self.torch_pads)
        return out if self.fill is None else out + self.fill

    def interval(self, iv: Interval) -> Interval:
        return Interval(self.forward(iv.lower), self.forward(iv.upper))

    def interval_cr(self, c: Tensor, r: Tensor, f: float) -> Tuple[Tensor, Tensor, float]:
        if self.fill is None:
            return F.pad(c, self.torch_pads), F.pad(r, self.torch_pads), f
        return self.forward(c * f), F.pad(r * f, self.torch_pads), 1.0

    def backward_coefficients(self, A: Tensor) -> Tuple[Tensor, Tensor]:
        """A (N, S, *out_shape) -> (A cropped to (N, S, *in_shape), sum(A * fill) (N, S))."""
        n, s = A.shape[:2]
        crop = tuple(slice(a, a + size) for size, (a, _) in zip(self.in_shape, self.pads))
        bias = A.new_zeros(n, s) if self.fill is None else sum_over_sample(A * self.fill)
        return A[(slice(None), slice(None)) + crop], bias


class BoundGroupedConv2d(BoundOp):
    """conv2d(x, weight, bias, stride, padding, dilation, groups): weight (Co, Ci / groups, kh, kw).

    Not a BoundConv2d subclass on purpose: the graph's fold of a following per-channel
    affine map into a convolution assumes a dense kernel.
    """

    def __init__(self, index: int, in_shape, weight: Tensor, bias: Optional[Tensor],
                 stride=1, padding=0, dilation=1, groups: int = 1):
        super().__init__(index, in_shape)
        groups = int(groups)
        if len(self.in_shape) != 3:
            raise ValueError(f"layer {index} (grouped Conv2d) expects (C, H, W) inputs, got {self.in_shape}")
        channels, h, w = self.in_shape
        if groups < 1 or channels % groups or weight.shape[0] % groups or weight.shape[1] * groups != channels:
            raise ValueError(f"layer {index} (grouped Conv2d): weight {tuple(weight.shape)} with groups={groups} "
                             f"does not fit inputs of shape {self.in_shape}")
        self.weight, self.bias, self.groups = weight, bias, groups
        self.stride, self.padding, self.dilation = _pair(stride), _pair(padding), _pair(dilation)
        kh, kw = weight.shape[2:]
        ho = (h + 2 * self.padding[0] - self.dilation[0] * (kh - 1) - 1) // self.stride[0] + 1
        wo = (w + 2 * self.padding[1] - self.dilation[1] * (kw - 1) - 1) // self.stride[1] + 1
        if ho < 1 or wo < 1:
            raise ValueError(f"layer {index} (grouped Conv2d) leaves an empty {ho}x{wo} output for input "
                             f"{self.in_shape}")
        self.out_shape = (int(weight.shape[0]), int(ho), int(wo))
        # Strided convolutions drop trailing rows/columns; output_padding restores them.
        self.output_padding = (
            h - ((ho - 1) * self.stride[0] - 2 * self.padding[0] + self.dilation[0] * (kh - 1) + 1),
            w - ((wo - 1) * self.stride[1] - 2 * self.padding[1] + self.dilation[1] * (kw - 1) + 1),
        )

    def _conv(self, x: Tensor, weight: Tensor, bias: Optional[Tensor]) -> Tensor:
        return F.conv2d(x, weight, bias, self.stride, self.padding, self.dilation, self.groups)

    def forward(self, x: Tensor) -> Tensor:  # (B, Ci, H, W) -> (B, Co, Ho, Wo)
        return self._conv(x, self.weight, self.bias)

    def interval(self, iv: Interval) -> Interval:
        center = self._conv(iv.center, self.weight, self.bias)
        radius = self._conv(iv.radius, self.weight.abs(), None)
        return Interval.from_center(center, radius)

    def interval_cr(self, c: Tensor, r: Tensor, f: float) -> Tuple[Tensor, Tensor, float]:
        weight = self.weight if f == 1.0 else self.weight * f
        return self._conv(c, weight, self.bias), self._conv(r, weight.abs(), None), 1.0

    def backward_coefficients(self, A: Tensor) -> Tuple[Tensor, Tensor]:
        """A (N, S, Co, Ho, Wo) -> (A' (N, S, Ci, H, W), bias (N, S))."""
        n, s = A.shape[:2]
        flat = A.reshape(n * s, *self.out_shape)
        back = F.conv_transpose2d(flat, self.weight, None, self.stride, self.padding, self.output_padding,
                                  self.groups, self.dilation)
        back = back.reshape(n, s, *self.in_shape)
        bias = A.new_zeros(n, s) if self.bias is None else A.sum(dim=(-1, -2)).matmul(self.bias)
        return back, bias
