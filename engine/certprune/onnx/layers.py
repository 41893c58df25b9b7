"""Plain layers the ONNX importer builds beyond torch's own, each registered with its
bound operator (certprune/bounds/operators/pool.py, permute.py) so that IBP, CROWN and
branch and bound handle them. Constants are buffers: ``model.double()`` converts them.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Dict, List, Sequence, Tuple

import torch.nn.functional as F
from torch import Tensor, nn

from ..bounds.graph import register_operator
from ..bounds.operators.permute import BoundPermute
from ..bounds.operators.pool import BoundGroupedConv2d, BoundPad


class Permute(nn.Module):
    """Permute the axes of each sample: (B, *shape) -> (B, *shape[dims])."""

    def __init__(self, dims: Sequence[int]):
        super().__init__()
        self.dims = tuple(int(d) for d in dims)

    def forward(self, x: Tensor) -> Tensor:
        return x.permute(0, *[d + 1 for d in self.dims])

    def extra_repr(self) -> str:
        return f"dims={self.dims}"


class Pad(nn.Module):
    """Padding of each sample; pads[i] = (before, after) for sample axis i. The padded
    entries take fill's values (fill: the output's shape, zero where the sample goes;
    None: zero padding)."""

    def __init__(self, pads: Sequence[Tuple[int, int]], fill=None):
        super().__init__()
        self.pads = tuple((int(a), int(b)) for a, b in pads)
        self.register_buffer("fill", None if fill is None else fill.clone())

    def forward(self, x: Tensor) -> Tensor:
        out = F.pad(x, tuple(v for a, b in reversed(self.pads) for v in (a, b)))
        return out if self.fill is None else out + self.fill

    def extra_repr(self) -> str:
        return f"pads={self.pads}" + ("" if self.fill is None else ", constant fill")


class FixedConv2d(nn.Module):
    """conv2d with a fixed (buffer) kernel, any groups: AveragePool, and MaxPool's ReLU form.

    weight (Co, Ci / groups, kh, kw), bias (Co,) or None.
    """

    def __init__(self, weight: Tensor, bias, stride=(1, 1), padding=(0, 0), dilation=(1, 1), groups: int = 1):
        super().__init__()
        self.register_buffer("weight", weight.clone())
        self.register_buffer("bias", None if bias is None else bias.clone())
        self.stride, self.padding, self.dilation = tuple(stride), tuple(padding), tuple(dilation)
        self.groups = int(groups)

    def forward(self, x: Tensor) -> Tensor:
        return F.conv2d(x, self.weight, self.bias, self.stride, self.padding, self.dilation, self.groups)

    def extra_repr(self) -> str:
        return (f"weight={tuple(self.weight.shape)}, stride={self.stride}, padding={self.padding}, "
                f"groups={self.groups}")


@dataclass
class Fused:
    """Layers the bound code reads, plus one module computing the same function faster
    for plain forward passes (the attack, checks): MaxPool's ReLU form and F.max_pool2d."""

    layers: List[nn.Module]
    fast: nn.Module


class OnnxSequential(nn.Sequential):
    """A flat nn.Sequential (what the bound code walks, layer by layer) whose forward
    takes shortcuts: each fused span of layers runs as its one equivalent module.

    fused: (start, end, fast) spans of layer indices [start, end). The fast modules are
    not submodules (iterating the Sequential must yield the layers only); they hold no
    parameters. Slices of the model (model[a:b]) are plain, shortcut-free copies.
    """

    def __init__(self, *layers, fused: Sequence[Tuple[int, int, nn.Module]] = ()):
        super().__init__(*layers)
        for _, _, fast in fused:
            if any(True for _ in fast.parameters()) or any(b is not None for b in fast.buffers()):
                raise ValueError("a fused shortcut must hold no tensors (it is not moved with the model)")
        self.fused: Dict[int, Tuple[int, nn.Module]] = {int(a): (int(b), fast) for a, b, fast in fused}

    def forward(self, x: Tensor) -> Tensor:
        layers = list(self._modules.values())
        i = 0
        while i < len(layers):
            if i in self.fused:
                end, fast = self.fused[i]
                x, i = fast(x), end
            else:
                x, i = layers[i](x), i + 1
        return x


register_operator(Permute, lambda m, index, in_shape, clean: BoundPermute(index, in_shape, m.dims))
register_operator(Pad, lambda m, index, in_shape, clean: BoundPad(index, in_shape, m.pads, m.fill))
register_operator(FixedConv2d, lambda m, index, in_shape, clean: BoundGroupedConv2d(
    index, in_shape, m.weight, m.bias, m.stride, m.padding, m.dilation, m.groups))
