"""Structured (channel) pruning: StructLTH, Network Slimming and NRS-channel.

Each is a pure function (model, mask, settings, data) -> new mask that scores every
surviving channel (conv filter, or hidden linear neuron with scope "conv-linear")
and keeps the top ``target_ratio`` of the original channel count globally
(select.keep_top_channels). A removed channel loses its weight row, bias, BatchNorm
gamma/beta and the next layer's input slice, so it outputs exactly 0 and shrink.py
can cut it out of the network.
"""
from __future__ import annotations

import copy

import torch
from torch import nn

from .context import PruneData, PruneSettings
from .layers import Layer, prunable_layers
from .masks import Mask, apply_mask, count_weights
from .method import PruningMethod
from .select import keep_top_channels, keep_top_weights
from ..train.regularizers import NRS_GAMMA_FLOOR, rs_terms


def prune_struct_lth(model: nn.Sequential, mask: Mask, settings: PruneSettings, data: PruneData) -> Mask:
    """StructLTH (Chen et al. 2022, "IMP-Refill").

    1. an unstructured IMP step removes ``struct_lth_weight_rate`` of the surviving
       weights (smallest |w|, globally);
    2. each channel is scored by the summed |w| of its filter that survived step 1;
    3. the lowest channels are removed and the kept channels are *refilled*: their
       filters keep every weight the previous (channel-level) mask kept, undoing step 1.
    """
    remaining, total = count_weights(model, mask, settings.scope)
    inner_ratio = remaining * (1.0 - settings.struct_lth_weight_rate) / total
    magnitudes = {l.weight_name: model[l.index].weight.detach().abs() for l in prunable_layers(model, settings.scope)}
    after_imp = keep_top_weights(model, mask, magnitudes, settings.scope, inner_ratio)
    scores = {}
    for layer in prunable_layers(model, settings.scope):
        kept = magnitudes[layer.weight_name] * after_imp[layer.weight_name].to(magnitudes[layer.weight_name])
        scores[layer.index] = kept.reshape(kept.shape[0], -1).sum(dim=1)   # (C,)
    return keep_top_channels(model, mask, scores, settings.scope, settings.target_ratio)


def _batch_norm(model: nn.Sequential, layer: Layer, method: str) -> nn.Module:
    if layer.bn is None:
        raise ValueError(f"pruning method {method!r} ranks channels by their BatchNorm, but {layer.name} has "
                         f"none after it; use scope 'conv' (conv layers have BatchNorm in cnn4/cnn7)")
    return model[layer.bn]


def prune_slim(model: nn.Sequential, mask: Mask, settings: PruneSettings, data: PruneData) -> Mask:
    """Network Slimming (Liu et al. 2017): remove the channels with the smallest |gamma|.

    gamma is the BatchNorm weight of the channel, trained with an L1 penalty
    (training.regularizer "slim"), ranked globally across layers.
    """
    scores = {}
    for layer in prunable_layers(model, settings.scope):
        scores[layer.index] = _batch_norm(model, layer, "slim").weight.detach().abs()  # (C,)
    return keep_top_channels(model, mask, scores, settings.scope, settings.target_ratio)


def _relu_after(model: nn.Sequential, layer: Layer) -> int:
    """Position, among the model's ReLUs, of the ReLU that follows ``layer``."""
    relus = [i for i, m in enumerate(model) if isinstance(m, nn.ReLU)]
    for order, index in enumerate(relus):
        if index > layer.index:
            return order
    raise ValueError(f"{layer.name} is followed by no ReLU; NRS-channel needs conv/linear -> [BN] -> ReLU")


def channel_nrs(lower: torch.Tensor, upper: torch.Tensor, gamma: torch.Tensor | None) -> torch.Tensor:
    """Per-channel NRS instability: mean over samples and positions of -tanh(1 + l*u / (gamma_c^2 + 1e-6)).

    lower, upper: (B, C, H, W) or (B, C) bounds of the ReLU input. gamma: (C,) BatchNorm
    weights, or None for plain RS (-tanh(1 + l*u)). Returns (C,); higher = less stable.
    A stable neuron (l*u >= 0) scores below -tanh(1) ~ -0.76; an unstable one with a
    wide interval relative to its channel's gamma approaches +1.
    """
    scale = 1.0
    if gamma is not None:  # the NRS loss's own scale (train/regularizers.py), so ranking matches training
        shape = (1, -1) + (1,) * (lower.dim() - 2)
        scale = (gamma.detach() ** 2 + NRS_GAMMA_FLOOR).reshape(shape)
    term = rs_terms(lower, upper, scale)                                   # (B, C, ...)
    return term.transpose(0, 1).reshape(term.shape[1], -1).mean(dim=1)     # (C,)


@torch.no_grad()
def prune_nrs_channel(model: nn.Sequential, mask: Mask, settings: PruneSettings, data: PruneData) -> Mask:
    """NRS-channel: remove the channels with the highest NRS instability.

    Bounds are interval (IBP) bounds of each ReLU's input at ``data.eps`` around the
    images of ``data.batches``, with the trained network in eval mode. A channel's
    score is its mean NRS term (channel_nrs); the most unstable relative to their
    BatchNorm importance go first: removing them removes the unstable neurons that
    complete verification pays for, in the channels NRS training marked unimportant.
    Layers without BatchNorm (hidden linear layers) use the plain RS term.
    """
    relu_bounds = data.need("relu_bounds", "nrs-channel")
    batches = data.need("batches", "nrs-channel")
    work = copy.deepcopy(model)
    apply_mask(work, mask)
    work.eval()
    chosen = prunable_layers(work, settings.scope)
    sums = {l.index: 0.0 for l in chosen}
    count = 0
    for x, _ in batches:
        bounds = relu_bounds(work, x, data.eps)
        for layer in chosen:
            lower, upper = bounds[_relu_after(work, layer)]
            gamma = work[layer.bn].weight if layer.bn is not None else None
            sums[layer.index] = sums[layer.index] + channel_nrs(lower, upper, gamma) * x.shape[0]
        count += x.shape[0]
    scores = {index: -(total / count) for index, total in sums.items()}    # keep the most stable
    return keep_top_channels(model, mask, scores, settings.scope, settings.target_ratio)


# --- the records (registry.py lists them) ---------------------------------------------

STRUCT_LTH = PruningMethod(
    name="struct-lth", label="StructLTH", prune=prune_struct_lth, unit="channels",
    help="Structured lottery tickets (IMP-Refill): ranks channels by the summed magnitude of their surviving "
         "filter weights.")
SLIM = PruningMethod(
    name="slim", label="Slim", prune=prune_slim, unit="channels",
    help="Network Slimming: removes the channels with the smallest BatchNorm |gamma| (train with the slim "
         "regulariser).")
NRS_CHANNEL = PruningMethod(
    name="nrs-channel", label="NRS-channel", prune=prune_nrs_channel, unit="channels",
    needs=frozenset({"batches", "relu_bounds"}),
    help="Removes the channels whose ReLUs are least stable under interval bounds, relative to their BatchNorm "
         "gamma (train with the nrs regulariser).")
