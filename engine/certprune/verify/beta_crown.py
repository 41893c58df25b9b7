"""beta-CROWN: bound a batch of subdomains, optimising slopes (alpha) and split
multipliers (beta) jointly. Any alpha in [0, 1] and beta >= 0 gives a sound bound.

A split z_j >= 0 (active) or z_j <= 0 (inactive) enters the bound as the Lagrange term
beta_j * s_j * z_j with s_j = -1 (active) / +1 (inactive): it is <= 0 on the subdomain,
so adding it keeps a lower bound of the objective, and optimising beta tightens it.

Before that, ``tighten_intermediate`` recomputes each new subdomain's intermediate
bounds after its split layer (CROWN under the split-tightened earlier bounds), so a
split also tightens, and often stabilises, the neurons after it.
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Dict, Optional, Union

import torch
from torch import Tensor

from ..bounds.adam import Adam
from ..bounds.crown import concretize, identity_start, minimizing_input
from ..bounds.values import LinearBounds
from .domains import Domains, Root


@dataclass
class BoundedBatch:
    """The outcome of bounding D subdomains.

    bound (D,): lower bound of the clause objective (max over rows of row lower bound).
    coefficients: position -> (D, m, n_p) lower-bound coefficients of each root-unstable
    ReLU output (for branching). candidates (D, m, *input_shape): inputs minimising each
    row's linear lower bound (counterexample candidates).
    """

    bound: Tensor
    coefficients: Dict[int, Tensor]
    candidates: Tensor


def _relu_lines(l: Tensor, u: Tensor):
    """The upper line of relu on [l, u] (slope, intercept) and the phase masks (active,
    unstable), all shaped like l. Stable neurons get slope 1 (active) or 0 (inactive)."""
    up, lo = u.clamp(min=0), l.clamp(max=0)
    upper_slope = up / (up - lo).clamp(min=1e-12)
    return upper_slope, -lo * upper_slope, (l >= 0).to(l.dtype), ((l < 0) & (u > 0)).to(l.dtype)


class _Fixed:
    """What stays constant while one batch is optimised: the relaxation of every
    root-unstable neuron in every domain (upper line, phase masks, split signs) and the
    spec-folded graph. Only root-unstable neurons vary between domains, so everything
    per domain is (D, 1, n_p), never dense."""

    def __init__(self, root: Root, doms: Domains):
        d = len(doms)
        self.graph = root.graph_for(d)
        self.active, self.unstable, self.upper_slope, self.intercept, self.sign = {}, {}, {}, {}, {}
        for p in root.positions:
            l, u = doms.lower[p].unsqueeze(1), doms.upper[p].unsqueeze(1)  # (D, 1, n_p)
            self.upper_slope[p], self.intercept[p], self.active[p], self.unstable[p] = _relu_lines(l, u)
            self.sign[p] = -doms.split[p].to(l.dtype).unsqueeze(1)  # beta-CROWN's s_j
        self.x_lower = root.x_lower.expand(d, *root.x_lower.shape[1:])
        self.x_upper = root.x_upper.expand(d, *root.x_upper.shape[1:])
        self.start = identity_start(d, (root.rows,), root.x_lower)

    def select(self, root: Root, index: Tensor) -> "_Fixed":
        """The same for domains ``index`` only."""
        chosen = _Fixed.__new__(_Fixed)
        d = index.numel()
        chosen.graph = root.graph_for(d)
        for name in ("active", "unstable", "upper_slope", "intercept", "sign"):
            setattr(chosen, name, {p: t[index] for p, t in getattr(self, name).items()})
        chosen.x_lower = root.x_lower.expand(d, *root.x_lower.shape[1:])
        chosen.x_upper = root.x_upper.expand(d, *root.x_upper.shape[1:])
        chosen.start = self.start[:d]
        return chosen


def _pass(root: Root, fixed: _Fixed, alpha: Dict[int, Tensor], beta: Dict[int, Tensor],
          record: Optional[Dict[int, Tensor]] = None):
    """One beta-CROWN backward pass for the lower bound.

    Returns ((D, m) row lower bounds + offset, (D, m, *input_shape) input coefficients).
    At a ReLU, root-stable neurons take their exact slope (one dense multiply) and only
    the root-unstable ones are relaxed, with the domain's slopes and split multipliers.
    record: filled with position -> (D, m, n_p) coefficients of the root-unstable ReLU
    outputs (what branching reads).
    """
    A = fixed.start  # (D, m, m)
    d, m = A.shape[:2]
    bias = A.new_zeros(d, m)
    for pos in range(len(fixed.graph.ops) - 1, -1, -1):
        op = fixed.graph.ops[pos]
        if not op.is_relu:
            A, b = op.backward_coefficients(A)
            bias = bias + b
            continue
        idx = root.unstable[pos]
        flat = A.reshape(d, m, -1)
        coeff = flat[:, :, idx]  # (D, m, n_p) w.r.t. the ReLU output
        if record is not None:
            record[pos] = coeff
        positive, negative = coeff.clamp(min=0), coeff.clamp(max=0)
        lower_slope = fixed.active[pos] + fixed.unstable[pos] * alpha[pos]
        relaxed = positive * lower_slope + negative * fixed.upper_slope[pos] + beta[pos] * fixed.sign[pos]
        bias = bias + (negative * fixed.intercept[pos]).sum(-1)
        A = (flat * root.stable_slope[pos]).index_copy(2, idx, relaxed).reshape(d, m, *op.in_shape)
    lower, _ = concretize(LinearBounds(A, None, bias, bias), fixed.x_lower, fixed.x_upper)  # (D, m)
    return lower + root.offset, A


#: elements of one chunk of intermediate backward passes (coefficients (D, 2 n_p, *layer)).
REFINE_ELEMENTS = 2 ** 24
#: intermediate bounds of a subdomain are recomputed while that costs at most this
#: multiple of its alpha/beta optimisation (coefficient elements touched); beyond it,
#: each layer re-bounds its weightiest unstable neurons only (``tighten_priority``).
#: Chosen on four hard 256x4 MLP instances (bench/verify_fc.py, docs/benchmarks.md):
#: 3 did best on one and as well as 1 on the rest; 8 and unlimited re-bound too slowly.
#: Each neuron takes one backward pass, with the root's optimised slopes: on the same
#: four instances every one ended 60 s with a better bound than when each neuron also
#: took a pass with CROWN's slopes and kept the better (twice the cost per neuron).
TIGHTEN_SHARE = 3.0
#: during one batch's alpha/beta steps, the domains already proven safe leave the batch
#: once they are at least this share of it (alpha-beta-CROWN's pruning in iteration):
#: steps after that cost only the open domains' share.
PRUNE_SAFE_SHARE = 0.1
#: a domain whose computed lower bound of some neuron exceeds its upper bound by more
#: than this (relative) is empty: its split constraints contradict each other. Far above
#: float32 rounding of a backward pass; smaller crossings are treated as rounding.
INFEASIBLE_GAP = 1e-3


def _relaxed_backward(root: Root, lower: Dict[int, Tensor], upper: Dict[int, Tensor], A: Tensor,
                      end: int, alphas: Optional[Dict[int, Tensor]] = None) -> Tensor:
    """Lower bounds of the linear functions A (D, R, *out_shape of ops[end]) over each
    domain, by a backward pass from ``end`` to the input (root-stable neurons exact,
    root-unstable ones relaxed with the domain's bounds lower/upper (D, n_p)); lower
    slopes alphas[p] (1 or D, R, n_p), default CROWN's. Returns (D, R)."""
    d, r = A.shape[:2]
    bias = A.new_zeros(d, r)
    for pos in range(end, -1, -1):
        op = root.graph.ops[pos]
        if not op.is_relu:
            A, b = op.backward_coefficients(A)
            bias = bias + b
            continue
        idx = root.unstable[pos]
        l, u = lower[pos].unsqueeze(1), upper[pos].unsqueeze(1)  # (D, 1, n_p)
        upper_slope, intercept, active, unstable = _relu_lines(l, u)
        alpha = alphas[pos] if alphas is not None else (u > -l).to(l.dtype)
        lower_slope = active + unstable * alpha
        flat = A.reshape(d, r, -1)
        coeff = flat[:, :, idx]  # (D, R, n_p)
        positive, negative = coeff.clamp(min=0), coeff.clamp(max=0)
        bias = bias + (negative * intercept).sum(-1)
        relaxed = positive * lower_slope + negative * upper_slope
        A = (flat * root.stable_slope[pos]).index_copy(2, idx, relaxed).reshape(d, r, *op.in_shape)
    x_lower = root.x_lower.expand(d, *root.x_lower.shape[1:])
    x_upper = root.x_upper.expand(d, *root.x_upper.shape[1:])
    low, _ = concretize(LinearBounds(A, None, bias, bias), x_lower, x_upper)
    return low


def tighten_priority(doms: Domains, coefficients: Dict[int, Tensor]) -> Dict[int, Tensor]:
    """Per ReLU position, a score (n_p,) of how much each root-unstable neuron's bounds
    weigh on the bounds of these domains: its objective coefficient (D, m, n_p) times its
    relaxation's width min(u, -l), summed over domains and rows (BaBSR's intercept term)."""
    return {p: (c.abs().sum(1) * torch.minimum(doms.upper[p], -doms.lower[p]).clamp(min=0)).sum(0)
            for p, c in coefficients.items()}


def tighten_intermediate(root: Root, doms: Domains, after: int = 0, budget: float = math.inf,
                         priority: Optional[Dict[int, Tensor]] = None, deadline: Optional[float] = None) -> Tensor:
    """Recompute the bounds of root-unstable neurons in ReLU layers ``positions[k]``,
    k > after, of every domain under its split constraints (CROWN over the domain's
    own, split-tightened bounds of the earlier layers, layer by layer; with the root's
    optimised intermediate slopes where alpha-CROWN left them, else CROWN's), keeping
    the element-wise tighter of old and new. A split makes its neuron exact, which tightens
    the layers after it and often stabilises neurons there. Updates ``doms`` in place;
    returns (D,) bool: domains found empty (contradictory splits: safe).

    budget: per domain, the most coefficient elements the backward passes may touch in
    all, shared evenly by the layers after the split (a neuron left out keeps its bounds:
    sound, only looser). priority: position -> (n_p,) score (``tighten_priority``); a
    layer whose unstable neurons do not all fit in its share tightens the highest-scoring
    ones that do. Without it, such a layer keeps its bounds. deadline: a time.monotonic()
    value; past it, the bounds not yet recomputed are kept.
    """
    d = len(doms)
    empty = torch.zeros(d, dtype=torch.bool, device=doms.bound.device)
    spent = 0.0
    layers = [p for k, p in enumerate(root.positions) if k > after]
    with torch.no_grad():
        for j, p in enumerate(layers):
            l, u = doms.lower[p], doms.upper[p]  # (D, n_p)
            cols = ((l < 0) & (u > 0)).any(0).nonzero().flatten()
            if cols.numel() == 0:
                continue
            per_neuron = 2 * sum(math.prod(op.out_shape) for op in root.graph.ops[:p])
            share = (budget - spent) / (len(layers) - j)
            if cols.numel() * per_neuron > share:
                fits = int(share // per_neuron)
                if priority is None or fits == 0:
                    continue
                cols = cols[priority[p][cols].topk(fits).indices.sort().values]
            spent += cols.numel() * per_neuron
            neurons = root.unstable[p][cols]
            shape = tuple(root.pre_lower[p].shape[1:])
            widest = max(max(math.prod(op.in_shape), math.prod(op.out_shape)) for op in root.graph.ops[:p])
            chunk = max(1, REFINE_ELEMENTS // (2 * cols.numel() * widest))
            new_l, new_u = l.clone(), u.clone()
            for s in range(0, d, chunk):
                if deadline is not None and time.monotonic() > deadline:
                    break  # the rows not reached keep their bounds
                part = slice(s, min(d, s + chunk))
                n = part.stop - part.start
                start = identity_start(n, shape, l, neurons)  # (n, c, *shape)
                sub_l = {q: doms.lower[q][part] for q in root.positions if q < p}
                sub_u = {q: doms.upper[q][part] for q in root.positions if q < p}
                both = torch.cat([start, -start], dim=1)
                c = cols.numel()
                if p in root.intermediate_alpha:  # the root's optimised slopes for these neurons
                    rows = torch.cat([cols, root.unstable[p].numel() + cols])
                    alphas = {q: a[:, rows] for q, a in root.intermediate_alpha[p].items()}
                    low = _relaxed_backward(root, sub_l, sub_u, both, p - 1, alphas)
                else:
                    low = _relaxed_backward(root, sub_l, sub_u, both, p - 1)
                new_l[part, cols] = torch.maximum(l[part][:, cols], low[:, :c])
                new_u[part, cols] = torch.minimum(u[part][:, cols], -low[:, c:])
            gap = new_l - new_u
            empty |= (gap > INFEASIBLE_GAP * (1 + new_l.abs() + new_u.abs())).any(1)
            # Crossings within rounding: keep the interval (it still contains the value).
            doms.lower[p], doms.upper[p] = torch.minimum(new_l, new_u), torch.maximum(new_l, new_u)
    return empty


def _tighten_by_split_layer(root: Root, doms: Domains, after: Union[int, Tensor], budget: float,
                            priority: Optional[Dict[int, Tensor]], deadline: Optional[float]) -> Tensor:
    """``tighten_intermediate`` with ``after`` an int or (D,) per domain: each group of
    domains split in one layer re-bounds the layers after that one only."""
    if not isinstance(after, Tensor):
        return tighten_intermediate(root, doms, after, budget, priority, deadline)
    empty = torch.zeros(len(doms), dtype=torch.bool, device=doms.bound.device)
    for k in torch.unique(after).tolist():
        idx = (after == k).nonzero().flatten()
        if idx.numel() == len(doms):
            return tighten_intermediate(root, doms, int(k), budget, priority, deadline)
        group = doms.select(idx)
        empty[idx] = tighten_intermediate(root, group, int(k), budget, priority, deadline)
        for p in root.positions:
            doms.lower[p] = doms.lower[p].index_copy(0, idx, group.lower[p])
            doms.upper[p] = doms.upper[p].index_copy(0, idx, group.upper[p])
    return empty


def bound_domains(root: Root, doms: Domains, iterations: int = 20, lr_alpha: float = 0.1,
                  lr_beta: float = 0.05, stop_above: float = 0.0, deadline: Optional[float] = None,
                  tighten_after: Optional[Union[int, Tensor]] = None, priority: Optional[Dict[int, Tensor]] = None
                  ) -> BoundedBatch:
    """Optimise alpha/beta for every domain (updating ``doms`` in place with the best
    parameters and bounds) and return the bound, branching coefficients and candidates.

    tighten_after: first recompute the intermediate bounds of the ReLU layers after
    ``positions[tighten_after]`` under each domain's splits (``tighten_intermediate``,
    which ``priority`` steers); an int for every domain, or (D,) per domain (its
    newest split's layer: the layers up to it keep the parent's bounds, which nothing
    changed); None: keep the domains' bounds (the root, or bounds already tightened).
    """
    empty = None
    if tighten_after is not None:
        # Tightening may cost about as much as the optimisation it feeds (forward and
        # backward over every layer for m rows, each step).
        steps = 3 * max(1, iterations) * root.rows * sum(math.prod(op.out_shape) for op in root.graph.ops)
        empty = _tighten_by_split_layer(root, doms, tighten_after, TIGHTEN_SHARE * steps, priority, deadline)
    alpha = {p: a.detach().clone().requires_grad_() for p, a in doms.alpha.items()}
    beta = {p: b.detach().clone().requires_grad_() for p, b in doms.beta.items()}
    best_alpha = {p: a.detach().clone() for p, a in alpha.items()}
    best_beta = {p: b.detach().clone() for p, b in beta.items()}
    groups = [(list(alpha.values()), lr_alpha), (list(beta.values()), lr_beta)]
    has_params = any(p.numel() for ps, _ in groups for p in ps)
    optimizer = Adam(groups) if has_params and iterations > 0 else None
    best = None
    full = fixed = _Fixed(root, doms)
    live = torch.arange(len(doms), device=doms.bound.device)  # domains still optimised
    with torch.enable_grad():
        for step in range(iterations + 1):
            rows, _ = _pass(root, fixed, alpha, beta)
            objective = rows.max(dim=1).values  # safe if any row of the clause is > 0
            with torch.no_grad():
                if best is None:
                    best = objective.detach().clone()
                    improved = torch.ones_like(best, dtype=torch.bool)
                else:
                    improved = objective > best[live]
                    best[live] = torch.where(improved, objective.detach(), best[live])
                for p in alpha:
                    mask = improved.reshape(-1, 1, 1)
                    best_alpha[p][live] = torch.where(mask, alpha[p].detach(), best_alpha[p][live])
                    best_beta[p][live] = torch.where(mask, beta[p].detach(), best_beta[p][live])
                safe = best[live] > stop_above
            proven = int(safe.sum())  # one host sync per step for both checks below
            done = proven == safe.numel()
            out_of_time = deadline is not None and time.monotonic() > deadline
            if optimizer is None or step == iterations or done or out_of_time:
                break
            optimizer.zero_grad()
            (-objective.sum()).backward()
            optimizer.step()
            with torch.no_grad():
                for a in alpha.values():
                    a.clamp_(0.0, 1.0)
                for b in beta.values():
                    b.clamp_(min=0.0)
            if proven >= PRUNE_SAFE_SHARE * safe.numel():
                # Proven domains leave the batch: their best bound is already above
                # stop_above, and the rest optimise on without paying for them.
                keep = (~safe).nonzero().flatten()
                live, fixed = live[keep], fixed.select(root, keep)
                optimizer = optimizer.select(keep)
                kept = iter(optimizer.params)
                alpha = {p: next(kept) for p in alpha}
                beta = {p: next(kept) for p in beta}
    doms.alpha, doms.beta, doms.bound = best_alpha, best_beta, best
    # One more pass at the best parameters records what branching and the attack need.
    record: Dict[int, Tensor] = {}
    with torch.no_grad():
        rows, lA = _pass(root, full, best_alpha, best_beta, record)
        doms.bound = torch.maximum(best, rows.max(dim=1).values)
        if empty is not None:
            doms.bound = torch.where(empty, torch.full_like(doms.bound, float("inf")), doms.bound)
        coefficients = {p: record[p] for p in root.positions}
        candidates = minimizing_input(lA, full.x_lower, full.x_upper)
    return BoundedBatch(doms.bound, coefficients, candidates)


def evaluate_domains(root: Root, doms: Domains) -> Tensor:
    """The bound (D,) of each domain at its current alpha/beta, in one pass (no optimisation)."""
    with torch.no_grad():
        rows, _ = _pass(root, _Fixed(root, doms), doms.alpha, doms.beta)
    return rows.max(dim=1).values
