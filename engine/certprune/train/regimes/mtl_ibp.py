"""MTL-IBP (De Palma et al., ICLR 2024): (1 - mtlAlpha) x the cross-entropy at an attack
point + mtlAlpha x the IBP worst-case cross-entropy; Adam, eps ramped up. See train/mtl_ibp.py."""
from __future__ import annotations

from ..mtl_ibp import mtl_ibp_loss
from .base import ADAM_PAPER, Regime


def loss(model, x, y, eps, settings, eps_max, generator):
    options = settings.options
    return mtl_ibp_loss(model, x, y, eps, alpha=options["mtlAlpha"], steps=options["mtlAttackSteps"],
                        step=options["mtlAttackStep"], generator=generator)


REGIME = Regime(
    name="mtl-ibp", label="MTL-IBP",
    help="A convex combination of the adversarial cross-entropy (weight 1 - mtlAlpha) and the IBP worst-case "
         "cross-entropy (weight mtlAlpha) (De Palma et al. 2024; Adam 1e-3).",
    optimizer=ADAM_PAPER, loss=loss, bounds="ibp",
)
