"""The two arguments every pruning method takes besides the model and the mask.

    new_mask = METHODS["imp"](model, mask, PruneSettings(target_ratio=0.8), PruneData())

``PruneSettings`` says how much to keep and where; ``PruneData`` carries what a
data-driven method needs (batches, the regime's loss, the initial weights). Methods
that need a field check for it and say which one is missing.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Iterable, Sequence

import torch

Batch = tuple  # (images (B, C, H, W) in [0, 1], labels (B,))


@dataclass(frozen=True)
class PruneSettings:
    """How much to keep, where, and the knobs of the learned methods.

    target_ratio: remaining ratio after pruning, relative to the ORIGINAL count of
        prunable weights (unstructured methods) or channels (channel methods).
    scope: "conv" | "conv-linear" (see layers.py).
    hydra_epochs / hydra_lr / hydra_milestones: HYDRA score training (Adam; lr x0.1
        at each milestone epoch; the paper: 20 epochs, decay at 10 and 15).
    struct_lth_weight_rate: fraction of surviving weights StructLTH's inner IMP step
        removes before ranking channels (0.2 as in Chen et al. 2022).
    """
    target_ratio: float
    scope: str = "conv"
    hydra_epochs: int = 20
    hydra_lr: float = 0.01
    hydra_milestones: tuple = (10, 15)
    struct_lth_weight_rate: float = 0.2


@dataclass
class PruneData:
    """Data-dependent inputs (all optional; a method names the one it is missing).

    batches: a few training batches [(x (B,C,H,W), y (B,))] for gradient saliency
        (SNIP, Taylor) and bound statistics (NRS-channel), already on the model's device.
    epoch_batches: callable returning one shuffled pass over the training set (HYDRA).
    loss: callable(model, x, y) -> scalar tensor, the regime's training loss at the
        full training eps (robust loss for FGSM/IBP/CROWN-IBP, cross-entropy for natural).
    init_state: the network's initial state dict (SNIP scores the initial weights).
    relu_bounds: callable(model, x, eps) -> [(lower, upper)] interval bounds of every
        ReLU's input, in model order, each (B, *neuron shape) (NRS-channel).
    eps: the perturbation radius for ``relu_bounds``.
    generator: torch.Generator for random choices (Random pruning).
    log: callable(message) for progress of long methods (HYDRA).
    """
    batches: Sequence[Batch] = ()
    epoch_batches: Callable[[], Iterable[Batch]] | None = None
    loss: Callable | None = None
    init_state: dict | None = None
    relu_bounds: Callable | None = None
    eps: float = 0.0
    generator: torch.Generator | None = None
    log: Callable[[str], None] = field(default=lambda message: None)

    def need(self, name: str, method: str):
        value = getattr(self, name)
        if value is None or (name == "batches" and len(value) == 0):
            raise ValueError(f"pruning method {method!r} needs PruneData.{name}, which was not given")
        return value
