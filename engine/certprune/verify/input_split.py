"""Branch and bound over the input box, for networks with few free inputs (ACAS Xu: 5).

    if suits_input_split(model, x_lower, x_upper):
        result = input_split(model, x_lower, x_upper, clauses, deadline)

With a handful of input dimensions, splitting the input box beats splitting ReLUs: each
half of a box has tighter pre-activation bounds everywhere, and thousands of sub-boxes
are bounded at once by batched matrix products. The loop (alpha-beta-CROWN's input split):

1. The network is collapsed into dense affine maps between its ReLUs (fixed inputs,
   lower == upper, folded into the first map's bias), in float32 for the search and in
   float64 for confirmations.
2. A batch of open sub-boxes (half with the worst bounds, half with the lowest property
   values seen at their points) is split in half, each along the input with the best
   estimated gain (BoxBounds.gain: alpha-beta-CROWN's 'sb' term |coefficient| * width / 2
   plus each input's share of the unstable ReLUs' relaxation cost).
3. The children are bounded at once with CROWN: every ReLU's input by IBP, intersected
   with the parent's bounds (a child lies inside its parent), then by its own backward
   pass where still unstable (boxes chunked by unstable count); then the property rows.
   Clause c is proven on a sub-box when some row's lower bound is > SAFE_TOLERANCE; a
   box is closed when every clause is. Thin proofs (below CONFIRM_BELOW) are re-derived
   by a float64 backward pass over the widened ReLU bounds first (property.py's habit).
4. Every open child's centre, each row's bound-minimising corner and each clause's are
   tried as counterexamples, and every few steps a short PGD runs inside the sub-boxes
   with the lowest values seen. A point that violates a clause (every row <= 0), checked
   with a forward pass of the model itself, falsifies the property.

No open sub-box -> verified; the deadline -> unknown (timeout).
"""
from __future__ import annotations

import copy
import math
import time
from dataclasses import dataclass
from typing import List, Optional, Sequence, Tuple

import torch
from torch import Tensor, nn

from ..bounds.graph import build_graph
from ..bounds.operators import (BoundBatchNorm, BoundConv2d, BoundElementwiseAffine, BoundLinear, BoundNormalize,
                                BoundReLU, BoundReshape)
from .bab import SAFE_TOLERANCE
from .pgd import attack_box, spec_values
from .property import CONFIRM_BELOW, WIDEN, PropertyResult

#: operators that are affine maps (collapsed into dense matrices between the ReLUs)
AFFINE_OPS = (BoundLinear, BoundConv2d, BoundBatchNorm, BoundElementwiseAffine, BoundNormalize, BoundReshape)


@dataclass
class InputSplitSettings:
    max_free_inputs: int = 16  # input split is chosen for at most this many free inputs ...
    max_dense_elements: int = 2 ** 22  # ... when the dense affine maps fit in this many entries
    batch: int = 1024  # sub-boxes split per step (children: twice as many)
    cpu_threads: int = 1  # small matrices: one thread beats two, and a busy machine hurts it least (0: leave)
    parent_bounds: bool = True  # children start from their parent's ReLU bounds ...
    parent_bounds_boxes: int = 250_000  # ... while fewer boxes than this are open (memory)
    branching: str = "gain"  # a key of BRANCHING: 'gain' (default), 'sb', 'widest'
    max_boxes: int = 2_000_000  # open sub-boxes kept before giving up (memory)
    attack_every: int = 4  # PGD from the worst open sub-boxes every this many steps (0: never)
    attack_starts: int = 32  # ... in this many sub-boxes (those with the lowest values seen) ...
    attack_steps: int = 20  # ... for this many steps


#: candidate points whose clause value (through the collapsed chain) is below this are
#: checked with a forward pass of the model itself
NEAR_ZERO = 1e-4


class _Unsuitable(ValueError):
    """The model is not a chain of affine maps and ReLUs that input splitting handles."""


# --------------------------------------------------------------------------------------
# The network as dense affine maps between ReLUs
# --------------------------------------------------------------------------------------

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
                 max_dense_elements: int = InputSplitSettings.max_dense_elements) -> AffineChain:
    """The network on the box as dense float64 maps over its free inputs (raises _Unsuitable)."""
    if not isinstance(model, nn.Sequential):
        raise _Unsuitable(f"input split needs a flat nn.Sequential, got {type(model).__name__}")
    model64 = copy.deepcopy(model).double().eval().to(x_lower.device)
    try:
        graph = build_graph(model64, x_lower.shape[1:])
    except ValueError as exc:
        raise _Unsuitable(str(exc)) from None
    segments: List[list] = [[]]
    for op in graph.ops:
        if isinstance(op, BoundReLU):
            segments.append([])
        elif isinstance(op, AFFINE_OPS):
            segments[-1].append(op)
        else:
            raise _Unsuitable(f"{op.describe()} is not affine or ReLU")
    free = free_inputs(x_lower, x_upper)
    sizes = [free.numel()] + [math.prod(op.in_shape) for op in graph.ops if isinstance(op, BoundReLU)]
    sizes.append(math.prod(graph.output_shape))
    if sum(a * b for a, b in zip(sizes[:-1], sizes[1:])) > max_dense_elements:
        raise _Unsuitable("the dense affine maps would be too large")
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


# --------------------------------------------------------------------------------------
# Bounds for a batch of boxes
# --------------------------------------------------------------------------------------

def _relax(lower: Tensor, upper: Tensor) -> Tuple[Tensor, Tensor, Tensor]:
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


def _backward(chain: AffineChain, A: Tensor, bias: Tensor, end: int,
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


def _concretize(A: Tensor, bias: Tensor, center: Tensor, radius: Tensor) -> Tensor:
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
        return BoxBounds(_concretize(A, bias, center, radius), A, [], A.abs() * radius.unsqueeze(1) / 2)
    w0, b0 = chain.weights[0], chain.biases[0]
    c1 = torch.addmm(b0, center, w0.t())
    r1 = radius.matmul(w0.abs().t())
    pre = [(c1 - r1, c1 + r1)]
    if parent is not None:
        pre[0] = (torch.maximum(pre[0][0], parent[0][0]), torch.minimum(pre[0][1], parent[0][1]))
    relax = [_relax(*pre[0])]
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
        relax.append(_relax(lower, upper))
    w, b = chain.weights[-1], chain.biases[-1]
    A = w.unsqueeze(0).expand(batch, -1, -1)
    bias = b.unsqueeze(0).expand(batch, -1)
    costs: List[Tensor] = [None] * depth
    A, bias = _backward(chain, A, bias, depth, relax, costs)
    gain = A.abs() * radius.unsqueeze(1) / 2
    for cost, share in zip(costs, shares):
        gain = gain + torch.bmm(cost, share) / 2
    return BoxBounds(_concretize(A, bias, center, radius), A, pre, gain)


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
    A, bias = _backward(chain, A, bias, k, relax)
    both = _concretize(A, bias, center, radius)
    old_l, old_u = lower.gather(1, idx), upper.gather(1, idx)
    new_l = torch.where(valid, torch.maximum(old_l, both[:, :most]), old_l)
    new_u = torch.where(valid, torch.minimum(old_u, -both[:, most:]), old_u)
    width = (A[:, :most].abs() + A[:, most:].abs()) * radius.unsqueeze(1)  # (B, R, n)
    share = torch.zeros(lower.shape[0], w.shape[0], radius.shape[1], dtype=lower.dtype, device=lower.device)
    share = share.scatter(1, idx.unsqueeze(-1).expand_as(width), torch.where(valid.unsqueeze(-1), _shares(width), 0))
    return lower.scatter(1, idx, new_l), upper.scatter(1, idx, new_u), share


def output_bounds(chain: AffineChain, lo: Tensor, hi: Tensor, pre: List[Tuple[Tensor, Tensor]]) -> Tensor:
    """One backward pass from the outputs over given ReLU input bounds: lower (B, S)."""
    relax = [_relax(l, u) for l, u in pre]
    w, b = chain.weights[-1], chain.biases[-1]
    A = w.unsqueeze(0).expand(lo.shape[0], -1, -1)
    bias = b.unsqueeze(0).expand(lo.shape[0], -1)
    A, bias = _backward(chain, A, bias, len(chain.weights) - 1, relax)
    return _concretize(A, bias, (hi + lo) / 2, (hi - lo) / 2)


# --------------------------------------------------------------------------------------
# The search
# --------------------------------------------------------------------------------------

@dataclass
class _Problem:
    """What every step needs: the chain with the property folded in, in both precisions."""

    model: nn.Module
    x_lower: Tensor  # (1, *input_shape)
    x_upper: Tensor
    free: Tensor  # (n,) flat indices of the free inputs
    chain32: AffineChain  # outputs every row of every clause: spec @ y + offset, (S,)
    chain64: AffineChain
    owner: Tensor  # (S, C) bool: row s belongs to clause c
    spec: Tensor  # (S, K) float32
    offset: Tensor  # (S,)

    def full_input(self, x: Tensor) -> Tensor:
        """Free-input points (B, n) -> network inputs (B, *input_shape) (fixed inputs filled in)."""
        full = self.x_lower.reshape(1, -1).repeat(x.shape[0], 1)
        full[:, self.free] = x.to(full.dtype)
        full = torch.max(torch.min(full, self.x_upper.reshape(1, -1)), self.x_lower.reshape(1, -1))
        return full.reshape(x.shape[0], *self.x_lower.shape[1:])

    def clause_values(self, rows: Tensor) -> Tensor:
        """Row values (B, S) -> (B, C): max over each clause's rows (<= 0: clause violated)."""
        return torch.where(self.owner.unsqueeze(0), rows.unsqueeze(-1), rows.new_tensor(-math.inf)).amax(1)

    def violating(self, x: Tensor) -> Optional[Tensor]:
        """The first free-input point of x (B, n) at which the model itself violates a clause,
        as a network input (*input_shape), or None."""
        if x.shape[0] == 0:
            return None
        full = self.full_input(x)
        with torch.no_grad():
            values = spec_values(self.model, full, self.spec.unsqueeze(0).expand(full.shape[0], -1, -1),
                                 self.offset.unsqueeze(0).expand(full.shape[0], -1))
            confirmed = (self.clause_values(values) <= 0).any(1).nonzero().flatten()
        return full[confirmed[0]].clone() if confirmed.numel() else None


@dataclass
class _Boxes:
    """Open sub-boxes: lo, hi (N, n); row lower bounds lower (N, S); their input
    coefficients coeff (N, S, n); proven (N, C) clauses already proven on the box."""

    lo: Tensor
    hi: Tensor
    lower: Tensor
    coeff: Tensor
    proven: Tensor
    gain: Tensor
    pre: Optional[Tensor] = None  # (N, 2, H) the ReLU input bounds, all layers concatenated
    upper: Optional[Tensor] = None  # (N, C) the lowest clause value seen at a point of the box ...
    best: Optional[Tensor] = None  # (N, C, n) ... and that point

    FIELDS = ("lo", "hi", "lower", "coeff", "proven", "gain", "pre", "upper", "best")

    def __len__(self) -> int:
        return self.lo.shape[0]

    def select(self, idx: Tensor) -> "_Boxes":
        return _Boxes(*(None if getattr(self, f) is None else getattr(self, f)[idx] for f in self.FIELDS))

    def twice(self) -> "_Boxes":
        return _Boxes(*(None if getattr(self, f) is None else torch.cat([getattr(self, f)] * 2) for f in self.FIELDS))

    @staticmethod
    def concat(parts: Sequence["_Boxes"]) -> "_Boxes":
        parts = [p for p in parts if len(p)] or list(parts[:1])
        return _Boxes(*(None if any(getattr(p, f) is None for p in parts) else torch.cat([getattr(p, f) for p in parts])
                        for f in _Boxes.FIELDS))


def suits_input_split(model: nn.Module, x_lower: Tensor, x_upper: Tensor,
                      settings: Optional[InputSplitSettings] = None) -> bool:
    """Input splitting is the better branch and bound: one float32 box, 1..max_free_inputs
    free inputs, and a network of affine maps and ReLUs whose dense form is small."""
    settings = settings or InputSplitSettings()
    if x_lower.shape[0] != 1 or x_lower.dtype != torch.float32 or not isinstance(model, nn.Sequential):
        return False
    free = int(free_inputs(x_lower, x_upper).numel())
    if not 1 <= free <= settings.max_free_inputs:
        return False
    try:
        graph = build_graph(model, x_lower.shape[1:])
    except ValueError:
        return False
    if not all(isinstance(op, AFFINE_OPS + (BoundReLU,)) for op in graph.ops):
        return False
    widths = [free] + [math.prod(op.in_shape) for op in graph.ops if isinstance(op, BoundReLU)]
    widths.append(math.prod(graph.output_shape))
    return sum(a * b for a, b in zip(widths[:-1], widths[1:])) <= settings.max_dense_elements


def input_split(model: nn.Module, x_lower: Tensor, x_upper: Tensor, clauses, deadline: float = math.inf,
                settings: Optional[InputSplitSettings] = None) -> PropertyResult:
    """Decide the property (clauses with .spec (m, K) and .offset (m,)) on the box
    [x_lower, x_upper] (1, *input_shape) by splitting the box. See the module docstring."""
    settings = settings or InputSplitSettings()
    started = time.monotonic()
    model.eval()
    dtype, device = x_lower.dtype, x_lower.device
    spec = torch.cat([c.spec for c in clauses]).to(device=device, dtype=dtype)
    offset = torch.cat([c.offset for c in clauses]).to(device=device, dtype=dtype)
    owner_index = torch.cat([torch.full((c.spec.shape[0],), i, device=device) for i, c in enumerate(clauses)])
    owner = owner_index.unsqueeze(1) == torch.arange(len(clauses), device=device).unsqueeze(0)  # (S, C)
    chain64 = affine_chain(model, x_lower, x_upper, settings.max_dense_elements)
    chain64 = chain64.with_spec(spec.double(), offset.double())
    prob = _Problem(model, x_lower, x_upper, free_inputs(x_lower, x_upper), chain64.to(torch.float32), chain64,
                    owner, spec, offset)
    search = _Search(prob, settings, deadline)
    threads = torch.get_num_threads()
    if device.type == "cpu" and settings.cpu_threads:
        torch.set_num_threads(settings.cpu_threads)
    try:
        with torch.no_grad():
            status, cex = search.run()
    finally:
        torch.set_num_threads(threads)
    seconds = time.monotonic() - started
    margin = search.root_margin
    if status == "falsified":
        return PropertyResult("falsified", "bab", margin, search.bounded, cex, seconds)
    if status == "verified":
        # proven on the whole box by its first bound: that is CROWN's verdict
        method = "crown" if search.bounded == 1 else "bab"
        return PropertyResult("verified", method, margin, search.bounded, None, seconds)
    return PropertyResult("unknown", "timeout" if status == "timeout" else "bab", margin, search.bounded, None,
                          seconds)


class _Search:
    def __init__(self, prob: _Problem, settings: InputSplitSettings, deadline: float):
        self.prob, self.settings, self.deadline = prob, settings, deadline
        self.bounded = 0  # sub-boxes bounded
        self.confirmed = 0  # thin proofs re-derived in float64
        self.steps = 0
        self.root_margin: Optional[float] = None
        self.undecided = False  # a sub-box too small to split stayed open
        self.trace = None  # a callable(search) run at every step (for benchmarks), with ...
        self.info: Tuple[int, float, float] = (0, 0.0, 0.0)  # ... (open boxes, worst bound, lowest value seen)
        self.keep_parent_bounds = settings.parent_bounds

    def bound(self, lo: Tensor, hi: Tensor, proven: Tensor, parent: Optional[Tensor] = None) -> _Boxes:
        """Bound children; close the clauses they prove (thin proofs confirmed in float64)."""
        if parent is not None and len(self.prob.chain32.weights) > 1:
            sizes = [w.shape[0] for w in self.prob.chain32.weights[:-1]]
            parent = [(l, u) for l, u in zip(parent[:, 0].split(sizes, 1), parent[:, 1].split(sizes, 1))]
        bb = bound_boxes(self.prob.chain32, lo, hi, parent)
        lower, coeff, pre = bb.lower, bb.coeff, bb.pre
        self.bounded += lo.shape[0]
        clause = self.prob.clause_values(lower)  # (B, C)
        newly = (clause > SAFE_TOLERANCE) & ~proven
        thin = (newly & (clause < CONFIRM_BELOW)).any(1).nonzero().flatten()
        if thin.numel():
            # property.py's float64 habit: one backward pass in float64 over the float32
            # ReLU bounds widened by WIDEN (covering their rounding), as _confirm_float64.
            self.confirmed += thin.numel()
            widened = [(l[thin].double() - WIDEN * (1 + l[thin].double().abs()),
                        u[thin].double() + WIDEN * (1 + u[thin].double().abs())) for l, u in pre]
            lower64 = output_bounds(self.prob.chain64, lo[thin].double(), hi[thin].double(), widened)
            ok = self.prob.clause_values(lower64) > 0
            newly[thin] &= ok
        pre_all = torch.stack([torch.cat([l for l, _ in pre], 1), torch.cat([u for _, u in pre], 1)], 1) \
            if self.keep_parent_bounds and pre else None
        return _Boxes(lo, hi, lower, coeff, proven | newly, bb.gain, pre_all)

    def run(self) -> Tuple[str, Optional[Tensor]]:
        prob, settings = self.prob, self.settings
        lo = prob.x_lower.reshape(1, -1)[:, prob.free]
        hi = prob.x_upper.reshape(1, -1)[:, prob.free]
        self.root_width = hi - lo
        root = self.bound(lo, hi, torch.zeros(1, prob.owner.shape[1], dtype=torch.bool, device=lo.device))
        self.root_margin = float(prob.clause_values(root.lower).min())
        pool = self._keep_open(root)
        cex = self._check(pool)
        while cex is None:
            if len(pool) == 0:
                return ("unknown" if self.undecided else "verified"), None
            if time.monotonic() > self.deadline:
                return "timeout", None
            if len(pool) > settings.max_boxes:
                return "memory", None
            if len(pool) > settings.parent_bounds_boxes and pool.pre is not None:
                self.keep_parent_bounds, pool.pre = False, None  # memory: children start afresh
            self.steps += 1
            if self.trace is not None:
                self.info = (len(pool), float(self._priority(pool).min()), float(pool.upper.min()))
                self.trace(self)
            parents, pool = self._take(pool, settings.batch)
            dims = self._branch(parents)
            children = self._split(parents, dims)
            if children is None:
                continue
            children = self._keep_open(self.bound(children.lo, children.hi, children.proven, children.pre))
            cex = self._check(children)
            pool = _Boxes.concat([pool, children])
            if cex is None and settings.attack_every and self.steps % settings.attack_every == 0 and len(pool):
                cex = self._attack(pool)
        return "falsified", cex

    def _priority(self, boxes: _Boxes) -> Tensor:
        """(N,) the worst open clause's bound: low values first (likeliest counterexamples)."""
        clause = self.prob.clause_values(boxes.lower)
        return torch.where(boxes.proven, clause.new_tensor(math.inf), clause).amin(1)

    def _keep_open(self, boxes: _Boxes) -> _Boxes:
        return boxes.select((~boxes.proven.all(1)).nonzero().flatten())

    def _take(self, pool: _Boxes, k: int) -> Tuple[_Boxes, _Boxes]:
        if len(pool) <= k:
            return pool, pool.select(torch.zeros(0, dtype=torch.long, device=pool.lo.device))
        # half the worst bounds (they decide a proof), half the lowest values seen (they
        # lead to counterexamples)
        take = torch.topk(self._priority(pool), k - k // 2, largest=False).indices
        seen = pool.upper.amin(1)
        seen[take] = math.inf
        take = torch.cat([take, torch.topk(seen, k // 2, largest=False).indices])
        keep = torch.ones(len(pool), dtype=torch.bool, device=pool.lo.device)
        keep[take] = False
        return pool.select(take), pool.select(keep.nonzero().flatten())

    def _branch(self, boxes: _Boxes) -> Tensor:
        return BRANCHING[self.settings.branching](boxes, self.prob.owner, self.root_width)

    def _split(self, boxes: _Boxes, dims: Tensor) -> Optional[_Boxes]:
        rows = torch.arange(len(boxes), device=dims.device)
        lo_d, hi_d = boxes.lo[rows, dims], boxes.hi[rows, dims]
        mid = (lo_d + hi_d) / 2
        splittable = (mid > lo_d) & (mid < hi_d)
        if not bool(splittable.all()):
            # fall back to the widest dimension; a box too small for that stays undecided
            widest = (boxes.hi - boxes.lo).argmax(1)
            dims = torch.where(splittable, dims, widest)
            lo_d, hi_d = boxes.lo[rows, dims], boxes.hi[rows, dims]
            mid = (lo_d + hi_d) / 2
            splittable = (mid > lo_d) & (mid < hi_d)
            if not bool(splittable.all()):
                self.undecided = True
                keep = splittable.nonzero().flatten()
                boxes, dims, mid = boxes.select(keep), dims[keep], mid[keep]
                rows = torch.arange(len(boxes), device=dims.device)
            if len(boxes) == 0:
                return None
        left_hi = boxes.hi.clone()
        left_hi[rows, dims] = mid
        right_lo = boxes.lo.clone()
        right_lo[rows, dims] = mid
        children = boxes.twice()
        children.lo, children.hi = torch.cat([boxes.lo, right_lo]), torch.cat([left_hi, boxes.hi])
        return children

    def _check(self, boxes: _Boxes) -> Optional[Tensor]:
        """Try each open box's centre, each row's bound-minimising corner and each clause's
        (the corner of its rows' summed coefficients); record the lowest value per clause."""
        if len(boxes) == 0:
            return None
        prob = self.prob
        owner = prob.owner.to(boxes.coeff.dtype)  # (S, C)
        coeff = torch.cat([boxes.coeff, torch.einsum("bsn,sc->bcn", boxes.coeff, owner)], 1)  # (N, S + C, n)
        corners = torch.where(coeff >= 0, boxes.lo.unsqueeze(1), boxes.hi.unsqueeze(1))
        points = torch.cat([((boxes.lo + boxes.hi) / 2).unsqueeze(1), corners], 1)  # (N, P, n)
        n, p, dims = points.shape
        values = prob.clause_values(prob.chain32.forward(points.reshape(-1, dims))).reshape(n, p, -1)  # (N, P, C)
        values = torch.where(boxes.proven.unsqueeze(1), values.new_tensor(math.inf), values)
        boxes.upper, pick = values.min(1)  # (N, C)
        boxes.best = points.gather(1, pick.unsqueeze(-1).expand(-1, -1, dims))  # (N, C, n)
        # the model itself decides; the collapsed chain's rounding differs from it a little
        hits = (boxes.upper <= NEAR_ZERO).nonzero()
        if hits.numel() == 0:
            return None
        return prob.violating(boxes.best[hits[:, 0], hits[:, 1]])

    def _attack(self, boxes: _Boxes) -> Optional[Tensor]:
        """A short PGD inside each of the sub-boxes with the lowest values seen, from the
        point that had it, on each open clause in turn."""
        prob, settings = self.prob, self.settings
        for c in range(prob.owner.shape[1]):
            open_c = (~boxes.proven[:, c]).nonzero().flatten()
            if open_c.numel() == 0:
                continue
            worst = open_c[torch.argsort(boxes.upper[open_c, c])[:settings.attack_starts]]
            rows = prob.owner[:, c].nonzero().flatten()
            k = worst.numel()
            x, success = attack_box(prob.model, prob.full_input(boxes.lo[worst]), prob.full_input(boxes.hi[worst]),
                                    prob.spec[rows].unsqueeze(0).expand(k, -1, -1),
                                    prob.offset[rows].unsqueeze(0).expand(k, -1),
                                    steps=settings.attack_steps, restarts=1, require_all=True,
                                    start=prob.full_input(boxes.best[worst, c]), deadline=self.deadline)
            hit = success.nonzero().flatten()
            if hit.numel():
                return x[hit[0]].clone()
        return None


# --------------------------------------------------------------------------------------
# Branching: which input to halve, per box. fn(boxes, owner (S, C), root width (1, n)) -> (N,)
# --------------------------------------------------------------------------------------

def _best_row_score(score: Tensor, boxes: _Boxes, owner: Tensor) -> Tensor:
    """score (N, S, n): the estimated bound of each row after halving each input. A
    clause's bound is its best row's; the open clauses' estimated gains are summed."""
    per_clause = torch.where(owner.unsqueeze(0).unsqueeze(-1), score.unsqueeze(2),
                             score.new_tensor(-math.inf)).amax(1)  # (N, C, n)
    per_clause = per_clause - per_clause.amin(-1, keepdim=True)
    per_clause = torch.where(boxes.proven.unsqueeze(-1), torch.zeros_like(per_clause), per_clause)
    return per_clause.sum(1).argmax(1)


def branch_gain(boxes: _Boxes, owner: Tensor, root_width: Tensor) -> Tensor:
    """Row bound + the estimated gain of halving each input (BoxBounds.gain): the direct
    'sb' term and the share of every unstable ReLU's relaxation cost due to that input."""
    return _best_row_score(boxes.gain + boxes.lower.unsqueeze(-1), boxes, owner)


def branch_sb(boxes: _Boxes, owner: Tensor, root_width: Tensor) -> Tensor:
    """alpha-beta-CROWN's 'sb': row bound + |coefficient| * width / 2."""
    width = boxes.hi - boxes.lo
    return _best_row_score(boxes.coeff.abs() * (width / 2).unsqueeze(1) + boxes.lower.unsqueeze(-1), boxes, owner)


def branch_widest(boxes: _Boxes, owner: Tensor, root_width: Tensor) -> Tensor:
    """The input with the largest width relative to the whole box ('naive')."""
    return ((boxes.hi - boxes.lo) / root_width).argmax(1)


BRANCHING = {"gain": branch_gain, "sb": branch_sb, "widest": branch_widest}
