"""beta-CROWN: bound a batch of subdomains, optimising slopes (alpha) and split
multipliers (beta) jointly. Any alpha in [0, 1] and beta >= 0 gives a sound bound.

A split z_j >= 0 (active) or z_j <= 0 (inactive) enters the bound as the Lagrange term
beta_j * s_j * z_j with s_j = -1 (active) / +1 (inactive): it is <= 0 on the subdomain,
so adding it keeps a lower bound of the objective, and optimising beta tightens it.
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Dict, Optional

import torch
from torch import Tensor

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
            up, lo = u.clamp(min=0), l.clamp(max=0)
            self.upper_slope[p] = up / (up - lo).clamp(min=1e-12)
            self.intercept[p] = -lo * self.upper_slope[p]
            self.active[p] = (l >= 0).to(l.dtype)
            self.unstable[p] = ((l < 0) & (u > 0)).to(l.dtype)
            self.sign[p] = -doms.split[p].to(l.dtype).unsqueeze(1)  # beta-CROWN's s_j
        self.x_lower = root.x_lower.expand(d, *root.x_lower.shape[1:])
        self.x_upper = root.x_upper.expand(d, *root.x_upper.shape[1:])
        self.start = identity_start(d, (root.rows,), root.x_lower)


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


def bound_domains(root: Root, doms: Domains, iterations: int = 20, lr_alpha: float = 0.1,
                  lr_beta: float = 0.05, stop_above: float = 0.0, deadline: Optional[float] = None
                  ) -> BoundedBatch:
    """Optimise alpha/beta for every domain (updating ``doms`` in place with the best
    parameters and bounds) and return the bound, branching coefficients and candidates."""
    alpha = {p: a.detach().clone().requires_grad_() for p, a in doms.alpha.items()}
    beta = {p: b.detach().clone().requires_grad_() for p, b in doms.beta.items()}
    best_alpha = {p: a.detach().clone() for p, a in alpha.items()}
    best_beta = {p: b.detach().clone() for p, b in beta.items()}
    params = [{"params": list(alpha.values()), "lr": lr_alpha}, {"params": list(beta.values()), "lr": lr_beta}]
    has_params = any(p.numel() for group in params for p in group["params"])
    optimizer = torch.optim.Adam(params) if has_params and iterations > 0 else None
    best = None
    fixed = _Fixed(root, doms)
    with torch.enable_grad():
        for step in range(iterations + 1):
            rows, _ = _pass(root, fixed, alpha, beta)
            objective = rows.max(dim=1).values  # safe if any row of the clause is > 0
            with torch.no_grad():
                if best is None:
                    best = objective.detach().clone()
                    improved = torch.ones_like(best, dtype=torch.bool)
                else:
                    improved = objective > best
                    best = torch.where(improved, objective.detach(), best)
                for p in alpha:
                    mask = improved.reshape(-1, 1, 1)
                    best_alpha[p] = torch.where(mask, alpha[p].detach(), best_alpha[p])
                    best_beta[p] = torch.where(mask, beta[p].detach(), best_beta[p])
            done = bool((best > stop_above).all())
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
    doms.alpha, doms.beta, doms.bound = best_alpha, best_beta, best
    # One more pass at the best parameters records what branching and the attack need.
    record: Dict[int, Tensor] = {}
    with torch.no_grad():
        rows, lA = _pass(root, fixed, best_alpha, best_beta, record)
        doms.bound = torch.maximum(best, rows.max(dim=1).values)
        coefficients = {p: record[p] for p in root.positions}
        candidates = minimizing_input(lA, fixed.x_lower, fixed.x_upper)
    return BoundedBatch(doms.bound, coefficients, candidates)


def evaluate_domains(root: Root, doms: Domains) -> Tensor:
    """The bound (D,) of each domain at its current alpha/beta, in one pass (no optimisation)."""
    with torch.no_grad():
        rows, _ = _pass(root, _Fixed(root, doms), doms.alpha, doms.beta)
    return rows.max(dim=1).values
