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
from .conv import ConvGeometry


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


class BoundGroupedConv2d(ConvGeometry):
    """conv2d(x, weight, bias, stride, padding, dilation, groups): weight (Co, Ci / groups, kh, kw).

    Not a BoundConv2d on purpose: the graph's fold of a following per-channel affine map
    into a convolution assumes a dense kernel.
    """

    kind = "grouped Conv2d"

    def backward_coefficients(self, A: Tensor) -> Tuple[Tensor, Tensor]:
        """A (N, S, Co, Ho, Wo) -> (A' (N, S, Ci, H, W), bias (N, S))."""
        n, s = A.shape[:2]
        flat = A.reshape(n * s, *self.out_shape)
        back = F.conv_transpose2d(flat, self.weight, None, self.stride, self.padding, self.output_padding,
                                  self.groups, self.dilation)
        return back.reshape(n, s, *self.in_shape), self._bias_term(A)
