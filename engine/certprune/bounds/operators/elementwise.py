"""Element-wise affine maps: Normalize, BatchNorm (folded to its affine form), and
generic x * scale + shift (what ONNX Add/Sub/Mul/Div with constants become)."""
from __future__ import annotations

from typing import Optional, Tuple

import numpy as np
import torch
from torch import Tensor

from ..values import Interval
from .base import BoundOp, sum_over_sample


class BoundElementwiseAffine(BoundOp):
    """y = x * scale + shift; scale and shift broadcast against (1, *in_shape)."""

    is_diagonal = True

    def __init__(self, index: int, in_shape, scale: Tensor, shift: Tensor):
        super().__init__(index, in_shape)
        # numpy's broadcast_shapes: torch's imports sympy (through torch._refs), which costs
        # the verify command ~0.5 s of start-up.
        try:
            out = np.broadcast_shapes(tuple(scale.shape), tuple(shift.shape), (1,) + self.in_shape)
        except ValueError:
            raise ValueError(f"layer {index}: constants of shape {tuple(scale.shape)}/{tuple(shift.shape)} "
                             f"do not broadcast against inputs of shape {self.in_shape}") from None
        if tuple(out[1:]) != self.in_shape or (len(out) > 1 + len(self.in_shape)):
            raise ValueError(f"layer {index}: constants of shape {tuple(scale.shape)} would change the "
                             f"input shape {self.in_shape}; only element-wise constants are supported")
        # Store with an explicit batch axis so that (N, S, *shape) coefficients broadcast too.
        self.scale = _with_batch_axis(scale, len(self.in_shape))
        self.shift = _with_batch_axis(shift, len(self.in_shape))

    def forward(self, x: Tensor) -> Tensor:
        return torch.addcmul(self.shift, x, self.scale)

    def interval(self, iv: Interval) -> Interval:
        center = iv.center * self.scale + self.shift
        return Interval.from_center(center, iv.radius * self.scale.abs())

    def interval_cr(self, c: Tensor, r: Tensor, f: float) -> Tuple[Tensor, Tensor, float]:
        scale = self.scale if f == 1.0 else self.scale * f
        return torch.addcmul(self.shift, c, scale), r * scale.abs(), 1.0

    def backward_coefficients(self, A: Tensor) -> Tuple[Tensor, Tensor]:
        """A (N, S, *shape) -> (A * scale, sum(A * shift))."""
        back = A * self.scale.unsqueeze(0)
        bias = sum_over_sample(A * self.shift.unsqueeze(0))
        return back, bias


def _with_batch_axis(t: Tensor, sample_dims: int) -> Tensor:
    """Reshape a broadcastable constant to exactly 1 + sample_dims dims (leading batch axis of 1)."""
    while t.dim() < sample_dims + 1:
        t = t.unsqueeze(0)
    return t


class BoundNormalize(BoundElementwiseAffine):
    """(x - mean) / std; the forward and IBP use that exact expression."""

    def __init__(self, index: int, in_shape, mean: Tensor, std: Tensor):
        super().__init__(index, in_shape, 1.0 / std, -mean / std)
        self.mean = _with_batch_axis(mean, len(self.in_shape))
        self.std = _with_batch_axis(std, len(self.in_shape))

    def forward(self, x: Tensor) -> Tensor:
        return (x - self.mean) / self.std

    def interval(self, iv: Interval) -> Interval:
        return Interval((iv.lower - self.mean) / self.std, (iv.upper - self.mean) / self.std)

    def interval_cr(self, c: Tensor, r: Tensor, f: float) -> Tuple[Tensor, Tensor, float]:
        # (c f - mean) / std and r f / std: the input is small, so the exact expression.
        return (c * f - self.mean) / self.std, r * f / self.std, 1.0


class BoundBatchNorm(BoundElementwiseAffine):
    """BatchNorm as the per-channel affine gamma * (x - mu) / sqrt(var + eps) + beta.

    mu/var are the running statistics in eval mode, or the statistics of the clean
    batch (``clean``: (B, C, ...), gradients flow through them) in train mode.
    """

    def __init__(self, index: int, in_shape, bn, clean: Optional[Tensor] = None):
        channels = int(in_shape[0])
        if bn.num_features != channels:
            raise ValueError(f"layer {index} (BatchNorm) has {bn.num_features} channels but receives {channels}")
        self.batch_statistics = None
        if clean is not None:
            dims = [0] + list(range(2, clean.dim()))
            # Two passes (mean, then mean of squared deviations): exact like var(), about
            # twice as fast as var_mean on CPU, forward and backward.
            mean = clean.mean(dim=dims)
            var = (clean - mean.reshape((1, channels) + (1,) * (clean.dim() - 2))).square().mean(dim=dims)
            self.batch_statistics = (mean.detach(), var.detach(), clean.numel() // channels)
        else:
            if bn.running_mean is None:
                raise ValueError(f"layer {index} (BatchNorm) has no running statistics; use it in "
                                 f"train mode with clean_input or enable track_running_stats")
            mean, var = bn.running_mean, bn.running_var
        scale = torch.rsqrt(var + bn.eps)
        if bn.affine:
            scale = scale * bn.weight
        shift = -mean * scale
        if bn.affine:
            shift = shift + bn.bias
        view = (1, channels) + (1,) * (len(in_shape) - 1)
        super().__init__(index, in_shape, scale.reshape(view), shift.reshape(view))
