"""CROWN-IBP training (Zhang et al. 2020): the worst-case logits mix CROWN-IBP and IBP
bounds, beta = (eps_max - eps) / eps_max, pure IBP once the ramp is over (Adam). With
training.lossFusion, auto_LiRPA's loss fusion (train/loss_fusion.py): one backward pass
bounds the cross-entropy itself, a cheaper and different objective."""
from __future__ import annotations

from ..losses import certified_loss
from .base import ADAM_PAPER, Regime


def loss(model, x, y, eps, settings, eps_max, generator):
    if settings.options.get("lossFusion"):
        from ..loss_fusion import fused_crown_ibp_loss
        return fused_crown_ibp_loss(model, x, y, eps, eps_max)
    return certified_loss(model, x, y, eps, settings, eps_max, bounds="crown-ibp")


REGIME = Regime(
    name="crown-ibp", label="CROWN-IBP",
    help="Worst-case cross-entropy from CROWN-IBP bounds mixed into IBP bounds as eps ramps up (Adam 1e-3); "
         "the paper's default.",
    optimizer=ADAM_PAPER, loss=loss, bounds="crown-ibp",
)
