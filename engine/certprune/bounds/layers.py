"""Two plain layers the ONNX importer builds and the bound code understands.

Trained CertPrune models never contain them; imported ONNX graphs express
normalisation as Sub/Div (or Mul/Add) with constants and reshape flattened inputs.
"""
from __future__ import annotations

from typing import Sequence

import torch
from torch import Tensor, nn


class ElementwiseAffine(nn.Module):
    """x * scale + shift, with constants broadcasting against the input like ONNX/numpy."""

    def __init__(self, scale: Tensor, shift: Tensor):
        super().__init__()
        self.register_buffer("scale", scale.clone())
        self.register_buffer("shift", shift.clone())

    def forward(self, x: Tensor) -> Tensor:
        return x * self.scale + self.shift

    def extra_repr(self) -> str:
        return f"scale={tuple(self.scale.shape)}, shift={tuple(self.shift.shape)}"


class Reshape(nn.Module):
    """Reshape each sample to ``shape`` (the batch axis is kept)."""

    def __init__(self, shape: Sequence[int]):
        super().__init__()
        self.shape = tuple(int(s) for s in shape)

    def forward(self, x: Tensor) -> Tensor:
        return x.reshape(x.shape[0], *self.shape)

    def extra_repr(self) -> str:
        return f"shape={self.shape}"
