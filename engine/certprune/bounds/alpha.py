"""alpha-CROWN: optimise the lower slopes of unstable ReLUs.

    optimize_alpha         the output bounds only, over fixed intermediate bounds
    optimize_alpha_layers  every layer jointly (auto_LiRPA's way): each ReLU layer's
                           bounds have their own slopes for the ReLUs before it

One slope per unstable neuron per bounded output (B, S, *shape) for each side, projected
gradient ascent with Adam (any slope in [0, 1] is sound), keeping the element-wise best
bound. Iteration 0 uses CROWN's slopes, so the result is never looser than CROWN.
"""
from __future__ import annotations

import math
import time
from typing import Dict, Optional, Tuple

import torch
from torch import Tensor

from .adam import Adam
from .crown import backward_from, concretize, identity_start
from .graph import BoundGraph
from .operators import BoundReLU


def optimize_alpha(graph: BoundGraph, x_lower: Tensor, x_upper: Tensor,
                   pre: Dict[int, Tuple[Tensor, Tensor]], iterations: int = 20, lr: float = 0.1,
                   bound_upper: bool = True, lr_decay: float = 0.98,
                   init_alpha: Optional[Dict[int, Tensor]] = None, deadline: Optional[float] = None,
                   ) -> Tuple[Tensor, Optional[Tensor], Dict[int, Tensor]]:
    """Optimised (lower (B, S), upper (B, S) or None, best lower-bound slopes per ReLU).

    pre: position -> (l, u) pre-activation bounds of every ReLU (treated as constants).
    init_alpha: position -> (B, S, *shape) lower-bound slopes to start from (default CROWN's);
    with iterations=0 this evaluates the bound at exactly those slopes.
    deadline: a time.monotonic() value after which the optimisation stops (best so far kept).
    """
    batch = x_lower.shape[0]
    out_shape = graph.output_shape
    pre = {p: (l.detach(), u.detach()) for p, (l, u) in pre.items()}
    out_dim = math.prod(out_shape)

    def initial(p):
        l, u = pre[p]
        return BoundReLU.default_alpha(l, u).unsqueeze(1).expand(batch, out_dim, *l.shape[1:]).clone()

    alpha_l = {p: (init_alpha[p].detach().to(x_lower).clone() if init_alpha is not None else initial(p))
               .requires_grad_() for p in pre}
    alpha_u = {p: initial(p).requires_grad_() for p in pre} if bound_upper else {}
    best_alpha = {p: a.detach().clone() for p, a in alpha_l.items()}
    params = list(alpha_l.values()) + list(alpha_u.values())
    optimizer = Adam([(params, lr)]) if params else None
    best_lower: Optional[Tensor] = None
    best_upper: Optional[Tensor] = None
    last = len(graph.ops) - 1
    with torch.enable_grad():
        for step in range(iterations + 1):
            relax = {p: BoundReLU.relaxation(l, u, alpha_l[p], alpha_u.get(p)) for p, (l, u) in pre.items()}
            start = identity_start(batch, out_shape, x_lower)
            lin = backward_from(graph, last, start, start if bound_upper else None, relax)
            lower, upper = concretize(lin, x_lower, x_upper)
            with torch.no_grad():
                if best_lower is None:
                    best_lower = lower.detach().clone()
                    best_upper = upper.detach().clone() if upper is not None else None
                else:
                    improved = lower > best_lower
                    best_lower = torch.where(improved, lower, best_lower)
                    for p in best_alpha:
                        mask = improved.reshape(improved.shape + (1,) * (best_alpha[p].dim() - 2))
                        best_alpha[p] = torch.where(mask, alpha_l[p].detach(), best_alpha[p])
                    if upper is not None:
                        best_upper = torch.minimum(best_upper, upper)
            if step == iterations or optimizer is None or (deadline is not None and time.monotonic() > deadline):
                break
            loss = -lower.sum() + (upper.sum() if upper is not None else 0.0)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            optimizer.decay(lr_decay)
            with torch.no_grad():
                for a in params:
                    a.clamp_(0.0, 1.0)
    return best_lower, best_upper, best_alpha


#: per-layer alpha variables for intermediate bounds are created only while the slopes
#: plus the backward passes' saved coefficients stay under this many elements in all
#: (else that layer keeps its given bounds: sound, only looser). 2 ** 24 left the FGSM
#: cnn4's second conv layer without its own slopes, and its alpha-CROWN margins a third of
#: auto_LiRPA's gain over CROWN short; 2 ** 27 lets it have them (~0.4 GB more at peak,
#: docs/benchmarks.md "Bounds beside auto_LiRPA").
INTERMEDIATE_ELEMENTS = 2 ** 27


def optimize_alpha_layers(graph: BoundGraph, x_lower: Tensor, x_upper: Tensor,
                          pre: Dict[int, Tuple[Tensor, Tensor]], iterations: int = 20, lr: float = 0.1,
                          lr_decay: float = 0.98, deadline: Optional[float] = None,
                          memory_elements: int = INTERMEDIATE_ELEMENTS,
                          intermediate_slopes: Optional[Dict[int, Tuple[Tensor, Dict[int, Tensor]]]] = None,
                          ) -> Tuple[Tensor, Dict[int, Tuple[Tensor, Tensor]], Dict[int, Tensor]]:
    """alpha-CROWN as auto_LiRPA does it: the slopes of every ReLU optimised jointly for
    the intermediate bounds as well as the output's.

    Each ReLU layer p after the first gets its own slope variables for the ReLUs before
    it, one set per bound being computed: (B, 2 n_p, *shape_q) for the lower and upper
    bounds of its n_p unstable neurons (any slope in [0, 1] is sound). Its bounds are
    recomputed every step from the (optimised) bounds of the layers before it and kept
    no looser than ``pre``; the output's lower bound (B, S) is the objective (Adam,
    projected to [0, 1]). Every step's bounds are sound, so the element-wise best over
    the steps is kept for the intermediate layers as well as the output.

    pre: position -> (l, u) (B, *shape), e.g. CROWN's; the starting point.
    Returns (best output lower bound (B, S), tightened pre-activation bounds, output
    slopes (B, S, *shape) per ReLU that give the bound over the returned pre-activation
    bounds; see the note on the final pass).
    intermediate_slopes: if given, filled with p -> (flat indices (n_p,) of the neurons
    bounded, {q: (B, 2 n_p, *shape_q) slopes of ReLU q}) whose step gave each neuron its
    best bound (rows: lower bounds of the n_p neurons, then their upper bounds);
    branch and bound reuses them for subdomains' intermediate bounds.
    """
    batch = x_lower.shape[0]
    out_shape = graph.output_shape
    out_dim = math.prod(out_shape)
    pre = {p: (l.detach(), u.detach()) for p, (l, u) in pre.items()}
    positions = sorted(pre)

    # Which layers get their own slopes: unstable neurons exist and memory allows it.
    targets: Dict[int, Tensor] = {}
    used = 0
    for k, p in enumerate(positions):
        if k == 0:
            continue  # nothing before the first ReLU to optimise
        l, u = pre[p]
        idx = ((l < 0) & (u > 0)).reshape(batch, -1).any(0).nonzero().flatten()
        if idx.numel() == 0:
            continue
        rows = 2 * idx.numel()
        # Its slopes, plus the coefficients of every layer below it, which autograd keeps
        # (about three tensors per layer: the coefficients and the relaxation's parts).
        slopes = sum(math.prod(pre[q][0].shape[1:]) for q in positions[:k])
        kept = 3 * sum(math.prod(op.out_shape) for op in graph.ops[:p])
        need = batch * rows * (slopes + kept)
        if used + need > memory_elements:
            continue
        used += need
        targets[p] = idx

    def default(q, rows):
        l, u = pre[q]
        return BoundReLU.default_alpha(l, u).unsqueeze(1).expand(batch, rows, *l.shape[1:]).clone()

    inter = {p: {q: default(q, 2 * idx.numel()).requires_grad_() for q in positions if q < p}
             for p, idx in targets.items()}
    alpha_out = {q: default(q, out_dim).requires_grad_() for q in positions}
    params = list(alpha_out.values()) + [a for per in inter.values() for a in per.values()]
    optimizer = Adam([(params, lr)]) if params else None  # (no ReLU: nothing to optimise)
    best_pre = {p: (l.clone(), u.clone()) for p, (l, u) in pre.items()}
    best_inter = {p: {q: a.detach().clone() for q, a in per.items()} for p, per in inter.items()}
    best_lower: Optional[Tensor] = None
    best_alpha = {q: a.detach().clone() for q, a in alpha_out.items()}
    last = len(graph.ops) - 1

    def layer_bounds(current):
        """Bounds of every ReLU input this step, earlier layers first (differentiable)."""
        for p in positions:
            l0, u0 = pre[p]
            if p not in targets:
                current[p] = (l0, u0)
                continue
            idx = targets[p]
            relax = {q: BoundReLU.relaxation(*current[q], inter[p][q], None) for q in positions if q < p}
            start = identity_start(batch, tuple(l0.shape[1:]), x_lower, idx)
            lin = backward_from(graph, p - 1, torch.cat([start, -start], dim=1), None, relax)
            lo, _ = concretize(lin, x_lower, x_upper)  # (B, 2 n_p)
            n = idx.numel()
            flat_l, flat_u = l0.reshape(batch, -1), u0.reshape(batch, -1)
            new_l = torch.maximum(flat_l[:, idx], lo[:, :n])
            new_u = torch.minimum(flat_u[:, idx], -lo[:, n:])
            # A crossing (l > u) is float rounding on an (almost) point-valued neuron: keep it sound.
            new_l, new_u = torch.minimum(new_l, new_u), torch.maximum(new_l, new_u)
            current[p] = (flat_l.index_copy(1, idx, new_l).reshape(l0.shape),
                          flat_u.index_copy(1, idx, new_u).reshape(u0.shape))
        return current

    with torch.enable_grad():
        for step in range(iterations + 1):
            current = layer_bounds({})
            relax = {q: BoundReLU.relaxation(*current[q], alpha_out[q], None) for q in positions}
            start = identity_start(batch, out_shape, x_lower)
            lower, _ = concretize(backward_from(graph, last, start, None, relax), x_lower, x_upper)
            with torch.no_grad():
                for p, idx in targets.items():
                    l, u = current[p]
                    old_l, old_u = best_pre[p]
                    better = torch.cat([(l.detach() > old_l).reshape(batch, -1)[:, idx],
                                        (u.detach() < old_u).reshape(batch, -1)[:, idx]], dim=1)  # (B, 2 n_p)
                    for q, a in inter[p].items():
                        mask = better.reshape(better.shape + (1,) * (a.dim() - 2))
                        best_inter[p][q] = torch.where(mask, a.detach(), best_inter[p][q])
                    best_pre[p] = (torch.maximum(old_l, l.detach()), torch.minimum(old_u, u.detach()))
                if best_lower is None:
                    best_lower = lower.detach().clone()
                else:
                    improved = lower > best_lower
                    best_lower = torch.where(improved, lower.detach(), best_lower)
                    for q in best_alpha:
                        mask = improved.reshape(improved.shape + (1,) * (best_alpha[q].dim() - 2))
                        best_alpha[q] = torch.where(mask, alpha_out[q].detach(), best_alpha[q])
            if step == iterations or optimizer is None or (deadline is not None and time.monotonic() > deadline):
                break
            optimizer.zero_grad()
            (-lower.sum()).backward()
            optimizer.step()
            optimizer.decay(lr_decay)
            with torch.no_grad():
                for a in params:
                    a.clamp_(0.0, 1.0)
    # Final pass: the best slopes over the best (tightest) intermediate bounds, so the
    # returned (pre, slopes) reproduce a bound (float64 confirmation, branch and bound).
    with torch.no_grad():
        relax = {q: BoundReLU.relaxation(*best_pre[q], best_alpha[q], None) for q in positions}
        start = identity_start(batch, out_shape, x_lower)
        final, _ = concretize(backward_from(graph, last, start, None, relax), x_lower, x_upper)
    if intermediate_slopes is not None:
        intermediate_slopes.update({p: (idx, best_inter[p]) for p, idx in targets.items()})
    return torch.maximum(best_lower, final), best_pre, best_alpha
