"""Stability and sparsity regularisers: RS loss, NRS loss (the paper's), Network Slimming L1.

RS and NRS take pre-activation bounds (l, u) of every ReLU, computed by IBP at the FULL
training eps (not the ramped one), as returned by certprune.bounds.compute_bounds.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Sequence

import torch
from torch import nn

NRS_GAMMA_FLOOR = 1e-6   # added to gamma^2 so a channel with gamma ~ 0 does not divide by zero


def rs_terms(lower: torch.Tensor, upper: torch.Tensor, scale: torch.Tensor | float = 1.0) -> torch.Tensor:
    """-tanh(1 + l * u / scale), element-wise, for bounds of any shape (B, ...).

    Near -1 for stable neurons (l*u >= 0), rising to +1 the more [l, u] straddles 0.
    """
    return -torch.tanh(1.0 + lower * upper / scale)


def _channel_scale(bn: nn.Module, like: torch.Tensor) -> torch.Tensor:
    """gamma_c^2 + floor (detached), shaped to broadcast over (B, C, ...) bounds."""
    gamma = bn.weight.detach()
    shape = (1, -1) + (1,) * (like.dim() - 2)
    return (gamma * gamma + NRS_GAMMA_FLOOR).reshape(shape)


def rs_loss(preactivations: Sequence[tuple[torch.Tensor, torch.Tensor]]) -> torch.Tensor:
    """RS loss (Xiao et al. 2019): the mean of -tanh(1 + l*u) over every neuron of every ReLU
    and every sample. preactivations: list of (l, u), each (B, ...)."""
    terms = [rs_terms(lower, upper).flatten() for lower, upper in preactivations]
    return torch.cat(terms).mean()


def nrs_loss(model: nn.Sequential, preactivations: Sequence[tuple[torch.Tensor, torch.Tensor]],
             relu_indices: Sequence[int]) -> torch.Tensor:
    """NRS loss: mean over neurons of -tanh(1 + l*u / (gamma_c^2 + 1e-6)).

    gamma_c is the (detached) BatchNorm weight of the neuron's channel when the layer
    right before the ReLU (index relu_indices[k] in the Sequential) is a BatchNorm; other
    ReLUs get plain RS terms. Dividing by gamma^2 makes it RS on the pre-BN scale, so
    unstable neurons in low-importance (small gamma) channels are penalised most.
    """
    terms = []
    for (lower, upper), index in zip(preactivations, relu_indices):
        before = model[index - 1] if index > 0 else None
        if isinstance(before, nn.modules.batchnorm._BatchNorm) and before.affine:
            terms.append(rs_terms(lower, upper, _channel_scale(before, lower)).flatten())
        else:
            terms.append(rs_terms(lower, upper).flatten())
    return torch.cat(terms).mean()


def slim_loss(model: nn.Module) -> torch.Tensor:
    """Network Slimming: sum of |gamma| over every BatchNorm weight (multiply by its weight, 1e-4)."""
    gammas = [m.weight.abs().sum() for m in model.modules()
              if isinstance(m, nn.modules.batchnorm._BatchNorm) and m.affine]
    if not gammas:
        raise ValueError("the slim regulariser needs BatchNorm layers, and this model has none")
    return torch.stack(gammas).sum()


# --- the regularisers by name (config ``training.regularizer``) ---------------------------

SLIM_WEIGHT = 1e-4   # Network Slimming's L1 weight (PAPER.md)


@dataclass(frozen=True)
class Regularizer:
    """One regulariser: its loss and its default weight.

    stability: the loss reads IBP pre-activation bounds of every ReLU at the full training
        eps (RS, NRS); loss(model, preactivations, relu_indices) -> scalar (preactivations
        None when not stability).
    default_weight(regime): the weight when training.regularizerWeight is null.
    """
    name: str
    help: str
    stability: bool
    default_weight: Callable[[object], float]
    loss: Callable | None


REGULARIZERS: dict[str, Regularizer] = {
    "none": Regularizer("none", "No regulariser.", False, lambda regime: 0.0, None),
    "rs": Regularizer("rs", "ReLU stability (Xiao et al. 2019): penalises neurons whose bounds straddle 0.", True,
                      lambda regime: regime.stability_weight, lambda model, pre, relus: rs_loss(pre)),
    "nrs": Regularizer("nrs", "Neuron ReLU stability (the paper's): RS scaled by each channel's BatchNorm gamma.",
                       True, lambda regime: regime.stability_weight, nrs_loss),
    "slim": Regularizer("slim", "Network Slimming: L1 on BatchNorm gammas (weight 1e-4).", False,
                        lambda regime: SLIM_WEIGHT, lambda model, pre, relus: slim_loss(model)),
}


def get_regularizer(name: str) -> Regularizer:
    if name not in REGULARIZERS:
        raise ValueError(f"training.regularizer must be one of {', '.join(REGULARIZERS)}, got {name!r}")
    return REGULARIZERS[name]
