"""The training objective of one batch: the regime's loss plus the weighted regulariser.

    loss, stats = batch_loss(model, x, y, eps, settings, eps_max=settings.eps, generator=g)

The regime (regimes/<name>.py, by settings.regime) gives the loss; the regulariser
(regularizers.REGULARIZERS, by settings.regularizer) is added with
settings.regularizer_weight; with training.fastWarmup, Shi et al. 2021's warm-up
regularisers during the eps ramp (train/fast_ibp.py). stats: the regime's stats plus
"regularizer" (its unweighted value) and "warmup" (when on). HYDRA and the other data-driven pruning methods score with this function.
"""
from __future__ import annotations

import torch
from torch import nn

from .losses import _box, _num_classes
from .regimes import get_regime
from .regularizers import get_regularizer


def full_eps_preactivations(model, x, y, eps_max, num_classes, reuse=None):
    """IBP pre-activation bounds of every ReLU at the full eps: (list of (l, u), relu indices).

    ``reuse``: a bound result already computed by IBP at eps_max for this batch."""
    if reuse is None:
        from ..bounds import compute_bounds, margin_spec
        lower_box, upper_box = _box(x, eps_max)
        reuse = compute_bounds(model, lower_box, upper_box, method="ibp",
                               spec=margin_spec(y, num_classes), clean_input=x)
    return reuse.preactivations, reuse.relu_indices


def regularizer_loss(model, x, y, settings, eps_max, num_classes, reuse=None) -> torch.Tensor:
    """The configured regulariser's value (unweighted)."""
    regularizer = get_regularizer(settings.regularizer)
    if regularizer.loss is None:
        return torch.zeros(())
    if not regularizer.stability:
        return regularizer.loss(model, None, None)
    preacts, relu_indices = full_eps_preactivations(model, x, y, eps_max, num_classes, reuse)
    return regularizer.loss(model, preacts, relu_indices)


def batch_loss(model: nn.Module, x: torch.Tensor, y: torch.Tensor, eps: float, settings,
               eps_max: float | None = None, generator: torch.Generator | None = None,
               num_classes: int | None = None):
    """The regime's loss for one batch (+ regularizerWeight * regulariser). Returns (loss, stats)."""
    eps_max = settings.eps if eps_max is None else eps_max
    loss, stats, result = get_regime(settings.regime).loss(model, x, y, eps, settings, eps_max, generator)
    # Pure-IBP bounds at the full eps are exactly what RS/NRS need: reuse them.
    reuse = result if (result is not None and eps >= eps_max and result.preactivations is not None) else None
    stats["regularizer"] = 0.0
    if settings.options.get("fastWarmup") and eps < eps_max:
        from .fast_ibp import fast_warmup_regularizer
        warmup = fast_warmup_regularizer(model, x, y, eps, eps_max)
        stats["warmup"] = float(warmup.detach())
        loss = loss + warmup
    if get_regularizer(settings.regularizer).loss is not None and settings.regularizer_weight > 0:
        if num_classes is None:
            num_classes = _num_classes(model)
        reg = regularizer_loss(model, x, y, settings, eps_max, num_classes, reuse)
        stats["regularizer"] = float(reg.detach())
        loss = loss + settings.regularizer_weight * reg
    return loss, stats
