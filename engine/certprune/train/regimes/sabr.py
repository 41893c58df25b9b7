"""SABR (Mueller et al., ICLR 2023): IBP through a small box (radius sabrBoxScale * eps)
placed around a PGD point inside the eps-ball; Adam, eps ramped up. See train/sabr.py."""
from __future__ import annotations

from ..sabr import sabr_loss
from .base import ADAM_PAPER, Regime


def loss(model, x, y, eps, settings, eps_max, generator):
    return sabr_loss(model, x, y, eps, box_scale=settings.options["sabrBoxScale"],
                     steps=settings.options["sabrPgdSteps"], generator=generator)


REGIME = Regime(
    name="sabr", label="SABR",
    help="Worst-case cross-entropy from interval bounds over a small box (sabrBoxScale x eps) around a PGD "
         "point inside the eps box (Mueller et al. 2023; Adam 1e-3).",
    optimizer=ADAM_PAPER, loss=loss, bounds="ibp",
)
