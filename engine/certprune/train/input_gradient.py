"""The input gradient of the cross-entropy, written out layer by layer so that
differentiating it again (GradAlign's penalty) is cheap.

    grad, logits = differentiable_input_gradient(model, point, y)   # grad (B, C, H, W)
    penalty(grad).backward()      # weight gradients of the penalty, through grad

``torch.autograd.grad(loss, point, create_graph=True)`` gives the same gradient, but its
second derivative goes through PyTorch's generic double-backward formulas, and two of
them dominated FGSM+GradAlign's time on a CPU (after the convolutions' own arithmetic):

- BatchNorm's (~30 element-wise passes per layer): ``certprune.train.batchnorm`` writes
  it out in ~8;
- a convolution's: the weight derivative of its input gradient is a weight gradient
  (input = the incoming v, output gradient = the layer's g), but PyTorch computes it as a
  convolution over batch-and-channel-transposed copies, ~2x slower than the
  weight-gradient kernel it uses in a plain backward pass. ``_ConvInputGradient`` calls
  that kernel instead.

The backward pass is written out for the layers CertPrune trains (Normalize, Conv2d,
BatchNorm, ReLU, Flatten, Linear, Identity); a model with any other layer falls back to
autograd (``autograd_input_gradient``, still with the cheap BatchNorm). The forward pass and the input gradient are
PyTorch's own kernels, so the logits, the gradient and the FGSM example are what
``model(point)`` and autograd give (float rounding of the backward's order aside).
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch.autograd.function import once_differentiable

from ..models import Normalize
from .batchnorm import (batch_norm_input_gradient, forward_twice_differentiable, train_batch_norm,
                        uses_batch_statistics)

_aten = torch.ops.aten


class _ConvInputGradient(torch.autograd.Function):
    """g (B, O, H', W') -> dL/dx (B, I, H, W) of conv2d(x, weight) (x's values unused).

    Its derivatives: d<v, gx>/dg = conv2d(v, weight), and d<v, gx>/dweight = the weight
    gradient of a convolution whose input is v and whose output gradient is g."""

    @staticmethod
    def forward(ctx, grad_out, x, weight, stride, padding, dilation, groups):
        ctx.conv = (stride, padding, dilation, groups)
        ctx.save_for_backward(grad_out, weight)
        if weight.shape[1] * groups <= 2:
            # One or two input channels (a first layer on grey or 2-channel images):
            # oneDNN's input-gradient kernel is ~3x slower there than a transposed convolution.
            size = [(o - 1) * s - 2 * p + d * (k - 1) + 1 for o, s, p, d, k in
                    zip(grad_out.shape[2:], stride, padding, dilation, weight.shape[2:])]
            output_padding = [t - z for t, z in zip(x.shape[2:], size)]
            if all(0 <= op < max(s, d) for op, s, d in zip(output_padding, stride, dilation)):
                return F.conv_transpose2d(grad_out, weight, None, stride, padding, output_padding, groups, dilation)
        grad_in, _, _ = _aten.convolution_backward(grad_out, x, weight, None, stride, padding, dilation,
                                                   False, [0, 0], groups, [True, False, False])
        return grad_in

    @staticmethod
    @once_differentiable
    def backward(ctx, v):
        grad_out, weight = ctx.saved_tensors
        stride, padding, dilation, groups = ctx.conv
        d_grad_out = d_weight = None
        if ctx.needs_input_grad[0]:
            d_grad_out = F.conv2d(v, weight, None, stride, padding, dilation, groups)
        if ctx.needs_input_grad[2]:
            _, d_weight, _ = _aten.convolution_backward(grad_out, v, weight, None, stride, padding, dilation,
                                                        False, [0, 0], groups, [False, True, False])
        return d_grad_out, None, d_weight, None, None, None, None


class _ReluInputGradient(torch.autograd.Function):
    """g -> g where x > 0, else 0 (ReLU's input gradient; x's values only select).
    Its derivative in g is the same selection; in x it is zero (nothing flows to x)."""

    @staticmethod
    def forward(ctx, grad_out, x):
        ctx.save_for_backward(x)
        return _aten.threshold_backward(grad_out, x, 0)

    @staticmethod
    @once_differentiable
    def backward(ctx, v):
        (x,) = ctx.saved_tensors
        return _aten.threshold_backward(v, x, 0), None


def _conv_ok(m: nn.Conv2d) -> bool:
    return isinstance(m.padding, tuple) and m.padding_mode == "zeros"


def _written_out(model: nn.Module) -> bool:
    """Whether every layer has a backward rule below."""
    if not isinstance(model, nn.Sequential):
        return False
    for m in model:
        if isinstance(m, nn.Conv2d):
            if not _conv_ok(m):
                return False
        elif not isinstance(m, (Normalize, nn.modules.batchnorm._BatchNorm, nn.ReLU, nn.Flatten, nn.Linear,
                                nn.Identity)):
            return False
    return True


def _forward_with_tape(model: nn.Sequential, x: Tensor):
    """model(x), recording what each layer's backward rule needs: [(module, input, extra)]."""
    tape = []
    for m in model:
        extra = None
        if isinstance(m, nn.modules.batchnorm._BatchNorm) and uses_batch_statistics(m):
            out, mean, invstd = train_batch_norm(m, x)
            extra = (mean, invstd)
        else:
            out = m(x)
            if isinstance(m, (nn.Conv2d, nn.Linear)):
                extra = m.weight  # after the call: a pruning hook's masked weight is in place
        tape.append((m, x, extra))
        x = out
    return x, tape


def _backward_step(m: nn.Module, x: Tensor, extra, g: Tensor) -> Tensor:
    """dL/d(input of m) from g = dL/d(output of m), differentiable."""
    if isinstance(m, nn.Conv2d):
        return _ConvInputGradient.apply(g, x, extra, m.stride, m.padding, m.dilation, m.groups)
    if isinstance(m, nn.Linear):
        return g.matmul(extra)
    if isinstance(m, nn.modules.batchnorm._BatchNorm):
        if extra is not None:
            return batch_norm_input_gradient(m, g, x, *extra)
        scale = m.weight / torch.sqrt(m.running_var + m.eps) if m.weight is not None \
            else torch.rsqrt(m.running_var + m.eps)
        return g * scale.reshape((1, -1) + (1,) * (g.dim() - 2))
    if isinstance(m, nn.ReLU):
        return _ReluInputGradient.apply(g, x)
    if isinstance(m, (nn.Flatten, nn.Identity)):
        return g.reshape(x.shape)
    if isinstance(m, Normalize):
        return g / m.std
    raise AssertionError(f"no backward rule for {type(m).__name__}")  # _written_out checked


def autograd_input_gradient(model: nn.Module, point: Tensor, y: Tensor, create_graph: bool = True,
                            forward=None):
    """(d CE(forward(model, point), y) / d point, logits detached) the generic way, by autograd
    (``forward`` defaults to ``model(point)``): the reference for the written-out pass, and
    its fallback."""
    point = point.detach().requires_grad_(True)
    logits = model(point) if forward is None else forward(model, point)
    (grad,) = torch.autograd.grad(F.cross_entropy(logits, y), point, create_graph=create_graph)
    return grad, logits.detach()


def differentiable_input_gradient(model: nn.Module, point: Tensor, y: Tensor):
    """(d CE(model(point), y) / d point, differentiable in the weights; logits detached).

    ``point`` is detached first; the model's train-mode BatchNorm running statistics are
    updated once, as by ``model(point)``."""
    if not _written_out(model):
        return autograd_input_gradient(model, point, y, forward=forward_twice_differentiable)
    # The chain below yields d/dpoint itself: autograd need not track the point (which
    # also spares the first layer's input gradient in the weights' backward pass).
    logits, tape = _forward_with_tape(model, point.detach())
    (g,) = torch.autograd.grad(F.cross_entropy(logits, y), logits, create_graph=True)  # (B, K)
    for m, x, extra in reversed(tape):
        g = _backward_step(m, x, extra, g)
    return g, logits.detach()
