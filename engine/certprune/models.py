"""The networks CertPrune trains: cnn7 (the paper's), cnn4 and MLPs.

Every model is a FLAT ``nn.Sequential`` (no nested blocks) so that bound
propagation, pruning and ONNX export can walk it layer by layer:

    [Normalize, Conv2d, BatchNorm2d, ReLU, ..., Flatten, Linear, ReLU, Linear]

Normalisation is the first layer, so inputs (and epsilon) live in [0, 1]
pixel space.

    model = build_model("cnn7", input_shape=(3, 32, 32), num_classes=10,
                        mean=(0.4914, 0.4822, 0.4465), std=(0.2023, 0.1994, 0.2010))
"""
from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Callable, Dict, List, Sequence

import torch
from torch import nn

# cnn7 (PAPER.md): (out_channels, kernel, stride) per ConvBlock; padding is 1 everywhere.
CNN7_CONVS = ((32, 3, 1), (64, 4, 2), (64, 3, 1), (128, 4, 2), (128, 4, 2))
CNN7_HIDDEN = 100
# cnn4 (quick runs): two stride-2 convs then one hidden linear layer.
CNN4_CONVS = ((16, 4, 2), (32, 4, 2))
CNN4_HIDDEN = 100


class Normalize(nn.Module):
    """Per-channel (x - mean) / std as a model layer.

    Buffers ``mean`` and ``std`` have shape (1, C, 1, 1) so they broadcast over
    (B, C, H, W) images and travel with the state dict.
    """

    def __init__(self, mean: Sequence[float], std: Sequence[float]):
        super().__init__()
        mean_t = torch.as_tensor(mean, dtype=torch.float32).reshape(1, -1, 1, 1)
        std_t = torch.as_tensor(std, dtype=torch.float32).reshape(1, -1, 1, 1)
        if mean_t.shape != std_t.shape:
            raise ValueError(f"Normalize: mean has {mean_t.numel()} channels but std has {std_t.numel()}")
        if bool((std_t <= 0).any()):
            raise ValueError(f"Normalize: std must be positive, got {tuple(std)}")
        self.register_buffer("mean", mean_t)
        self.register_buffer("std", std_t)

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # (B, C, H, W) -> (B, C, H, W)
        return (x - self.mean) / self.std

    def extra_repr(self) -> str:
        return f"channels={self.mean.shape[1]}"


def _conv_out(size: int, kernel: int, stride: int, padding: int = 1) -> int:
    return (size + 2 * padding - kernel) // stride + 1


def _conv_stack(in_channels: int, height: int, width: int, convs, batch_norm: bool):
    """Conv2d(padding 1) [+ BatchNorm2d] + ReLU per (out, kernel, stride); returns layers and the flat size."""
    layers: list[nn.Module] = []
    channels = in_channels
    for out_channels, kernel, stride in convs:
        layers.append(nn.Conv2d(channels, out_channels, kernel, stride=stride, padding=1))
        if batch_norm:
            layers.append(nn.BatchNorm2d(out_channels))
        layers.append(nn.ReLU())
        channels = out_channels
        height, width = _conv_out(height, kernel, stride), _conv_out(width, kernel, stride)
        if height < 1 or width < 1:
            raise ValueError(f"input is too small for this architecture: a conv with kernel {kernel} "
                             f"and stride {stride} leaves a {height}x{width} feature map")
    return layers, channels * height * width


# --- the architectures: builders in a registry ------------------------------------------

@dataclass(frozen=True)
class Architecture:
    """One architecture (config ``model.arch``).

    build(channels, height, width, num_classes, widths) -> the layers after Normalize;
    widths is the config's model.widths (only the MLP reads it).
    """
    name: str
    help: str
    build: Callable[..., List[nn.Module]]


def _cnn(convs, hidden):
    def build(channels, height, width, num_classes, widths):
        layers, flat = _conv_stack(channels, height, width, convs, batch_norm=True)
        return layers + [nn.Flatten(), nn.Linear(flat, hidden), nn.ReLU(), nn.Linear(hidden, num_classes)]
    return build


def _mlp(channels, height, width, num_classes, widths):
    layers: List[nn.Module] = [nn.Flatten()]
    size = channels * height * width
    for hidden in widths:
        layers += [nn.Linear(size, int(hidden)), nn.ReLU()]
        size = int(hidden)
    return layers + [nn.Linear(size, num_classes)]


ARCHITECTURES: Dict[str, Architecture] = {a.name: a for a in (
    Architecture("cnn7", "The paper's CNN7: 5 conv layers with BatchNorm, a 100-unit hidden layer.",
                 _cnn(CNN7_CONVS, CNN7_HIDDEN)),
    Architecture("cnn4", "A small CNN for quick runs: 2 stride-2 conv layers with BatchNorm, a 100-unit hidden layer.",
                 _cnn(CNN4_CONVS, CNN4_HIDDEN)),
    Architecture("mlp", "A fully connected network with hidden layers of model.widths.", _mlp),
)}


def build_model(arch: str, input_shape: Sequence[int] = (3, 32, 32), num_classes: int = 10,
                mean: Sequence[float] | None = None, std: Sequence[float] | None = None,
                widths: Sequence[int] = (100, 100)) -> nn.Sequential:
    """Build a flat Sequential for ``arch`` (a name in ARCHITECTURES: "cnn7", "cnn4", "mlp").

    input_shape: (C, H, W). mean/std: per-channel normalisation (default 0 / 1).
    widths: hidden layer sizes of the MLP (ignored by the CNNs).
    cnn7: 5 x [Conv2d(padding 1), BatchNorm2d, ReLU], Flatten, Linear(->100), ReLU, Linear.
    cnn4: 2 x [Conv2d(k4, s2, padding 1), BatchNorm2d, ReLU] (16 and 32 channels), Flatten,
          Linear(->100), ReLU, Linear. BatchNorm is kept (unlike a bare 4-layer CNN) so that
          the BN-based methods (NRS loss, Network Slimming, NRS-channel) run on quick models too.
    mlp:  Flatten, [Linear, ReLU] per width, Linear.
    """
    if arch not in ARCHITECTURES:
        raise ValueError(f"unknown architecture {arch!r}; choose one of {', '.join(ARCHITECTURES)}")
    channels, height, width = (int(v) for v in input_shape)
    mean = tuple(mean) if mean is not None else (0.0,) * channels
    std = tuple(std) if std is not None else (1.0,) * channels
    if len(mean) != channels or len(std) != channels:
        raise ValueError(f"mean/std need {channels} values (one per input channel), got {mean} / {std}")
    layers = ARCHITECTURES[arch].build(channels, height, width, num_classes, tuple(widths))
    return nn.Sequential(Normalize(mean, std), *layers)


def count_parameters(model: nn.Module, nonzero: bool = False) -> int:
    """Number of trainable parameters (buffers such as Normalize/BN statistics excluded).

    nonzero=True counts only entries that are not exactly zero (pruned weights are zero).
    """
    if nonzero:
        return int(sum(int((p != 0).sum()) for p in model.parameters()))
    return int(sum(p.numel() for p in model.parameters()))


def _fold_into(layer: nn.Module, bn: nn.modules.batchnorm._BatchNorm) -> nn.Module:
    """Return a copy of conv/linear ``layer`` computing bn(layer(x)) with eval-mode statistics."""
    scale = bn.weight.detach() / torch.sqrt(bn.running_var + bn.eps) if bn.affine else \
        1.0 / torch.sqrt(bn.running_var + bn.eps)
    shift = (bn.bias.detach() if bn.affine else 0.0) - bn.running_mean * scale
    folded = copy.deepcopy(layer)
    weight = folded.weight.detach()
    shape = (-1,) + (1,) * (weight.dim() - 1)  # scale output channels / features
    bias = folded.bias.detach() if folded.bias is not None else torch.zeros_like(scale)
    if folded.bias is None:
        folded.bias = nn.Parameter(torch.zeros_like(scale))
    with torch.no_grad():
        folded.weight.copy_(weight * scale.reshape(shape))
        folded.bias.copy_(bias * scale + shift)
    return folded


def fold_batchnorm(model: nn.Sequential) -> nn.Sequential:
    """A new eval-mode Sequential with every BatchNorm folded into the conv/linear before it.

    Uses the running statistics (eval semantics); outputs equal ``model.eval()(x)`` up
    to float rounding. A BatchNorm not directly preceded by a conv/linear is kept as is.
    The input model is not modified.
    """
    layers: list[nn.Module] = []
    for layer in model:
        is_bn = isinstance(layer, nn.modules.batchnorm._BatchNorm)
        if is_bn and layers and isinstance(layers[-1], (nn.Conv2d, nn.Linear)):
            layers[-1] = _fold_into(layers[-1], layer)
        else:
            layers.append(copy.deepcopy(layer))
    return nn.Sequential(*layers).eval()
