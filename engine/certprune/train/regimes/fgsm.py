"""FGSM + GradAlign (Andriushchenko & Flammarion 2020): adversarial training, SGD; the
kept checkpoint is the epoch with the best FGSM test accuracy."""
from __future__ import annotations

from ..losses import fgsm_loss
from ..metrics import fgsm_accuracy
from .base import SGD_PAPER, Checkpoint, Regime


def loss(model, x, y, eps, settings, eps_max, generator):
    value, stats = fgsm_loss(model, x, y, eps, settings, generator)
    return value, stats, None


def best_fgsm(model, test_set, settings, generator) -> float:
    return fgsm_accuracy(model, test_set, settings.eps, settings.fgsm_step, generator=generator)


REGIME = Regime(
    name="fgsm", label="FGSM+GradAlign",
    help="Cross-entropy at an FGSM example plus the GradAlign penalty (SGD); keeps the epoch with the best "
         "FGSM test accuracy.",
    optimizer=SGD_PAPER, loss=loss, bounds=None,
    stability_weight=0.01, hydra_lr=0.01,
    checkpoint=Checkpoint(metric="fgsmTestAccuracy", score=best_fgsm),
)
