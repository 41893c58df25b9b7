"""The network on an input box as dense affine maps between its ReLUs (input splitting).

    chain = affine_chain(model, x_lower, x_upper)   # float64, over the free inputs
    chain.with_spec(spec, offset).forward(x)        # (B, n) -> (B, S)

Fixed inputs (lower == upper) are folded into the first map's bias. Raises Unsuitable
for anything that is not a flat chain of affine maps and ReLUs, or too large when dense.
"""
from __future__ import annotations

import copy
import math
from dataclasses import dataclass
from typing import List

import torch
from torch import Tensor, nn

from ..bounds.graph import build_graph
from ..bounds.operators import (BoundBatchNorm, BoundConv2d, BoundElementwiseAffine, BoundLinear, BoundNormalize,
                                BoundReLU, BoundReshape)

#: operators that are affine maps (collapsed into dense matrices between the ReLUs)
AFFINE_OPS = (BoundLinear, BoundConv2d, BoundBatchNorm, BoundElementwiseAffine, BoundNormalize, BoundReshape)
#: the most entries the dense affine maps may have in all
MAX_DENSE_ELEMENTS = 2 ** 22


class Unsuitable(ValueError):
    """The model is not a chain of affine maps and ReLUs that input splitting handles."""


@dataclass
class AffineChain:
    """z_1 = W_0 x + b_0, z_{k+1} = W_k relu(z_k) + b_k, output z_L over the free inputs x.

    weights[k]: (h_{k+1}, h_k) with h_0 = number of free inputs; biases[k]: (h_{k+1},).
    """

    weights: List[Tensor]
    biases: List[Tensor]

    def to(self, dtype: torch.dtype) -> "AffineChain":
        return AffineChain([w.to(dtype) for w in self.weights], [b.to(dtype) for b in self.biases])

    def with_spec(self, spec: Tensor, offset: Tensor) -> "AffineChain":
        """Fold spec (S, K) and offset (S,) into the last map: outputs spec @ z_L + offset."""
        spec, offset = spec.to(self.weights[-1]), offset.to(self.weights[-1])
        return AffineChain(self.weights[:-1] + [spec @ self.weights[-1]],
                           self.biases[:-1] + [spec @ self.biases[-1] + offset])

    def forward(self, x: Tensor) -> Tensor:  # (B, n) -> (B, h_L)
        for k, (w, b) in enumerate(zip(self.weights, self.biases)):
            if k:
                x = torch.relu(x)
            x = torch.addmm(b, x, w.t())
        return x


def free_inputs(x_lower: Tensor, x_upper: Tensor) -> Tensor:
    """Flat indices of the inputs with lower < upper. x_lower (1, *shape) -> (n,)."""
    return (x_lower.reshape(-1) < x_upper.reshape(-1)).nonzero().flatten()


def affine_chain(model: nn.Module, x_lower: Tensor, x_upper: Tensor,
                 max_dense_elements: int = MAX_DENSE_ELEMENTS) -> AffineChain:
    """The network on the box as dense float64 maps over its free inputs (raises Unsuitable)."""
    if not isinstance(model, nn.Sequential):
        raise Unsuitable(f"input split needs a flat nn.Sequential, got {type(model).__name__}")
    model64 = copy.deepcopy(model).double().eval().to(x_lower.device)
    try:
        graph = build_graph(model64, x_lower.shape[1:])
    except ValueError as exc:
        raise Unsuitable(str(exc)) from None
    segments: List[list] = [[]]
    for op in graph.ops:
        if isinstance(op, BoundReLU):
            segments.append([])
        elif isinstance(op, AFFINE_OPS):
            segments[-1].append(op)
        else:
            raise Unsuitable(f"{op.describe()} is not affine or ReLU")
    free = free_inputs(x_lower, x_upper)
    sizes = [free.numel()] + [math.prod(op.in_shape) for op in graph.ops if isinstance(op, BoundReLU)]
    sizes.append(math.prod(graph.output_shape))
    if sum(a * b for a, b in zip(sizes[:-1], sizes[1:])) > max_dense_elements:
        raise Unsuitable("the dense affine maps would be too large")
    weights, biases = [], []
    with torch.no_grad():
        base = x_lower.reshape(1, -1).double().clone()
        base[0, free] = 0.0
        probe = base.repeat(free.numel() + 1, 1)
        probe[1 + torch.arange(free.numel(), device=free.device), free] = 1.0
        in_shape = tuple(x_lower.shape[1:])
        for k, ops in enumerate(segments):
            if k:  # later segments start at a ReLU output: probe its unit vectors
                width = sizes[k]
                probe = torch.cat([probe.new_zeros(1, width), torch.eye(width, dtype=probe.dtype,
                                                                       device=probe.device)])
            out = probe.reshape(probe.shape[0], *in_shape)
            for op in ops:
                out = op.forward(out)
            out = out.reshape(out.shape[0], -1)
            biases.append(out[0].clone())
            weights.append((out[1:] - out[0]).t().contiguous())  # (h_out, h_in)
            if ops:
                in_shape = ops[-1].out_shape
    return AffineChain(weights, biases)

