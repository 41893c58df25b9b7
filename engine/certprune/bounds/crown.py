"""CROWN: linear bounds by a backward pass, and concretisation at the input box.

    lin = backward_from(graph, end, start, relaxations)   # bounds in terms of the input
    lower, upper = concretize(lin, x_lower, x_upper)
"""
from __future__ import annotations

import math
from typing import Dict, Optional, Tuple

import torch
from torch import Tensor

from .graph import BoundGraph
from .values import LinearBounds, Relaxation


def identity_start(batch: int, shape, like: Tensor, indices: Optional[Tensor] = None) -> Tensor:
    """One-hot coefficients selecting neurons of a layer: (B, S, *shape).

    indices: flat neuron indices (S,) to select; all neurons when None.
    """
    n = math.prod(shape)
    if indices is None:
        indices = torch.arange(n, device=like.device)
    s = indices.numel()
    A = like.new_zeros(batch, s, n)
    A[:, torch.arange(s, device=like.device), indices] = 1.0
    return A.reshape(batch, s, *shape)


def backward_from(graph: BoundGraph, end: int, lA: Optional[Tensor], uA: Optional[Tensor],
                  relaxations: Dict[int, Relaxation], betas: Optional[Dict[int, Tensor]] = None,
                  record: Optional[Dict[int, Tensor]] = None) -> LinearBounds:
    """Walk from the output of ``graph.ops[end]`` back to the network input.

    lA/uA: (B, S, *out_shape of ops[end]) coefficients for the lower/upper bound (either
    may be None; pass the same tensor for both to bound one linear function both ways).
    relaxations: position -> Relaxation of every ReLU before ``end``.
    betas: position -> (B, S, *shape) Lagrange terms beta * s added to the lower-bound
    coefficients of that ReLU's input (beta-CROWN split constraints).
    record: if given, filled with position -> lower-bound coefficients of each ReLU's output
    (the branching heuristics read them).
    """
    ref = lA if lA is not None else uA
    zero = ref.new_zeros(ref.shape[:2])
    lin = LinearBounds(lA, uA, zero, zero)
    for pos in range(end, -1, -1):
        op = graph.ops[pos]
        if op.is_relu:
            if record is not None and lin.lA is not None:
                record[pos] = lin.lA
            lin = op.backward(lin, relaxations[pos])
            if betas is not None and pos in betas and lin.lA is not None:
                lin = LinearBounds(lin.lA + betas[pos], lin.uA, lin.lbias, lin.ubias)
        else:
            lin = op.backward(lin)
    return lin


def concretize(lin: LinearBounds, x_lower: Tensor, x_upper: Tensor) -> Tuple[Optional[Tensor], Optional[Tensor]]:
    """Minimum of the lower and maximum of the upper linear function over the box.

    x_lower/x_upper: (B, *input_shape). Returns (lower, upper), each (B, S) or None.
    """
    center = ((x_upper + x_lower) / 2).reshape(x_lower.shape[0], -1, 1)  # (B, n, 1)
    radius = ((x_upper - x_lower) / 2).reshape(x_lower.shape[0], -1, 1)

    def extreme(A: Tensor, sign: float) -> Tensor:
        A = A.reshape(A.shape[0], A.shape[1], -1)  # (B, S, n)
        return (torch.bmm(A, center) + sign * torch.bmm(A.abs(), radius)).squeeze(-1)

    lower = extreme(lin.lA, -1.0) + lin.lbias if lin.lA is not None else None
    upper = extreme(lin.uA, 1.0) + lin.ubias if lin.uA is not None else None
    return lower, upper


def minimizing_input(lA: Tensor, x_lower: Tensor, x_upper: Tensor) -> Tensor:
    """The box corner where the linear lower bound of each spec is smallest.

    lA: (B, S, *input_shape) -> (B, S, *input_shape). A candidate counterexample.
    """
    return torch.where(lA >= 0, x_lower.unsqueeze(1), x_upper.unsqueeze(1))
