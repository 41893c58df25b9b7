"""Shi et al. 2021, "Fast certified robust training with short warmup" (NeurIPS; the
paper's FastIBP ablation): the IBP initialisation and the warm-up regularisers.

    ibp_init(model)                                        # before training, in place
    reg = fast_warmup_regularizer(model, x, y, eps, eps_max)   # add to the loss in the ramp

IBP initialisation. Through an affine layer with fan-in n, IBP widens a box by |W|:
E[width out] = n E|w| E[width in]. For w ~ N(0, s^2), E|w| = s sqrt(2/pi), so
s = sqrt(2 pi) / n gives n E|w| = 2, which the ReLU after it (on average passing half of
the width) brings back to ~1: bound widths stay about constant layer to layer instead of
growing by ~sqrt(n)/2 per layer under PyTorch's default (Kaiming-uniform, a = sqrt(5))
init. Every Conv2d/Linear weight but the last layer's is redrawn; biases and BatchNorm are
kept (reference: shizhouxing/Fast-Certified-Robust-Training, manual_init.py, ibp_init).

Warm-up regularisers (the same repository, regularization.py compute_reg), on the IBP
bounds (l, u) of every ReLU input at the current eps (at least 1e-6, --min-eps-reg):
  tightness: mean over ReLU layers of relu(tol - r0 / mean((u - l) / 2)) / tol, with r0 the
      mean input radius after normalisation (the reference bounds the normalised input);
      it grows once a layer's bounds are more than 1/tol times wider than the input's.
  relu:      mean over ReLU layers of (relu(tol - rho_mean) + relu(tol - rho_var)) / tol,
      c = (l + u) / 2, active = l > 0, inactive = u < 0,
      rho_mean = min(q, 1/q) for q = mean(c * active) / -mean(c * inactive),
      rho_var  = min(q, 1/q) for q = sum((c - mean c)^2 * active) / sum((c - mean c)^2 * inactive);
      a layer whose ratios are NaN/inf (no active or no inactive neuron) adds 0 but still
      counts in the mean, as in the reference.
  weight: lambda * (1 - eps / eps_max), lambda = 0.5 (--reg-lambda; 0.2 for TinyImageNet),
      tol = 0.5 (--tol); both terms on by default (--reg-obj relu tightness). The weight
      is 0 once the ramp is over, so the regulariser only acts in the warm-up.
Paper settings (the reference's README and config/*.json; CNN7 with BatchNorm after every
layer, Adam 5e-4, gradient clip 10): MNIST trained at eps 0.4 (tested at 0.3), ramp 20
epochs from epoch 1, 70 epochs, batch 256; CIFAR-10 8/255, ramp 80 epochs from epoch 2,
160 epochs, batch 128. The paper ran no eps 0.1 or CIFAR 2/255 setting: tol 0.5 and
lambda 0.5 are its one default everywhere (lambda 0.2 on TinyImageNet). MTL-IBP's
commands use this init and warm-up as is at MNIST 0.1 and CIFAR 2/255 and 8/255
(--method=fast; alessandrodepalma/expressive-losses README), and so do the SABR scripts
of the TAPS/CTBench code (mix_train.py --init fast --fast-reg 0.5).
"""
from __future__ import annotations

import math
from typing import List, Sequence, Tuple

import torch
import torch.nn.functional as F
from torch import Tensor, nn

#: the reference's defaults (--tol, --reg-lambda, --min-eps-reg)
TOLERANCE = 0.5
REG_LAMBDA = 0.5
MIN_EPS = 1e-6


def _affine_layers(model: nn.Module) -> List[nn.Module]:
    return [m for m in model.modules() if isinstance(m, (nn.Conv2d, nn.Linear))]


@torch.no_grad()
def ibp_init(model: nn.Module, generator: torch.Generator | None = None) -> None:
    """Redraw every Conv2d/Linear weight except the last layer's from N(0, 2 pi / fan_in^2)."""
    layers = _affine_layers(model)
    for layer in layers[:-1]:
        weight = layer.weight_orig if hasattr(layer, "weight_orig") else layer.weight
        fan_in = weight[0].numel()  # in_channels * kh * kw, or in_features
        std = math.sqrt(2 * math.pi) / fan_in
        weight.copy_(torch.randn(weight.shape, generator=generator, dtype=weight.dtype) * std)


def normalized_input_radius(model: nn.Sequential, x_lower: Tensor, x_upper: Tensor) -> Tensor:
    """Mean radius of the input box after the model's leading Normalize layers (scalar)."""
    radius = (x_upper - x_lower) / 2
    for module in model:
        std = getattr(module, "std", None)
        if not (isinstance(std, Tensor) and isinstance(getattr(module, "mean", None), Tensor)):
            break
        radius = radius / std.abs()
    return radius.mean()


def tightness_loss(preactivations: Sequence[Tuple[Tensor, Tensor]], input_radius: Tensor,
                   tol: float = TOLERANCE) -> Tensor:
    """Mean over ReLU layers of relu(tol - input_radius / mean layer radius) / tol."""
    terms = [F.relu(tol - input_radius / ((u - l) / 2).mean().clamp(min=1e-12)) / tol for l, u in preactivations]
    return torch.stack(terms).mean()


def relu_balance_loss(preactivations: Sequence[Tuple[Tensor, Tensor]], tol: float = TOLERANCE) -> Tensor:
    """Mean over ReLU layers of the active/inactive balance penalty (module docstring)."""
    total = preactivations[0][0].new_zeros(())
    for l, u in preactivations:
        center = (u + l) / 2
        active, inactive = (l > 0).to(center.dtype), (u < 0).to(center.dtype)
        mean_ratio = (center * active).mean() / -(center * inactive).mean()
        delta = (center - center.mean()) ** 2
        var_ratio = (delta * active).sum() / (delta * inactive).sum()
        mean_ratio = torch.minimum(mean_ratio, 1 / mean_ratio.clamp(min=1e-12))
        var_ratio = torch.minimum(var_ratio, 1 / var_ratio.clamp(min=1e-12))
        term = (F.relu(tol - mean_ratio) + F.relu(tol - var_ratio)) / tol
        if bool(torch.isfinite(term)):
            total = total + term
    return total / len(preactivations)


def fast_warmup_regularizer(model: nn.Sequential, x: Tensor, y: Tensor, eps: float, eps_max: float,
                            tol: float = TOLERANCE, reg_lambda: float = REG_LAMBDA,
                            terms: Sequence[str] = ("tightness", "relu")) -> Tensor:
    """reg_lambda * (1 - eps / eps_max) * (tightness + relu) on the IBP bounds of x +- eps.

    x: (B, *input_shape) in [0, 1]. Train-mode BatchNorm uses the clean batch's statistics
    (as the certified losses do). Returns a scalar (0 with no gradient once eps >= eps_max).
    """
    weight = reg_lambda * (1.0 - eps / eps_max) if eps_max > 0 else 0.0
    if weight <= 0:
        return x.new_zeros(())
    from ..bounds import compute_bounds
    eps = max(eps, MIN_EPS)
    lower, upper = (x - eps).clamp(0.0, 1.0), (x + eps).clamp(0.0, 1.0)
    preacts = compute_bounds(model, lower, upper, method="ibp", clean_input=x).preactivations
    value = x.new_zeros(())
    if "tightness" in terms:
        value = value + tightness_loss(preacts, normalized_input_radius(model, lower, upper), tol)
    if "relu" in terms:
        value = value + relu_balance_loss(preacts, tol)
    return weight * value


@torch.no_grad()
def ibp_width_profile(model: nn.Sequential, x: Tensor, eps: float) -> List[float]:
    """Mean IBP radius of the normalised input, then of every ReLU's input, for x +- eps:
    how bounds grow with depth (the quantity the IBP initialisation keeps flat)."""
    from ..bounds import compute_bounds
    lower, upper = (x - eps).clamp(0.0, 1.0), (x + eps).clamp(0.0, 1.0)
    preacts = compute_bounds(model, lower, upper, method="ibp", clean_input=x).preactivations
    return [float(normalized_input_radius(model, lower, upper))] + [float(((u - l) / 2).mean()) for l, u in preacts]
