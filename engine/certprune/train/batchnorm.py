"""Train-mode BatchNorm with a cheap second derivative, for GradAlign's double backward.

    y, mean, invstd = train_batch_norm(bn, x)                     # bn(x), and its statistics
    gx = batch_norm_input_gradient(bn, gy, x, mean, invstd)      # differentiable dL/dx
    logits = forward_twice_differentiable(model, x)   # a whole model (autograd does the rest)

``certprune.train.input_gradient`` uses the first two in its written-out backward pass, and
the third for models it cannot write out.

GradAlign differentiates the input gradient at the random point, so every train-mode
BatchNorm is differentiated twice. PyTorch builds that second derivative from ~30
element-wise operations over the activation map per layer (FunctionsManual.cpp's
batchnorm_double_backward), which made BatchNorm cost FGSM+GradAlign more than the
convolutions' extra arithmetic did. Written out per channel, every gradient of the first
backward's outputs is a per-channel affine combination of the tensors already at hand
(the derivation is in ``_BackwardOfBatchNorm.backward``), so it takes one native
BatchNorm backward, one product-and-sum and three fused multiply-adds.

Forward values, running-statistic updates and the first derivative are PyTorch's own
kernels (``native_batch_norm`` and ``native_batch_norm_backward``), so the logits, the
input gradient and the FGSM example are bit-for-bit what ``model(x)`` gives; only the
rounding of the second derivative differs (tests compare it with PyTorch's in float64).
"""
from __future__ import annotations

import torch
from torch import Tensor, nn
from torch.autograd.function import once_differentiable

_aten = torch.ops.aten


def _channel_view(t: Tensor, ndim: int) -> Tensor:
    """(C,) -> (1, C, 1, ...) for an input of ``ndim`` dims."""
    return t.reshape((1, -1) + (1,) * (ndim - 2))


def _channel_sum(t: Tensor) -> Tensor:
    """Sum over every dim but the channel dim 1: (B, C, ...) -> (C,)."""
    return t.sum(dim=[0] + list(range(2, t.dim())))


class _BackwardOfBatchNorm(torch.autograd.Function):
    """(g, x, gamma) -> (dL/dx, dL/dgamma, dL/dbeta) of train-mode BatchNorm, given dL/dy = g.

    mean and invstd (the forward's saved batch statistics) are constants here: their
    dependence on x is part of the derivative computed in ``backward``.
    """

    @staticmethod
    def forward(ctx, grad_out, x, weight, mean, invstd, eps):
        grad_in, grad_weight, grad_bias = _aten.native_batch_norm_backward(
            grad_out, x, weight, None, None, mean, invstd, True, eps, [True, True, True])
        ctx.eps = eps
        ctx.set_materialize_grads(False)  # unused outputs' gradients arrive as None, not zeros
        ctx.save_for_backward(grad_out, x, weight, mean, invstd, grad_weight, grad_bias)
        return grad_in, grad_weight, grad_bias

    @staticmethod
    @once_differentiable
    def backward(ctx, v, v_gamma, v_beta):
        """Per channel, with N values, x_hat = (x - mean) * s, s = invstd, and
        V = sum v, G = sum g, P = sum v*x_hat, Q = sum g*x_hat, R = sum v*g:

        the first backward is gx = gamma*s*(g - G/N - x_hat*Q/N), gamma_grad = Q, beta_grad = G;
        so L2 = <v, gx> + v_gamma*Q + v_beta*G = gamma*s*(R - V*G/N - P*Q/N) + v_gamma*Q + v_beta*G.

        d/dg     = gamma*s*(v - V/N - x_hat*P/N) + v_gamma*x_hat + v_beta   (a BatchNorm backward of v)
        d/dgamma = s*(R - V*G/N - P*Q/N)
        d/dx     = s*(h - mean h - x_hat*mean(h*x_hat)) - k*s^2*x_hat/N   (x_hat's and s's dependence
                   on x), with h = dL2/dx_hat = -(gamma*s/N)*(Q*v + P*g) + v_gamma*g and
                   k = dL2/ds = gamma*(R - V*G/N - P*Q/N);
                 = a_v*v + a_g*g + a_x*x_hat + a_0 with the per-channel scalars below.
        """
        g, x, weight, mean, invstd, q, big_g = ctx.saved_tensors
        ndim = x.dim()
        n = x.numel() // x.shape[1]
        gamma = weight if weight is not None else torch.ones_like(invstd)
        vg = 0.0 if v_gamma is None else v_gamma  # (in the formulas below)
        if v is None:
            v = torch.zeros_like(x)
        need_g, need_x, need_gamma = ctx.needs_input_grad[0], ctx.needs_input_grad[1], ctx.needs_input_grad[2]
        # One native call gives gamma*s*(v - V/N - x_hat*P/N), P and V.
        bn_of_v, p, big_v = _aten.native_batch_norm_backward(
            v, x, gamma, None, None, mean, invstd, True, ctx.eps, [need_g, True, True])
        s = invstd
        r = _channel_sum(v * g)
        core = r - big_v * big_g / n - p * q / n               # (C,): R - V*G/N - P*Q/N
        grad_g = grad_x = grad_gamma = None
        if need_g:
            grad_g = bn_of_v
            if v_gamma is not None:
                x_hat = (x - _channel_view(mean, ndim)) * _channel_view(s, ndim)
                grad_g = torch.addcmul(grad_g, x_hat, _channel_view(v_gamma, ndim))
            if v_beta is not None:
                grad_g = grad_g + _channel_view(v_beta, ndim)
        if need_gamma and weight is not None:
            grad_gamma = s * core
        if need_x:
            k = gamma * core
            h_mean = (-(gamma * s / n) * (q * big_v + p * big_g) + vg * big_g) / n
            hx_mean = (-2.0 * gamma * s * p * q / n + vg * q) / n
            a_v = -gamma * s * s * q / n
            a_g = -gamma * s * s * p / n + s * vg
            a_x = -(s * hx_mean + k * s * s / n)
            a_0 = -s * h_mean
            # a_x * x_hat + a_0 = (a_x*s) * x + (a_0 - a_x*s*mean): one fused multiply-add.
            grad_x = torch.addcmul(_channel_view(a_0 - a_x * s * mean, ndim), x, _channel_view(a_x * s, ndim))
            grad_x.addcmul_(v, _channel_view(a_v, ndim)).addcmul_(g, _channel_view(a_g, ndim))
        return grad_g, grad_x, grad_gamma, None, None, None


class _TrainBatchNorm(torch.autograd.Function):
    """(y, mean, invstd) = BatchNorm(x) with batch statistics (the statistics are constants to
    autograd); running statistics updated in place, as ``F.batch_norm(..., training=True)``
    does. Its backward is ``_BackwardOfBatchNorm``, so that a second derivative goes
    through the cheap formula."""

    @staticmethod
    def forward(ctx, x, weight, bias, running_mean, running_var, momentum, eps):
        out, mean, invstd = torch.native_batch_norm(x, weight, bias, running_mean, running_var, True, momentum, eps)
        ctx.eps = eps
        ctx.has_weight = weight is not None
        ctx.save_for_backward(x, weight, mean, invstd)
        ctx.mark_non_differentiable(mean, invstd)
        return out, mean, invstd

    @staticmethod
    def backward(ctx, grad_out, _grad_mean, _grad_invstd):
        x, weight, mean, invstd = ctx.saved_tensors
        grad_in, grad_weight, grad_bias = _BackwardOfBatchNorm.apply(grad_out, x, weight, mean, invstd, ctx.eps)
        if not ctx.has_weight:
            grad_weight = grad_bias = None
        return grad_in, grad_weight, grad_bias, None, None, None, None


def uses_batch_statistics(bn: nn.modules.batchnorm._BatchNorm) -> bool:
    """Whether ``bn(x)`` normalises with x's own statistics (as nn.BatchNorm decides)."""
    return bn.training or bn.running_mean is None or bn.running_var is None


def running_average_step(bn: nn.modules.batchnorm._BatchNorm) -> float:
    """Count one more batch in ``bn.num_batches_tracked`` and return that batch's weight in
    the running statistics, as a train-mode ``bn(x)`` does (momentum, or 1/count when
    momentum is None)."""
    factor = 0.0 if bn.momentum is None else bn.momentum
    if bn.training and bn.track_running_stats and bn.num_batches_tracked is not None:
        bn.num_batches_tracked.add_(1)
        if bn.momentum is None:
            factor = 1.0 / float(bn.num_batches_tracked)
    return factor


def train_batch_norm(bn: nn.modules.batchnorm._BatchNorm, x: Tensor):
    """(y, mean, invstd) of ``bn`` on x when it uses batch statistics: ``bn(x)``'s output and
    running-statistic update, with the batch statistics it used and the cheap second
    derivative."""
    factor = running_average_step(bn)
    running_mean = bn.running_mean if bn.track_running_stats else None
    running_var = bn.running_var if bn.track_running_stats else None
    return _TrainBatchNorm.apply(x, bn.weight, bn.bias, running_mean, running_var, factor, bn.eps)


def batch_norm_input_gradient(bn: nn.modules.batchnorm._BatchNorm, grad_out: Tensor, x: Tensor,
                              mean: Tensor, invstd: Tensor) -> Tensor:
    """dL/dx of train-mode ``bn`` given dL/dy, as a differentiable op with the cheap second
    derivative (mean, invstd: the batch statistics ``train_batch_norm`` returned)."""
    return _BackwardOfBatchNorm.apply(grad_out, x, bn.weight, mean, invstd, bn.eps)[0]


def batch_norm_twice_differentiable(bn: nn.modules.batchnorm._BatchNorm, x: Tensor) -> Tensor:
    """What ``bn(x)`` computes (and does to its running statistics), with the cheap second
    derivative when ``bn`` uses batch statistics; otherwise just ``bn(x)``."""
    return train_batch_norm(bn, x)[0] if uses_batch_statistics(bn) else bn(x)


def forward_twice_differentiable(model: nn.Module, x: Tensor) -> Tensor:
    """``model(x)`` for a flat nn.Sequential, with every train-mode BatchNorm through
    ``batch_norm_twice_differentiable``; any other model runs as it is."""
    if not isinstance(model, nn.Sequential):
        return model(x)
    for module in model:
        if isinstance(module, nn.modules.batchnorm._BatchNorm):
            x = batch_norm_twice_differentiable(module, x)
        else:
            x = module(x)
    return x
