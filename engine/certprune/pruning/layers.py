"""Which layers of a flat Sequential can be pruned, and how their channels connect.

CertPrune models are flat ``nn.Sequential``s:

    [Normalize, Conv2d, BatchNorm2d, ReLU, ..., Flatten, Linear, ReLU, Linear]

A *layer* here is a Conv2d or Linear module. Its *channels* are its output
channels (conv filters) or output features (linear neurons). Removing a channel
touches four places: the layer's weight row and bias entry, the BatchNorm right
after it (gamma and beta), and the input slice of the next conv/linear layer
(for a Flatten in between, a block of ``H*W`` input columns per channel).

Scope (config ``pruning.scope``):
- "conv": conv weights only (the paper's default);
- "conv-linear": conv and linear weights.
The last (output) layer is never pruned: its outputs are the class logits.
"""
from __future__ import annotations

from dataclasses import dataclass

from torch import nn

SCOPES = ("conv", "conv-linear")


@dataclass(frozen=True)
class Layer:
    """One conv/linear layer of a flat Sequential.

    index: position in the Sequential. name: readable name ("conv1", "fc2").
    kind: "conv" | "linear". bn: index of the BatchNorm right after it, or None.
    next: index of the next conv/linear layer, or None for the output layer.
    flatten_between: a Flatten sits between this layer and ``next``.
    is_output: the last conv/linear layer (never pruned).
    """
    index: int
    name: str
    kind: str
    bn: int | None
    next: int | None
    flatten_between: bool
    is_output: bool

    @property
    def weight_name(self) -> str:
        return f"{self.index}.weight"


def _check_flat(model: nn.Module) -> None:
    if not isinstance(model, nn.Sequential):
        raise TypeError(f"pruning needs a flat nn.Sequential model, got {type(model).__name__}")
    for index, module in enumerate(model):
        if isinstance(module, nn.Sequential):
            raise TypeError(f"pruning needs a flat nn.Sequential, but layer {index} is a nested Sequential; "
                            f"build the model with certprune.models.build_model")


def layers(model: nn.Sequential) -> list[Layer]:
    """Every conv/linear layer of ``model`` in order, with its BN and successor."""
    _check_flat(model)
    positions = [i for i, m in enumerate(model) if isinstance(m, (nn.Conv2d, nn.Linear))]
    result: list[Layer] = []
    counts = {"conv": 0, "linear": 0}
    for order, index in enumerate(positions):
        kind = "conv" if isinstance(model[index], nn.Conv2d) else "linear"
        counts[kind] += 1
        name = f"conv{counts[kind]}" if kind == "conv" else f"fc{counts[kind]}"
        bn = index + 1 if index + 1 < len(model) and isinstance(model[index + 1], nn.modules.batchnorm._BatchNorm) else None
        nxt = positions[order + 1] if order + 1 < len(positions) else None
        flatten_between = nxt is not None and any(isinstance(model[j], nn.Flatten) for j in range(index + 1, nxt))
        result.append(Layer(index, name, kind, bn, nxt, flatten_between, nxt is None))
    if not result:
        raise ValueError("the model has no Conv2d or Linear layer to prune")
    return result


def prunable_layers(model: nn.Sequential, scope: str) -> list[Layer]:
    """The layers whose weights (and channels) ``scope`` allows pruning; never the output layer."""
    if scope not in SCOPES:
        raise ValueError(f"unknown pruning scope {scope!r}; choose one of {', '.join(SCOPES)}")
    kinds = ("conv",) if scope == "conv" else ("conv", "linear")
    chosen = [layer for layer in layers(model) if layer.kind in kinds and not layer.is_output]
    if not chosen:
        raise ValueError(f"pruning.scope {scope!r} selects no layer of this model (it has "
                         f"{', '.join(l.name for l in layers(model))}; the output layer is never pruned); "
                         f"use scope 'conv-linear' for MLPs")
    return chosen


def channel_count(model: nn.Sequential, layer: Layer) -> int:
    module = model[layer.index]
    return module.out_channels if layer.kind == "conv" else module.out_features


def input_block(model: nn.Sequential, layer: Layer) -> int:
    """How many input columns of ``layer.next`` belong to one channel of ``layer``.

    1 for conv->conv and linear->linear; H*W when a Flatten sits in between
    (flattened NCHW: channel c owns columns c*H*W ... (c+1)*H*W - 1).
    """
    if layer.next is None:
        raise ValueError(f"{layer.name} is the output layer; it feeds no other layer")
    if not layer.flatten_between:
        return 1
    inputs = model[layer.next].in_features
    channels = channel_count(model, layer)
    if inputs % channels:
        raise ValueError(f"{model[layer.next]} after Flatten has {inputs} inputs, not a multiple of "
                         f"the {channels} channels of {layer.name}")
    return inputs // channels
