"""Training regimes by name (config ``training.regime``): a plain dict of records.

    regime = get_regime("crown-ibp")
    loss, stats, ibp_result = regime.loss(model, x, y, eps, settings, eps_max, generator)

Adding a regime is one file here that builds a ``Regime`` (base.py) and one line below
(docs/extending.md); `npm run schemas` then offers it in the dashboard.
"""
from __future__ import annotations

from . import crown_ibp, fgsm, ibp, mtl_ibp, natural, sabr
from .base import ADAM_PAPER, SGD_PAPER, Checkpoint, Optimizer, Regime

REGIMES: dict[str, Regime] = {
    natural.REGIME.name: natural.REGIME,
    fgsm.REGIME.name: fgsm.REGIME,
    ibp.REGIME.name: ibp.REGIME,
    crown_ibp.REGIME.name: crown_ibp.REGIME,
    sabr.REGIME.name: sabr.REGIME,
    mtl_ibp.REGIME.name: mtl_ibp.REGIME,
}


def get_regime(name: str) -> Regime:
    if name not in REGIMES:
        raise ValueError(f"training.regime must be one of {', '.join(REGIMES)}, got {name!r}")
    return REGIMES[name]


__all__ = ["ADAM_PAPER", "SGD_PAPER", "Checkpoint", "Optimizer", "REGIMES", "Regime", "get_regime"]
