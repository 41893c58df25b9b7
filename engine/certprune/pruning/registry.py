"""Pruning methods by name (config ``pruning.method``): a plain dict.

Every method is a pure function ``(model, mask, settings, data) -> new mask``
(context.py for PruneSettings / PruneData). Paper "methods" that combine a pruning
rule with a training regulariser (IMP+RS, IMP+NRS, HYDRA+NRS, Slim, NRS-channel) are
(pruning.method, training.regularizer) pairs: the regulariser acts during training,
the rule below decides what to remove.
"""
from __future__ import annotations

from .hydra import prune_hydra
from .structured import prune_nrs_channel, prune_slim, prune_struct_lth
from .unstructured import prune_imp, prune_random, prune_snip, prune_taylor

METHODS = {
    "random": prune_random,
    "imp": prune_imp,
    "snip": prune_snip,
    "taylor": prune_taylor,
    "hydra": prune_hydra,
    "struct-lth": prune_struct_lth,
    "slim": prune_slim,
    "nrs-channel": prune_nrs_channel,
}

# Methods that remove whole channels (their schedule counts channels, 11% per round).
CHANNEL_METHODS = frozenset({"struct-lth", "slim", "nrs-channel"})

# What each method needs from PruneData (the runner prepares only these).
NEEDS = {
    "random": {"generator"},
    "imp": set(),
    "snip": {"batches", "loss", "init_state"},
    "taylor": {"batches", "loss"},
    "hydra": {"epoch_batches", "loss"},
    "struct-lth": set(),
    "slim": set(),
    "nrs-channel": {"batches", "relu_bounds"},
}

DEFAULT_WEIGHT_RATE = 0.2
DEFAULT_CHANNEL_RATE = 0.11


def get_method(name: str):
    if name not in METHODS:
        raise ValueError(f"unknown pruning method {name!r}; choose one of {', '.join(METHODS)} (or 'none')")
    return METHODS[name]


def is_channel_method(name: str) -> bool:
    return name in CHANNEL_METHODS


def default_rate(name: str) -> float:
    """Fraction of what remains removed per round: 0.11 of channels or 0.2 of weights."""
    return DEFAULT_CHANNEL_RATE if is_channel_method(name) else DEFAULT_WEIGHT_RATE
