"""Pruning methods by name (config ``pruning.method``): a plain dict of records.

Every method is a ``PruningMethod`` (method.py): a pure function ``(model, mask,
settings, data) -> new mask`` and its facts (unit, needs, default rate, help), defined
next to its function. Paper "methods" that combine a pruning rule with a training
regulariser (IMP+RS, IMP+NRS, HYDRA+NRS, Slim, NRS-channel) are (pruning.method,
training.regularizer) pairs: the regulariser acts during training, the rule below
decides what to remove (PAPER_METHODS).

Adding a method is one file that builds a ``PruningMethod`` and one line below
(docs/extending.md); `npm run schemas` then offers it in the dashboard.
"""
from __future__ import annotations

from .hydra import HYDRA
from .method import UNITS, PruningMethod
from .structured import NRS_CHANNEL, SLIM, STRUCT_LTH
from .unstructured import IMP, RANDOM, SNIP, TAYLOR

METHODS: dict[str, PruningMethod] = {m.name: m for m in (
    RANDOM,
    IMP,
    SNIP,
    TAYLOR,
    HYDRA,
    STRUCT_LTH,
    SLIM,
    NRS_CHANNEL,
)}

# The paper's methods as (label, pruning.method, training.regularizer), in its Table I order.
PAPER_METHODS = (
    ("Dense", "none", "none"), ("Random", "random", "none"), ("IMP", "imp", "none"), ("SNIP", "snip", "none"),
    ("Taylor", "taylor", "none"), ("HYDRA", "hydra", "none"), ("IMP+RS", "imp", "rs"), ("IMP+NRS", "imp", "nrs"),
    ("HYDRA+NRS", "hydra", "nrs"), ("StructLTH", "struct-lth", "none"), ("Slim", "slim", "slim"),
    ("NRS-channel", "nrs-channel", "nrs"),
)

DEFAULT_WEIGHT_RATE = UNITS["weights"]
DEFAULT_CHANNEL_RATE = UNITS["channels"]


def get_method(name: str) -> PruningMethod:
    if name not in METHODS:
        raise ValueError(f"unknown pruning method {name!r}; choose one of {', '.join(METHODS)} (or 'none')")
    return METHODS[name]


# Derived views, for callers that ask one fact at a time.

def is_channel_method(name: str) -> bool:
    return get_method(name).structured


def default_rate(name: str) -> float:
    """Fraction of what remains removed per round: 0.11 of channels or 0.2 of weights."""
    return get_method(name).default_rate

