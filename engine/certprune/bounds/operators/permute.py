"""Transpose of a sample's axes (ONNX Transpose, e.g. channels-last to channels-first).

A permutation moves values without changing them: IBP through it is exact and its
backward step permutes the coefficients back.
"""
from __future__ import annotations

from typing import Sequence, Tuple

from torch import Tensor

from .shape import Rearrangement


class BoundPermute(Rearrangement):
    """out = x.permute(0, *[d + 1 for d in dims]); dims permutes the sample axes."""

    def __init__(self, index: int, in_shape, dims: Sequence[int]):
        super().__init__(index, in_shape)
        dims = tuple(int(d) for d in dims)
        if sorted(dims) != list(range(len(self.in_shape))):
            raise ValueError(f"layer {index}: {dims} is not a permutation of the {len(self.in_shape)} axes of "
                             f"a sample of shape {self.in_shape}")
        self.dims = dims
        self.inverse = tuple(dims.index(j) for j in range(len(dims)))  # out axis that holds in axis j
        self.out_shape = tuple(self.in_shape[d] for d in dims)

    def forward(self, x: Tensor) -> Tensor:  # (B, *in_shape) -> (B, *out_shape)
        return x.permute(0, *[d + 1 for d in self.dims])

    def backward_coefficients(self, A: Tensor) -> Tuple[Tensor, Tensor]:
        """A (N, S, *out_shape) -> (A' (N, S, *in_shape), 0)."""
        n, s = A.shape[:2]
        return A.permute(0, 1, *[j + 2 for j in self.inverse]), A.new_zeros(n, s)
