"""The record every training regime is: its optimizer and defaults, its loss, what it needs.

A regime is data (open_lth's strategies): regimes/<name>.py builds one ``Regime`` and
regimes/__init__.py lists it. The training loop, the settings, the optimizer and the
pruning inputs read these fields; none of them asks for a regime by name.

    loss(model, x, y, eps, settings, eps_max, generator) -> (loss, stats, ibp_result)

x: (B, C, H, W) in [0, 1]; y: (B,). ``eps`` is this batch's (ramped) eps, ``eps_max`` the
full training eps. stats: {"count", "correct", "robust_correct" (None when the regime
has no robust accuracy), "robust_loss"}. ibp_result: the IBP bound result the loss
computed at ``eps`` (RS/NRS reuse it once eps is the full eps), or None.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Iterable

import torch

Loss = Callable[..., tuple]
# score(model, test set, settings, generator) -> float, higher is better
Score = Callable[..., float]


@dataclass(frozen=True)
class Optimizer:
    """A torch optimizer and the paper's defaults for it.

    weight_decay_with_stability: the weight decay when an RS/NRS regulariser is on
    (None: the same as weight_decay). Adam runs without weight decay then (PAPER.md).
    """
    factory: Callable[..., torch.optim.Optimizer]
    lr: float
    weight_decay: float
    options: dict = field(default_factory=dict)      # e.g. {"momentum": 0.9}
    weight_decay_with_stability: float | None = None

    def build(self, params: Iterable[torch.nn.Parameter], lr: float, weight_decay: float) -> torch.optim.Optimizer:
        return self.factory(list(params), lr=lr, weight_decay=weight_decay, **self.options)

    def default_weight_decay(self, stability_regularizer: bool) -> float:
        if stability_regularizer and self.weight_decay_with_stability is not None:
            return self.weight_decay_with_stability
        return self.weight_decay


# The paper's two optimizers (PAPER.md): natural/FGSM use SGD, IBP/CROWN-IBP use Adam.
SGD_PAPER = Optimizer(torch.optim.SGD, lr=0.01, weight_decay=5e-4, options={"momentum": 0.9})
ADAM_PAPER = Optimizer(torch.optim.Adam, lr=1e-3, weight_decay=1e-5, weight_decay_with_stability=0.0)


@dataclass(frozen=True)
class Checkpoint:
    """Keep the epoch with the best ``score`` on the test set (recorded in the epoch
    history under ``metric``), instead of the last epoch."""
    metric: str
    score: Score


@dataclass(frozen=True)
class Regime:
    """One training regime (config ``training.regime``).

    bounds: the bound method the loss certifies with ("ibp", "crown-ibp"), or None when
        the loss uses no bounds. Certified regimes' robust accuracy is a verified accuracy.
    robust_accuracy: the loss reports a robust accuracy (every regime but natural).
    stability_weight: the default RS/NRS regulariser weight under this regime.
    hydra_lr: HYDRA's score learning rate when it learns on this regime's loss.
    checkpoint: how the kept checkpoint is chosen (None: the last epoch).
    """
    name: str
    label: str
    help: str
    optimizer: Optimizer
    loss: Loss
    bounds: str | None = None
    robust_accuracy: bool = True
    stability_weight: float = 0.001
    hydra_lr: float = 0.001
    checkpoint: Checkpoint | None = None

    @property
    def certified(self) -> bool:
        return self.bounds is not None

    def describe(self) -> dict:
        """The facts the dashboard shows (engine/schemas/registry.json)."""
        return {"name": self.name, "label": self.label, "help": self.help, "certified": self.certified,
                "optimizer": self.optimizer.factory.__name__, "lr": self.optimizer.lr,
                "weightDecay": self.optimizer.weight_decay}
