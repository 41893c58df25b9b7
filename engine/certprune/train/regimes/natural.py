"""Natural training: cross-entropy on clean images, SGD (no robustness objective)."""
from __future__ import annotations

from ..losses import natural_loss
from .base import SGD_PAPER, Regime


def loss(model, x, y, eps, settings, eps_max, generator):
    value, stats = natural_loss(model, x, y)
    return value, stats, None


REGIME = Regime(
    name="natural", label="Natural",
    help="Cross-entropy on clean images (SGD 0.01, momentum 0.9, weight decay 5e-4).",
    optimizer=SGD_PAPER, loss=loss, bounds=None, robust_accuracy=False,
    stability_weight=0.001, hydra_lr=0.01,
)
