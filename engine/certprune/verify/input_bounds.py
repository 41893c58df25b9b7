"""CROWN bounds of many input boxes at once through an AffineChain (input splitting).

    bb = bound_boxes(chain, lo, hi)          # lo, hi (B, n) -> bb.lower (B, S), bb.coeff (B, S, n)
    lower = output_bounds(chain, lo, hi, bb.pre)

Every ReLU's input is bounded by IBP, intersected with the parent box's bounds when
given, then by its own backward pass where still unstable; the gain estimate says how
much halving each input would raise each row's bound (the branching score).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import List, Optional, Tuple

import torch
from torch import Tensor

from .input_chain import AffineChain


def relax_lines(lower: Tensor, upper: Tensor) -> Tuple[Tensor, Tensor, Tensor]:
    """CROWN's ReLU relaxation on [lower, upper] (B, h): upper line slope * z + intercept,
    lower line alpha * z (alpha 1 where u > -l, else 0, on unstable neurons; the exact line
    on stable ones). Returns (slope, alpha - slope, intercept), each (B, h)."""
    up = torch.relu(upper)
    lo = lower - torch.relu(lower)  # min(lower, 0)
    width = up - lo
    slope = up / torch.where(width > 0, width, torch.ones_like(width))  # 1 active, 0 inactive
    intercept = -lo * slope
    unstable = (lower < 0) & (upper > 0)
    extra = torch.where(unstable, (upper > -lower).to(lower.dtype) - slope, torch.zeros_like(slope))
    return slope, extra, intercept


def backward_chain(chain: AffineChain, A: Tensor, bias: Tensor, end: int,
              relax: List[Tuple[Tensor, Tensor, Tensor]], record: Optional[List[Tensor]] = None
              ) -> Tuple[Tensor, Tensor]:
    """Lower linear bounds of A (B, R, h_end) . relu(z_end) + bias (B, R) in terms of the
    free inputs: walk back through ReLU end, map end-1, ..., ReLU 1, map 0.
    record: if given, receives at [k - 1] the cost -neg * intercept (B, R, h_k) that the
    upper line of ReLU k adds to each bound (what splitting could recover).
    Returns (coefficients (B, R, n), constant (B, R))."""
    for k in range(end, 0, -1):
        slope, extra, intercept = relax[k - 1]
        # positive coefficients take the lower line, negative ones the upper line:
        # A' = slope * A + (alpha - slope) * relu(A), bias += min(A, 0) . intercept
        pos = torch.relu(A)
        t = intercept.unsqueeze(-1)  # (B, h, 1)
        bias = bias + torch.bmm(A, t).squeeze(-1) - torch.bmm(pos, t).squeeze(-1)
        if record is not None:
            record[k - 1] = (pos - A) * intercept.unsqueeze(1)
        A = torch.addcmul(A * slope.unsqueeze(1), pos, extra.unsqueeze(1))
        bias = bias + A.matmul(chain.biases[k - 1])
        A = A.matmul(chain.weights[k - 1])
    return A, bias


def concretize_boxes(A: Tensor, bias: Tensor, center: Tensor, radius: Tensor) -> Tensor:
    """min over the boxes of A x + bias: A (B, R, n), center/radius (B, n) -> (B, R)."""
    return torch.bmm(A, center.unsqueeze(-1)).squeeze(-1) - torch.bmm(A.abs(), radius.unsqueeze(-1)).squeeze(-1) + bias


@dataclass
class BoxBounds:
    """Bounds of a batch of B boxes with n free inputs and S output rows."""

    lower: Tensor  # (B, S) lower bounds of the rows
    coeff: Tensor  # (B, S, n) input coefficients of the rows' linear lower bounds
    pre: List[Tuple[Tensor, Tensor]]  # (l, u) (B, h_k) of every ReLU's input
    gain: Optional[Tensor] = None  # (B, S, n) estimated gain of each row's bound from halving each input


def bound_boxes(chain: AffineChain, lo: Tensor, hi: Tensor, parent: Optional[List[Tuple[Tensor, Tensor]]] = None
                ) -> BoxBounds:
    """CROWN lower bounds of the chain's outputs on boxes [lo, hi] (B, n).

    Every ReLU's input is bounded by IBP from the previous layer, intersected with
    ``parent`` bounds (l, u) per ReLU when the boxes lie inside boxes that had them, and
    the neurons still unstable get their own backward pass (both sides at once: the upper
    bound of z is minus the lower bound of -z; only a box's unstable neurons, padded to
    the most any box in the batch has). Returns (lower (B, S), coefficients of the free
    inputs (B, S, n), bounds (l, u) (B, h_k) of every ReLU's input) as BoxBounds.

    The gain estimate (DeepSplit's indirect input score, in small): the upper line of an
    unstable ReLU costs each row -coefficient * intercept; the neuron's width comes from
    the inputs in proportion to |coefficient| * width in its own linear bounds, and halving
    an input removes about half of its share; plus half of the direct term
    |row coefficient| * width / 2 (alpha-beta-CROWN's 'sb' score).
    """
    batch = lo.shape[0]
    center, radius = (hi + lo) / 2, (hi - lo) / 2
    depth = len(chain.weights) - 1
    if depth == 0:  # no ReLU: the outputs are affine in the inputs
        A = chain.weights[0].unsqueeze(0).expand(batch, -1, -1)
        bias = chain.biases[0].unsqueeze(0).expand(batch, -1)
        return BoxBounds(concretize_boxes(A, bias, center, radius), A, [], A.abs() * radius.unsqueeze(1) / 2)
    w0, b0 = chain.weights[0], chain.biases[0]
    c1 = torch.addmm(b0, center, w0.t())
    r1 = radius.matmul(w0.abs().t())
    pre = [(c1 - r1, c1 + r1)]
    if parent is not None:
        pre[0] = (torch.maximum(pre[0][0], parent[0][0]), torch.minimum(pre[0][1], parent[0][1]))
    relax = [relax_lines(*pre[0])]
    shares = [_shares(w0.abs().unsqueeze(0) * radius.unsqueeze(1))]  # (B, h, n) per ReLU
    for k in range(1, depth):
        w, b = chain.weights[k], chain.biases[k]
        # IBP through this map from the previous layer's bounds.
        l_prev, u_prev = torch.relu(pre[-1][0]), torch.relu(pre[-1][1])
        c = torch.addmm(b, (u_prev + l_prev) / 2, w.t())
        r = ((u_prev - l_prev) / 2).matmul(w.abs().t())
        lower, upper = c - r, c + r
        if parent is not None:
            lower, upper = torch.maximum(lower, parent[k][0]), torch.minimum(upper, parent[k][1])
        unstable = (lower < 0) & (upper > 0)  # (B, h)
        share = torch.zeros(batch, w.shape[0], radius.shape[1], dtype=lo.dtype, device=lo.device)
        counts = unstable.sum(1)
        if bool((counts > 0).any()):
            # boxes in chunks of similar unstable counts, so that little padding is bounded
            order = torch.argsort(counts)
            order = order[counts[order] > 0]
            for sub in order.split(CHUNK_BOXES):
                lower[sub], upper[sub], share[sub] = _refine(
                    chain, k, lower[sub], upper[sub], unstable[sub],
                    [tuple(t[sub] for t in r) for r in relax], center[sub], radius[sub])
        shares.append(share)
        upper = torch.maximum(upper, lower)  # rounding must not leave an empty interval
        pre.append((lower, upper))
        relax.append(relax_lines(lower, upper))
    w, b = chain.weights[-1], chain.biases[-1]
    A = w.unsqueeze(0).expand(batch, -1, -1)
    bias = b.unsqueeze(0).expand(batch, -1)
    costs: List[Tensor] = [None] * depth
    A, bias = backward_chain(chain, A, bias, depth, relax, costs)
    gain = A.abs() * radius.unsqueeze(1) / 2
    for cost, share in zip(costs, shares):
        gain = gain + torch.bmm(cost, share) / 2
    return BoxBounds(concretize_boxes(A, bias, center, radius), A, pre, gain)


def _shares(width: Tensor) -> Tensor:
    """(B, R, n) per-input contributions to neurons' widths -> fractions summing to 1 per neuron."""
    return width / width.sum(-1, keepdim=True).clamp(min=1e-30)


#: boxes per backward pass of intermediate bounds (sorted by unstable count, padded to the chunk's most)
CHUNK_BOXES = 256


def _refine(chain: AffineChain, k: int, lower: Tensor, upper: Tensor, unstable: Tensor,
            relax: List[Tuple[Tensor, Tensor, Tensor]], center: Tensor, radius: Tensor
            ) -> Tuple[Tensor, Tensor, Tensor]:
    """CROWN bounds of the unstable neurons of ReLU k's input (z_{k+1}) for a chunk of boxes:
    (lower, upper (B, h), share (B, h, n): each input's share of each neuron's width)."""
    w, b = chain.weights[k], chain.biases[k]
    most = int(unstable.sum(1).max())
    # each box's unstable neurons first; the padding repeats stable ones (ignored)
    idx = torch.argsort((~unstable).to(torch.int8), dim=1, stable=True)[:, :most]  # (B, R)
    valid = unstable.gather(1, idx)
    rows = w[idx]  # (B, R, h_prev)
    A = torch.cat([rows, -rows], 1)
    bias = torch.cat([b[idx], -b[idx]], 1)
    A, bias = backward_chain(chain, A, bias, k, relax)
    both = concretize_boxes(A, bias, center, radius)
    old_l, old_u = lower.gather(1, idx), upper.gather(1, idx)
    new_l = torch.where(valid, torch.maximum(old_l, both[:, :most]), old_l)
    new_u = torch.where(valid, torch.minimum(old_u, -both[:, most:]), old_u)
    width = (A[:, :most].abs() + A[:, most:].abs()) * radius.unsqueeze(1)  # (B, R, n)
    share = torch.zeros(lower.shape[0], w.shape[0], radius.shape[1], dtype=lower.dtype, device=lower.device)
    share = share.scatter(1, idx.unsqueeze(-1).expand_as(width), torch.where(valid.unsqueeze(-1), _shares(width), 0))
    return lower.scatter(1, idx, new_l), upper.scatter(1, idx, new_u), share


def output_bounds(chain: AffineChain, lo: Tensor, hi: Tensor, pre: List[Tuple[Tensor, Tensor]]) -> Tensor:
    """One backward pass from the outputs over given ReLU input bounds: lower (B, S)."""
    relax = [relax_lines(l, u) for l, u in pre]
    w, b = chain.weights[-1], chain.biases[-1]
    A = w.unsqueeze(0).expand(lo.shape[0], -1, -1)
    bias = b.unsqueeze(0).expand(lo.shape[0], -1)
    A, bias = backward_chain(chain, A, bias, len(chain.weights) - 1, relax)
    return concretize_boxes(A, bias, (hi + lo) / 2, (hi - lo) / 2)

