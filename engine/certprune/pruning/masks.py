"""Masks: which parameters survive pruning, and counting what remains.

A mask is a plain dict ``{parameter name: 0/1 tensor of the parameter's shape and
dtype}`` covering the weight and bias of every Conv2d, Linear and BatchNorm layer
(names as in ``model.named_parameters()``, e.g. "1.weight"). Unstructured methods
only ever zero entries of the prunable weights; channel methods also zero the
channel's bias, BatchNorm gamma/beta and the next layer's input slice, so that a
removed channel outputs exactly 0 and can be cut out (see shrink.py).

Training multiplies every parameter by its mask after each optimizer step, so a
pruned entry stays exactly zero (momentum and weight decay included).
"""
from __future__ import annotations

import torch
from torch import nn

from .layers import Layer, channel_count, input_block, layers, prunable_layers

Mask = dict  # {param name: 0/1 tensor}

_MASKED_TYPES = (nn.Conv2d, nn.Linear, nn.modules.batchnorm._BatchNorm)


def dense_mask(model: nn.Sequential) -> Mask:
    """All-ones mask for every conv/linear/BN parameter of ``model`` (round 0)."""
    mask: Mask = {}
    for index, module in enumerate(model):
        if isinstance(module, _MASKED_TYPES):
            for pname, param in module.named_parameters(recurse=False):
                mask[f"{index}.{pname}"] = torch.ones_like(param, dtype=param.dtype).detach()
    return mask


def clone_mask(mask: Mask) -> Mask:
    return {name: m.clone() for name, m in mask.items()}


def check_mask_matches(model: nn.Module, mask: Mask) -> None:
    """Raise if ``mask`` names a parameter ``model`` lacks or has the wrong shape."""
    params = dict(model.named_parameters())
    for name, m in mask.items():
        if name not in params:
            raise KeyError(f"mask entry {name!r} names no parameter of the model "
                           f"(it has {', '.join(list(params)[:8])}, ...); was the mask made for another architecture?")
        if tuple(params[name].shape) != tuple(m.shape):
            raise ValueError(f"mask entry {name!r} has shape {tuple(m.shape)} but the parameter has "
                             f"{tuple(params[name].shape)}")


@torch.no_grad()
def apply_mask(model: nn.Module, mask: Mask) -> nn.Module:
    """Zero every masked-out entry of ``model`` in place; returns ``model``."""
    check_mask_matches(model, mask)
    params = dict(model.named_parameters())
    for name, m in mask.items():
        params[name].mul_(m.to(device=params[name].device, dtype=params[name].dtype))
    return model


def masked_entries_are_zero(model: nn.Module, mask: Mask) -> bool:
    """True when every entry the mask removed is exactly zero in ``model``."""
    params = dict(model.named_parameters())
    return all(bool((params[name].detach()[m.to(params[name].device) == 0] == 0).all())
               for name, m in mask.items())


def remove_channels(model: nn.Sequential, mask: Mask, layer: Layer, channels: torch.Tensor) -> None:
    """Zero, in ``mask`` (in place), everything that belongs to output ``channels`` of ``layer``.

    channels: (K,) int64 channel indices. Touches the layer's weight rows and bias,
    the following BatchNorm's gamma and beta, and the next layer's input slice.
    """
    if layer.is_output:
        raise ValueError(f"{layer.name} is the output layer; its channels are class logits and are never pruned")
    channels = channels.to(torch.int64).cpu()
    if channels.numel() == 0:
        return
    mask[f"{layer.index}.weight"][channels] = 0
    if f"{layer.index}.bias" in mask:
        mask[f"{layer.index}.bias"][channels] = 0
    if layer.bn is not None:
        for pname in ("weight", "bias"):
            if f"{layer.bn}.{pname}" in mask:
                mask[f"{layer.bn}.{pname}"][channels] = 0
    block = input_block(model, layer)
    columns = (channels[:, None] * block + torch.arange(block)[None, :]).reshape(-1)  # (K*block,)
    mask[f"{layer.next}.weight"][:, columns] = 0


def channels_alive(mask: Mask, layer: Layer) -> torch.Tensor:
    """(C,) bool: output channels of ``layer`` that keep at least one weight."""
    weight = mask[layer.weight_name]
    return weight.reshape(weight.shape[0], -1).sum(dim=1) > 0


def count_weights(model: nn.Sequential, mask: Mask, scope: str) -> tuple[int, int]:
    """(remaining, total) weights over the prunable layers of ``scope``, counted from the mask."""
    chosen = prunable_layers(model, scope)
    remaining = sum(int(mask[l.weight_name].sum().item()) for l in chosen)
    total = sum(mask[l.weight_name].numel() for l in chosen)
    return remaining, total


def count_channels(model: nn.Sequential, mask: Mask, scope: str) -> tuple[int, int]:
    """(remaining, total) output channels over the prunable layers of ``scope``."""
    chosen = prunable_layers(model, scope)
    remaining = sum(int(channels_alive(mask, l).sum().item()) for l in chosen)
    total = sum(channel_count(model, l) for l in chosen)
    return remaining, total


def remaining_ratio(model: nn.Sequential, mask: Mask, scope: str) -> float:
    remaining, total = count_weights(model, mask, scope)
    return remaining / total


def remaining_channel_ratio(model: nn.Sequential, mask: Mask, scope: str) -> float:
    remaining, total = count_channels(model, mask, scope)
    return remaining / total


def layer_report(model: nn.Sequential, mask: Mask) -> list[dict]:
    """Per conv/linear layer (output layer included): weights and channels, total and remaining.

    Returns [{name, kind, weights, remainingWeights, channels, remainingChannels}]
    (the ``layers`` field of the round_finished event).
    """
    report = []
    for layer in layers(model):
        weight = mask[layer.weight_name]
        report.append({
            "name": layer.name, "kind": layer.kind,
            "weights": int(weight.numel()), "remainingWeights": int(weight.sum().item()),
            "channels": channel_count(model, layer),
            "remainingChannels": int(channels_alive(mask, layer).sum().item()),
        })
    return report
