"""L1-norm filter pruning (Li et al. 2017): remove the channels whose surviving filter
weights have the smallest L1 norm. Structured and data-free."""
from __future__ import annotations

from certprune.pruning.layers import prunable_layers
from certprune.pruning.method import PruningMethod
from certprune.pruning.select import keep_top_channels


def prune_l1_channel(model, mask, settings, data):
    scores = {}
    for layer in prunable_layers(model, settings.scope):
        weight = model[layer.index].weight.detach() * mask[layer.weight_name]      # (C_out, ...)
        scores[layer.index] = weight.abs().reshape(weight.shape[0], -1).sum(dim=1)   # (C_out,)
    return keep_top_channels(model, mask, scores, settings.scope, settings.target_ratio)


L1_CHANNEL = PruningMethod(
    name="l1-channel", label="L1-channel", prune=prune_l1_channel, unit="channels",
    help="Removes the channels whose surviving filter weights have the smallest L1 norm (Li et al. 2017).",
)
