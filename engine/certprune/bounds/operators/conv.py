"""2-d convolution. Its backward pass is a transposed convolution (no dense matrices),
computed by the convolution's own input-gradient kernel (``_TransposedConv``)."""
from __future__ import annotations

from typing import Optional, Tuple

import torch
import torch.nn.functional as F
from torch import Tensor

from ..values import Interval
from .base import BoundOp


def _pair(v) -> Tuple[int, int]:
    return (int(v), int(v)) if isinstance(v, int) else (int(v[0]), int(v[1]))


class _TransposedConv(torch.autograd.Function):
    """A (N, Co, Ho, Wo) -> A^T-applied coefficients (N, Ci, H, W) of ``conv2d(., weight)``.

    This is the input-gradient of the convolution, so it is computed with
    ``aten.convolution_backward`` (the kernel autograd itself uses; on CPU it is 2-5x
    faster than ``conv_transpose2d`` at CROWN's batch sizes, and the input size comes out
    exactly, with no output_padding; for one or two input channels conv_transpose2d is the
    faster one and is used). Its own gradients are a plain conv2d (w.r.t. A) and
    the convolution's weight-gradient kernel (w.r.t. weight).
    """

    @staticmethod
    def forward(ctx, A: Tensor, weight: Tensor, in_hw: Tuple[int, int], stride, padding, dilation):
        ctx.conf = (stride, padding, dilation)
        ctx.save_for_backward(A, weight)
        shape = (A.shape[0], weight.shape[1], in_hw[0], in_hw[1])
        if weight.shape[1] < 3:
            # One or two input channels (the first layer on grey images): here the
            # transposed convolution is the faster kernel (3x on CPU for one channel).
            kh, kw = weight.shape[2:]
            extra = tuple(in_hw[i] - ((A.shape[2 + i] - 1) * stride[i] - 2 * padding[i]
                                      + dilation[i] * ((kh, kw)[i] - 1) + 1) for i in range(2))
            return F.conv_transpose2d(A, weight, None, stride, padding, extra, 1, dilation)
        # Only the input's shape is read when just the input-gradient is requested: on the
        # CPU a zero-stride view; elsewhere an uninitialised (never touched) tensor.
        like = A.new_zeros(()).expand(shape) if A.device.type == "cpu" else A.new_empty(shape)
        return torch.ops.aten.convolution_backward(A, like, weight, None, list(stride), list(padding),
                                                   list(dilation), False, [0, 0], 1,
                                                   [True, False, False])[0]

    @staticmethod
    def backward(ctx, grad: Tensor):
        A, weight = ctx.saved_tensors
        stride, padding, dilation = ctx.conf
        grad_A = grad_w = None
        grad = grad.contiguous()
        if ctx.needs_input_grad[0]:
            grad_A = F.conv2d(grad, weight, None, stride, padding, dilation)
        if ctx.needs_input_grad[1]:
            grad_w = torch.ops.aten.convolution_backward(A, grad, weight, None, list(stride), list(padding),
                                                         list(dilation), False, [0, 0], 1,
                                                         [False, True, False])[1]
        return grad_A, grad_w, None, None, None, None


class ConvGeometry(BoundOp):
    """What every 2-d convolution operator shares: shape checks, output size, the
    output_padding its transposed convolution needs, forward and interval passes.
    Subclasses add their backward step (dense: BoundConv2d; grouped: pool.BoundGroupedConv2d).
    """

    kind = "Conv2d"

    def __init__(self, index: int, in_shape, weight: Tensor, bias: Optional[Tensor],
                 stride=1, padding=0, dilation=1, groups: int = 1):
        super().__init__(index, in_shape)
        groups = int(groups)
        if len(self.in_shape) != 3:
            raise ValueError(f"layer {index} ({self.kind}) expects (C, H, W) inputs, got {self.in_shape}")
        if groups < 1 or weight.shape[0] % groups or weight.shape[1] * groups != self.in_shape[0]:
            raise ValueError(f"layer {index} ({self.kind}): weight {tuple(weight.shape)} with groups={groups} "
                             f"takes {weight.shape[1] * groups} channels but receives {self.in_shape[0]}")
        self.weight, self.bias, self.groups = weight, bias, groups  # (Co, Ci / groups, kh, kw), (Co,)
        self.stride, self.padding, self.dilation = _pair(stride), _pair(padding), _pair(dilation)
        _, h, w = self.in_shape
        kh, kw = weight.shape[2:]
        ho = (h + 2 * self.padding[0] - self.dilation[0] * (kh - 1) - 1) // self.stride[0] + 1
        wo = (w + 2 * self.padding[1] - self.dilation[1] * (kw - 1) - 1) // self.stride[1] + 1
        if ho < 1 or wo < 1:
            raise ValueError(f"layer {index} ({self.kind}) leaves an empty {ho}x{wo} output for input {self.in_shape}")
        self.out_shape = (int(weight.shape[0]), int(ho), int(wo))
        # The transposed convolution must give back exactly the input size: strided
        # convolutions drop trailing rows/columns, which output_padding restores.
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

    def _bias_term(self, A: Tensor) -> Tensor:
        """A (N, S, Co, Ho, Wo) -> (N, S): the bias's contribution."""
        n, s = A.shape[:2]
        return A.new_zeros(n, s) if self.bias is None else A.sum(dim=(-1, -2)).matmul(self.bias)  # (N, S, Co) @ (Co,)


class BoundConv2d(ConvGeometry):
    """A dense convolution (groups = 1): the graph folds per-channel affine maps into it."""

    def __init__(self, index: int, in_shape, weight: Tensor, bias: Optional[Tensor],
                 stride=1, padding=0, dilation=1, groups: int = 1):
        if groups != 1:
            raise ValueError(f"layer {index} (Conv2d) uses groups={groups}; only groups=1 is supported")
        super().__init__(index, in_shape, weight, bias, stride, padding, dilation)

    def backward_coefficients(self, A: Tensor) -> Tuple[Tensor, Tensor]:
        """A (N, S, Co, Ho, Wo) -> (A' (N, S, Ci, H, W), bias (N, S))."""
        n, s = A.shape[:2]
        flat = A.reshape(n * s, *self.out_shape)
        back = _TransposedConv.apply(flat.contiguous(), self.weight, self.in_shape[1:], self.stride,
                                     self.padding, self.dilation)
        return back.reshape(n, s, *self.in_shape), self._bias_term(A)
