"""IBP training (Gowal et al. 2018): cross-entropy on the worst-case logits from interval
bounds over the eps box, with eps ramped up (Adam)."""
from __future__ import annotations

from ..losses import certified_loss
from .base import ADAM_PAPER, Regime


def loss(model, x, y, eps, settings, eps_max, generator):
    return certified_loss(model, x, y, eps, settings, eps_max, bounds="ibp")


REGIME = Regime(
    name="ibp", label="IBP",
    help="Worst-case cross-entropy from interval bounds over the eps box, eps ramped up (Adam 1e-3).",
    optimizer=ADAM_PAPER, loss=loss, bounds="ibp",
)
