"""Optimizers of the regimes, and keeping pruned weights at exactly zero."""
from __future__ import annotations

from typing import Iterable, Mapping

import torch
from torch import nn

from .regimes import get_regime


def make_optimizer(params: Iterable[torch.nn.Parameter], settings) -> torch.optim.Optimizer:
    """The regime's optimizer (SGD with momentum 0.9 for natural/FGSM, Adam for IBP/CROWN-IBP)
    with settings.lr and settings.weight_decay."""
    params = [p for p in params if p.requires_grad]
    return get_regime(settings.regime).optimizer.build(params, settings.lr, settings.weight_decay)


def set_lr(optimizer: torch.optim.Optimizer, lr: float) -> None:
    for group in optimizer.param_groups:
        group["lr"] = lr


def _masked(model: nn.Module, masks: Mapping[str, torch.Tensor] | None):
    if not masks:
        return []
    params = dict(model.named_parameters())
    missing = [name for name in masks if name not in params]
    if missing:
        raise KeyError(f"masks name parameters the model does not have: {', '.join(missing)}; "
                       f"model parameters are {', '.join(params)}")
    return [(params[name], mask) for name, mask in masks.items()]


def mask_gradients(model: nn.Module, masks: Mapping[str, torch.Tensor] | None) -> None:
    """Zero the gradients of pruned weights (before clipping and the step)."""
    for param, mask in _masked(model, masks):
        if param.grad is not None:
            param.grad.mul_(mask.to(param.grad.device, param.grad.dtype))


@torch.no_grad()
def apply_masks(model: nn.Module, masks: Mapping[str, torch.Tensor] | None) -> None:
    """param *= mask for every masked parameter, so pruned weights stay exactly zero
    whatever momentum and weight decay did in the step."""
    for param, mask in _masked(model, masks):
        param.mul_(mask.to(param.device, param.dtype))
