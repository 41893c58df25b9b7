"""Physically remove dead channels: smaller conv, BatchNorm and next conv/linear layers.

A channel is *dead* when its output is exactly 0 for every input:
- followed by BatchNorm: gamma == 0 and beta == 0 (BN then outputs beta = 0);
- no BatchNorm: its weight row and bias are all zero;
and a ReLU follows (ReLU(0) = 0). Channel pruning leaves exactly such channels
(masks.remove_channels); removing them, and the matching input slice of the next
layer, leaves every output unchanged, while verification gets a smaller network.

    small = shrink(model)        # new Sequential; model is not modified
"""
from __future__ import annotations

import copy

import torch
from torch import nn

from .layers import Layer, input_block, layers


def _followed_by_relu(model: nn.Sequential, layer: Layer) -> bool:
    after = (layer.bn if layer.bn is not None else layer.index) + 1
    return after < len(model) and isinstance(model[after], nn.ReLU)


@torch.no_grad()
def dead_channels(model: nn.Sequential, layer: Layer) -> torch.Tensor:
    """(C,) bool: channels of ``layer`` whose output is exactly 0 whatever the input."""
    module = model[layer.index]
    weight = module.weight.detach()
    channels = weight.shape[0]
    if layer.is_output or not _followed_by_relu(model, layer):
        return torch.zeros(channels, dtype=torch.bool, device=weight.device)
    if layer.bn is not None:
        bn = model[layer.bn]
        if not bn.affine:
            return torch.zeros(channels, dtype=torch.bool, device=weight.device)
        return (bn.weight.detach() == 0) & (bn.bias.detach() == 0)
    dead = (weight.reshape(channels, -1) == 0).all(dim=1)
    if module.bias is not None:
        dead &= module.bias.detach() == 0
    return dead


def _kept(model: nn.Sequential, layer: Layer) -> torch.Tensor:
    """(K,) int64 indices of the channels to keep; at least one (an empty layer cannot be built)."""
    dead = dead_channels(model, layer)
    keep = torch.nonzero(~dead).reshape(-1)
    if keep.numel() == 0:
        keep = torch.zeros(1, dtype=torch.int64, device=dead.device)
    return keep


def _input_columns(model: nn.Sequential, previous: Layer, kept: torch.Tensor) -> torch.Tensor:
    block = input_block(model, previous)
    offsets = torch.arange(block, device=kept.device)
    return (kept[:, None] * block + offsets[None, :]).reshape(-1)             # (K*block,)


def _factory(param: torch.Tensor) -> dict:
    return {"device": param.device, "dtype": param.dtype}


def _sliced_conv(conv: nn.Conv2d, out_idx: torch.Tensor, in_idx: torch.Tensor) -> nn.Conv2d:
    if conv.groups != 1:
        raise ValueError(f"cannot shrink a grouped convolution ({conv}); CertPrune models use groups=1")
    new = nn.Conv2d(in_idx.numel(), out_idx.numel(), conv.kernel_size, stride=conv.stride, padding=conv.padding,
                    dilation=conv.dilation, bias=conv.bias is not None, padding_mode=conv.padding_mode,
                    **_factory(conv.weight))
    new.weight.copy_(conv.weight[out_idx][:, in_idx])
    if conv.bias is not None:
        new.bias.copy_(conv.bias[out_idx])
    return new


def _sliced_linear(linear: nn.Linear, out_idx: torch.Tensor, in_idx: torch.Tensor) -> nn.Linear:
    new = nn.Linear(in_idx.numel(), out_idx.numel(), bias=linear.bias is not None, **_factory(linear.weight))
    new.weight.copy_(linear.weight[out_idx][:, in_idx])
    if linear.bias is not None:
        new.bias.copy_(linear.bias[out_idx])
    return new


def _sliced_bn(bn: nn.modules.batchnorm._BatchNorm, idx: torch.Tensor) -> nn.Module:
    new = copy.deepcopy(bn)
    new.num_features = idx.numel()
    if bn.affine:
        new.weight = nn.Parameter(bn.weight.detach()[idx].clone())
        new.bias = nn.Parameter(bn.bias.detach()[idx].clone())
    if bn.track_running_stats and bn.running_mean is not None:
        new.running_mean = bn.running_mean[idx].clone()
        new.running_var = bn.running_var[idx].clone()
    return new


@torch.no_grad()
def shrink(model: nn.Sequential) -> nn.Sequential:
    """A copy of ``model`` without its dead channels (same outputs, fewer parameters).

    Works in either mode; the copy keeps the original's train/eval mode. The output
    layer is never shrunk. A layer whose channels are all dead keeps one channel.
    """
    all_layers = layers(model)
    by_index = {l.index: l for l in all_layers}
    kept_out = {l.index: _kept(model, l) for l in all_layers}
    new_modules = [copy.deepcopy(m) for m in model]
    previous: Layer | None = None
    for layer in all_layers:
        module = model[layer.index]
        out_idx = kept_out[layer.index] if not layer.is_output else torch.arange(
            module.weight.shape[0], device=module.weight.device)
        in_size = module.weight.shape[1]
        in_idx = torch.arange(in_size, device=module.weight.device) if previous is None else \
            _input_columns(model, previous, kept_out[previous.index])
        if layer.kind == "conv":
            new_modules[layer.index] = _sliced_conv(module, out_idx, in_idx)
        else:
            new_modules[layer.index] = _sliced_linear(module, out_idx, in_idx)
        if layer.bn is not None:
            new_modules[layer.bn] = _sliced_bn(model[layer.bn], out_idx)
        previous = by_index[layer.index]
    small = nn.Sequential(*new_modules)
    small.train(model.training)
    return small
