"""The record every pruning method is: its function and the facts the runner and the UI need.

    IMP = PruningMethod(name="imp", label="IMP", prune=prune_imp, unit="weights", needs=frozenset(),
                        help="Iterative magnitude pruning: ...")
    new_mask = IMP(model, mask, PruneSettings(target_ratio=0.8), PruneData())   # a record is callable

``prune`` is a pure function (model, mask, PruneSettings, PruneData) -> new mask
(context.py). ``needs`` names the PruneData fields it reads; the runner prepares only
those (inputs.py), so cheap methods stay cheap. ``unit`` says what the schedule counts:
"weights" (unstructured, 20% of what remains per round) or "channels" (structured, 11%).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from .context import PruneData

UNITS = {"weights": 0.2, "channels": 0.11}   # unit -> default rate per round (PAPER.md)


@dataclass(frozen=True)
class PruningMethod:
    """One pruning method (config ``pruning.method``).

    needs: PruneData fields read ("batches", "loss", "epoch_batches", "init_state",
        "relu_bounds", "generator"). Gradient-based methods need "loss" (the regime's loss).
    default_rate: fraction of what remains removed per round when pruning.rate is null
        (None: the unit's, 0.2 of weights or 0.11 of channels).
    """
    name: str
    label: str
    help: str
    prune: Callable
    unit: str
    needs: frozenset = frozenset()
    default_rate: float | None = None

    def __post_init__(self):
        if self.unit not in UNITS:
            raise ValueError(f"pruning method {self.name!r}: unit must be one of {', '.join(UNITS)}, got {self.unit!r}")
        unknown = set(self.needs) - set(PruneData.__dataclass_fields__)
        if unknown:
            raise ValueError(f"pruning method {self.name!r} needs {', '.join(sorted(unknown))}, which PruneData "
                             f"does not have")
        if self.default_rate is None:
            object.__setattr__(self, "default_rate", UNITS[self.unit])

    @property
    def structured(self) -> bool:
        """Removes whole channels (and the network can be physically shrunk)."""
        return self.unit == "channels"

    def __call__(self, model, mask, settings, data):
        return self.prune(model, mask, settings, data)

    def describe(self) -> dict:
        """The facts the dashboard shows (engine/schemas/registry.json)."""
        return {"name": self.name, "label": self.label, "help": self.help, "unit": self.unit,
                "structured": self.structured, "defaultRate": self.default_rate,
                "needs": sorted(self.needs)}
