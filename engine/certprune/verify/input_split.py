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

import math
import time
from dataclasses import dataclass
from typing import Optional

import torch
from torch import Tensor, nn

from ..bounds.graph import build_graph
from ..bounds.operators import BoundReLU
from .input_bounds import BoxBounds, bound_boxes, output_bounds  # noqa: F401  (the module's API)
from .input_boxes import BRANCHING, Boxes, SplitProblem, branch_gain, branch_sb, branch_widest  # noqa: F401
from .input_chain import AFFINE_OPS, MAX_DENSE_ELEMENTS, AffineChain, Unsuitable, affine_chain, free_inputs  # noqa: F401
from .input_search import Search
from .ladder import PropertyResult


@dataclass
class InputSplitSettings:
    max_free_inputs: int = 16  # input split is chosen for at most this many free inputs ...
    max_dense_elements: int = MAX_DENSE_ELEMENTS  # ... when the dense affine maps fit in this many entries
    batch: int = 1024  # sub-boxes split per step (children: twice as many)
    cpu_threads: int = 1  # small matrices: one thread beats two, and a busy machine hurts it least (0: leave)
    parent_bounds: bool = True  # children start from their parent's ReLU bounds ...
    parent_bounds_boxes: int = 250_000  # ... while fewer boxes than this are open (memory)
    branching: str = "gain"  # a key of BRANCHING: 'gain' (default), 'sb', 'widest'
    max_boxes: int = 2_000_000  # open sub-boxes kept before giving up (memory)
    attack_every: int = 4  # PGD from the worst open sub-boxes every this many steps (0: never)
    attack_starts: int = 32  # ... in this many sub-boxes (those with the lowest values seen) ...
    attack_steps: int = 20  # ... for this many steps


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
    prob = SplitProblem(model, x_lower, x_upper, free_inputs(x_lower, x_upper), chain64.to(torch.float32), chain64,
                    owner, spec, offset)
    search = Search(prob, settings, deadline)
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
                          seconds, search.open_bound)

