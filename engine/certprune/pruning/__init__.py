"""Pruning: the paper's methods (pure functions in a registry), masks and channel shrinking.

    from certprune.pruning import METHODS, PruneSettings, PruneData, dense_mask, shrink
    mask = dense_mask(model)                                   # round 0
    mask = METHODS["imp"](model, mask, PruneSettings(target_ratio=0.8, scope="conv"), PruneData())
    small = shrink(masked_model)                               # channel-pruned -> smaller layers

Module map: layers.py (which layers, how channels connect), masks.py (mask dicts and
counting), select.py (global top-N), unstructured.py (Random, IMP, SNIP, Taylor),
hydra.py (HYDRA), structured.py (StructLTH, Slim, NRS-channel), shrink.py,
registry.py (name -> method).
"""
from .context import PruneData, PruneSettings
from .layers import SCOPES, Layer, layers, prunable_layers
from .masks import (apply_mask, clone_mask, count_channels, count_weights, dense_mask, layer_report,
                    masked_entries_are_zero, remaining_channel_ratio, remaining_ratio)
from .registry import CHANNEL_METHODS, METHODS, NEEDS, default_rate, get_method, is_channel_method
from .shrink import dead_channels, shrink

__all__ = [
    "PruneData", "PruneSettings", "SCOPES", "Layer", "layers", "prunable_layers",
    "apply_mask", "clone_mask", "count_channels", "count_weights", "dense_mask", "layer_report",
    "masked_entries_are_zero", "remaining_channel_ratio", "remaining_ratio",
    "CHANNEL_METHODS", "METHODS", "NEEDS", "default_rate", "get_method", "is_channel_method",
    "dead_channels", "shrink",
]
