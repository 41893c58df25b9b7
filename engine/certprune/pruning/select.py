"""Global selection: keep the highest-scoring weights or channels across all layers.

Every method reduces to "score what remains, keep the top N globally". N comes from
the schedule as a ratio of the *original* count, so counted sparsity follows the
schedule exactly (rounding once, not once per round). Ties are broken by position
(earlier layers and lower indices first), so selection is deterministic.
"""
from __future__ import annotations

import torch
from torch import nn

from .layers import Layer, channel_count, prunable_layers
from .masks import Mask, channels_alive, clone_mask, remove_channels


def target_count(total: int, target_ratio: float) -> int:
    """How many of ``total`` items a remaining ratio of ``target_ratio`` keeps (rounded)."""
    if not 0.0 <= target_ratio <= 1.0:
        raise ValueError(f"target remaining ratio must be in [0, 1], got {target_ratio}")
    return int(round(total * target_ratio))


def _top_positions(scores: torch.Tensor, keep: int) -> torch.Tensor:
    """Indices of the ``keep`` largest entries of 1-D ``scores``; ties go to lower indices."""
    order = torch.sort(scores, descending=True, stable=True).indices
    return order[:keep]


def keep_top_weights(model: nn.Sequential, mask: Mask, scores: dict, scope: str, target_ratio: float) -> Mask:
    """New mask keeping the top-scoring surviving weights of the ``scope`` layers, globally.

    scores: {weight name ("1.weight"): tensor of the weight's shape}; higher = more important.
    Entries already pruned stay pruned. Keeps round(target_ratio * total prunable weights)
    weights, or all survivors if that many no longer remain.
    """
    chosen = prunable_layers(model, scope)
    names = [l.weight_name for l in chosen]
    alive = [mask[n].reshape(-1) > 0 for n in names]
    flat = [scores[n].detach().reshape(-1).to(torch.float64).cpu() for n in names]
    candidates = torch.cat([s[a.cpu()] for s, a in zip(flat, alive)])  # (R,) scores of survivors
    total = sum(mask[n].numel() for n in names)
    keep = min(target_count(total, target_ratio), candidates.numel())
    if torch.isnan(candidates).any():
        raise ValueError("pruning scores contain NaN; the loss or gradients used for scoring diverged")
    kept = torch.zeros(candidates.numel(), dtype=torch.bool)
    kept[_top_positions(candidates, keep)] = True
    new_mask = clone_mask(mask)
    start = 0
    for name, a in zip(names, alive):
        n_alive = int(a.sum())
        flat_mask = torch.zeros(a.numel(), dtype=torch.bool)
        flat_mask[a.cpu()] = kept[start:start + n_alive]
        start += n_alive
        new_mask[name] = flat_mask.reshape(mask[name].shape).to(mask[name])
    return new_mask


def keep_top_channels(model: nn.Sequential, mask: Mask, scores: dict, scope: str, target_ratio: float) -> Mask:
    """New mask keeping the top-scoring surviving channels of the ``scope`` layers, globally.

    scores: {layer index: (C,) tensor}; higher = more important. Removed channels lose
    their weight row, bias, BN gamma/beta and the next layer's input slice. Keeps
    round(target_ratio * total channels), but never empties a layer: each layer's best
    surviving channel is kept regardless (an empty layer would disconnect the network).
    """
    chosen: list[Layer] = prunable_layers(model, scope)
    alive = {l.index: channels_alive(mask, l).cpu() for l in chosen}
    total = sum(channel_count(model, l) for l in chosen)
    keep = min(target_count(total, target_ratio), sum(int(a.sum()) for a in alive.values()))
    entries = []  # (layer index, channel, score) of every surviving channel
    protected = set()
    for l in chosen:
        s = scores[l.index].detach().to(torch.float64).cpu()
        idx = torch.nonzero(alive[l.index]).reshape(-1)
        if idx.numel():
            best = idx[_top_positions(s[idx], 1)].item()
            protected.add((l.index, best))
        entries += [(l.index, int(c), float(s[c])) for c in idx]
    if any(v != v for _, _, v in entries):
        raise ValueError("channel scores contain NaN; the statistics used for ranking diverged")
    ranked = [e for e in entries if (e[0], e[1]) not in protected]
    budget = max(keep - len(protected), 0)
    survivors = set(protected)
    if ranked and budget:
        order = _top_positions(torch.tensor([e[2] for e in ranked], dtype=torch.float64), budget)
        survivors |= {(ranked[i][0], ranked[i][1]) for i in order.tolist()}
    new_mask = clone_mask(mask)
    for l in chosen:
        drop = [c for (index, c, _) in entries if index == l.index and (index, c) not in survivors]
        remove_channels(model, new_mask, l, torch.tensor(drop, dtype=torch.int64))
    return new_mask
