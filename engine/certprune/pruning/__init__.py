"""Pruning: the paper's methods (pure functions in a registry), masks and channel shrinking.

    from certprune.pruning import METHODS, PruneSettings, PruneData, dense_mask, shrink
    mask = dense_mask(model)                                   # round 0
    mask = METHODS["imp"](model, mask, PruneSettings(target_ratio=0.8, scope="conv"), PruneData())
    small = shrink(masked_model)                               # channel-pruned -> smaller layers

Module map: layers.py (which layers, how channels connect), masks.py (mask dicts and
counting), select.py (global top-N), method.py (the record a method is: function, unit,
needs, default rate), unstructured.py (Random, IMP, SNIP, Taylor), hydra.py (HYDRA),
structured.py (StructLTH, Slim, NRS-channel), registry.py (name -> record), inputs.py
(what the runner prepares for a method), shrink.py.
"""
from .context import PruneData, PruneSettings
from .layers import SCOPES, Layer, layers, prunable_layers
from .masks import (apply_mask, clone_mask, count_channels, count_weights, dense_mask, layer_report,
                    masked_entries_are_zero, remaining_channel_ratio, remaining_ratio)
from .method import PruningMethod
from .registry import METHODS, PAPER_METHODS, default_rate, get_method, is_channel_method
from .shrink import dead_channels, shrink

__all__ = [
    "PruneData", "PruneSettings", "SCOPES", "Layer", "layers", "prunable_layers",
    "apply_mask", "clone_mask", "count_channels", "count_weights", "dense_mask", "layer_report",
    "masked_entries_are_zero", "remaining_channel_ratio", "remaining_ratio",
    "METHODS", "PAPER_METHODS", "PruningMethod", "default_rate", "get_method", "is_channel_method",
    "dead_channels", "shrink",
]
