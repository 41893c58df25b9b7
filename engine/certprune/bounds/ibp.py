"""Interval bound propagation and the per-ReLU pre-activation bounds CROWN needs."""
from __future__ import annotations

import math
import time
from typing import Dict, List, Optional, Tuple

import torch
from torch import Tensor

from .crown import backward_from, concretize, identity_start
from .graph import BoundGraph
from .operators import BoundReLU
from .values import Interval, Relaxation


def interval_bounds(graph: BoundGraph, x_lower: Tensor, x_upper: Tensor, upto: Optional[int] = None
                    ) -> Tuple[Dict[int, Tuple[Tensor, Tensor]], Interval]:
    """Plain IBP, the fast way: (position -> (l, u) of every ReLU's input, the interval of
    the last operator's output (of ``ops[upto]`` when given)).

    The same bounds as ``preactivation_bounds(..., crown=False)`` up to float rounding, but
    no relaxations are built and the box travels in centre/radius form: every affine layer
    is two passes (W c + b, |W| r), a ReLU is l = c - r, u = c + r and
    (relu(u) + relu(l), relu(u) - relu(l)) with the factor 1/2 folded into the next
    layer's weights. Differentiable; no copies of the inputs.
    """
    c, r, f = x_upper + x_lower, x_upper - x_lower, 0.5
    pre: Dict[int, Tuple[Tensor, Tensor]] = {}
    last = len(graph.ops) - 1 if upto is None else upto
    for pos, op in enumerate(graph.ops[:last + 1]):
        if op.is_relu:
            if f != 1.0:
                c, r = c * f, r * f
            lower, upper = c - r, c + r
            pre[pos] = (lower, upper)
            low, up = torch.relu(lower), torch.relu(upper)
            c, r, f = up + low, up - low, 0.5
        else:
            c, r, f = op.interval_cr(c, r, f)
    if f != 1.0:
        c, r = c * f, r * f
    return pre, Interval(c - r, c + r)


def interval_pass(graph: BoundGraph, x_lower: Tensor, x_upper: Tensor) -> List[Interval]:
    """IBP: the interval of every operator's output, in order."""
    iv = Interval(x_lower, x_upper)
    out = []
    for op in graph.ops:
        iv = op.interval(iv)
        out.append(iv)
    return out


def preactivation_bounds(graph: BoundGraph, x_lower: Tensor, x_upper: Tensor, crown: bool,
                         memory_elements: int = 2 ** 25, upto: Optional[int] = None,
                         deadline: Optional[float] = None
                         ) -> Tuple[Dict[int, Tuple[Tensor, Tensor]], Dict[int, Relaxation], Interval]:
    """Bounds of every ReLU's input, layer by layer.

    crown=False: plain IBP. crown=True: each ReLU's input is also bounded by its own CROWN
    backward pass (for neurons that IBP leaves unstable; only those matter to the
    relaxation), and the tighter of the two bounds is kept. IBP restarts from every
    refined layer, so later layers benefit too.
    Returns (position -> (l, u) each (B, *shape), position -> Relaxation, the IBP interval
    of the last operator's output computed through the refined layers).
    upto: stop after the operator at this position (default: the whole graph).
    deadline: a time.monotonic() value; once passed, the remaining neurons keep their IBP
    bounds (still sound, only looser) so that a time limit is honoured.
    """
    iv = Interval(x_lower, x_upper)
    pre: Dict[int, Tuple[Tensor, Tensor]] = {}
    relax: Dict[int, Relaxation] = {}
    general_affine = 0  # non-diagonal affine layers since the input, before any ReLU
    last = len(graph.ops) - 1 if upto is None else upto
    for pos, op in enumerate(graph.ops[:last + 1]):
        if op.is_relu:
            lower, upper = iv.lower, iv.upper
            # Before the first ReLU, IBP through element-wise maps and one affine map is exact.
            ibp_exact = not pre and general_affine <= 1
            if crown and not ibp_exact and not _past(deadline):
                lower, upper = _crown_refine(graph, pos, x_lower, x_upper, relax, lower, upper, memory_elements,
                                             deadline)
            pre[pos] = (lower, upper)
            relax[pos] = BoundReLU.relaxation(lower, upper)
            iv = Interval(torch.relu(lower), torch.relu(upper))
        else:
            if not op.is_diagonal:
                general_affine += 1
            iv = op.interval(iv)
    return pre, relax, iv


#: target duration of one chunk of intermediate CROWN passes when a deadline is set.
CHUNK_SECONDS = 0.5


def _past(deadline: Optional[float]) -> bool:
    return deadline is not None and time.monotonic() > deadline


def _crown_refine(graph: BoundGraph, pos: int, x_lower: Tensor, x_upper: Tensor,
                  relax: Dict[int, Relaxation], lower: Tensor, upper: Tensor,
                  memory_elements: int, deadline: Optional[float] = None) -> Tuple[Tensor, Tensor]:
    """CROWN bounds of ReLU ``pos``'s input for neurons unstable in [lower, upper]."""
    batch = lower.shape[0]
    shape = tuple(lower.shape[1:])
    flat_l, flat_u = lower.reshape(batch, -1), upper.reshape(batch, -1)
    unstable = ((flat_l < 0) & (flat_u > 0)).any(0).nonzero().flatten()
    if unstable.numel() == 0:
        return lower, upper
    if deadline is not None:
        # Under a time limit the refinement may stop early: do the loosest neurons first
        # (largest -l*u, the ones whose relaxation costs the most).
        looseness = (-flat_l.clamp(max=0) * flat_u.clamp(min=0)).sum(0)[unstable]
        unstable = unstable[torch.argsort(looseness, descending=True)]
    # The backward pass holds (B, chunk, *layer) coefficients; keep the widest under budget.
    widest = max(max(math.prod(op.in_shape), math.prod(op.out_shape))
                 for op in graph.ops[:pos])
    most = max(1, memory_elements // max(1, batch * widest))
    # With a deadline, chunks start small and grow to ~CHUNK_SECONDS each, so that the
    # deadline is checked often enough even on a slow CPU.
    chunk = most if deadline is None else min(most, 32)
    flat_l, flat_u = flat_l.clone(), flat_u.clone()
    start = 0
    while start < unstable.numel():
        if _past(deadline):
            break
        began = time.monotonic()
        idx = unstable[start:start + chunk]
        A = identity_start(batch, shape, lower, idx)
        lin = backward_from(graph, pos - 1, A, A, relax)
        lo, up = concretize(lin, x_lower, x_upper)  # (B, len(idx))
        flat_l[:, idx] = torch.maximum(flat_l[:, idx], lo)
        flat_u[:, idx] = torch.minimum(flat_u[:, idx], up)
        start += idx.numel()
        if deadline is not None:
            # At most double per chunk: one quick chunk (warm caches) must not make the next
            # one run far past the deadline.
            rate = idx.numel() / max(1e-6, time.monotonic() - began)
            chunk = int(min(most, 2 * chunk, max(8, rate * CHUNK_SECONDS)))
    return flat_l.reshape(batch, *shape), flat_u.reshape(batch, *shape)
