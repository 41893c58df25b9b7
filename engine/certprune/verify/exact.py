"""Exact decision of a subdomain whose every unstable ReLU is split (or stable under
the domain's own bounds, which hold on the subdomain).

With every ReLU's phase fixed the network is affine on the subdomain, so "is the clause
violated somewhere?" is a linear program over the input box plus the split constraints
(root-stable neurons need no constraint: their phase holds on the whole box). It is
solved in float64 with HiGHS; a claimed violation is re-checked with a forward pass.
"""
from __future__ import annotations

from typing import Optional, Tuple

import numpy as np
import torch
from torch import Tensor

from ..bounds.crown import backward_from, identity_start
from ..bounds.values import Relaxation
from .domains import Domains, Root
from .pgd import spec_values, violates

#: an LP optimum above this (in output units) counts as safe; HiGHS' feasibility
#: tolerance is 1e-7, so smaller positive optima are not trusted either way.
LP_SAFE_MARGIN = 1e-6


def decide_fixed_domain(root: Root, doms: Domains, i: int) -> Tuple[str, Optional[Tensor]]:
    """Decide domain ``i`` exactly: ('safe', None), ('violated', x (*input_shape)) or
    ('undecided', None) when the LP says violated but no forward pass confirms it."""
    with torch.no_grad():
        return _decide(root, doms, i)


def _decide(root: Root, doms: Domains, i: int) -> Tuple[str, Optional[Tensor]]:
    graph = root.graph64()
    relax = {}
    for p in root.positions:
        split = doms.split[p][i]  # (n_p,)
        lower = root.pre_lower[p].to(torch.float64)
        active = (lower >= 0).to(torch.float64).reshape(-1).clone()
        # A root-unstable neuron is active where split so, or where the domain's own
        # bounds (sound under its splits) say it is (l >= 0) without a split.
        phase = (split > 0) | ((split == 0) & (doms.lower[p][i] >= 0))
        active[root.unstable[p]] = phase.to(torch.float64)
        active = active.reshape(lower.shape)
        relax[p] = Relaxation(active, active, active, torch.zeros_like(active))
    like = root.x_lower.to(torch.float64)  # dtype/device of the float64 computation
    rows = []  # split constraints as (A, c): A x <= c
    out = backward_from(graph, len(graph.ops) - 1, identity_start(1, (root.rows,), like), None, relax)
    A_out = out.lA.reshape(root.rows, -1).cpu().numpy()
    c_out = (out.lbias.reshape(-1) + root.offset.to(like)).cpu().numpy()
    for p in root.positions:
        split = doms.split[p][i]
        chosen = (split != 0).nonzero().flatten()
        if chosen.numel() == 0:
            continue
        neurons = root.unstable[p][chosen]
        shape = root.pre_lower[p].shape[1:]
        start = identity_start(1, shape, like, neurons)
        lin = backward_from(graph, p - 1, start, None, relax)
        A = lin.lA.reshape(neurons.numel(), -1).cpu().numpy()
        c = lin.lbias.reshape(-1).cpu().numpy()
        sign = split[chosen].to(torch.float64).cpu().numpy()  # +1: z >= 0 -> -z <= 0; -1: z <= 0
        rows.append((-sign[:, None] * A, sign * c))
    n = A_out.shape[1]
    # Variables [x (n), t]: minimise t subject to row_s(x) <= t and the split constraints.
    a_ub = [np.hstack([A_out, -np.ones((root.rows, 1))])]
    b_ub = [-c_out]
    for A, c in rows:
        a_ub.append(np.hstack([A, np.zeros((A.shape[0], 1))]))
        b_ub.append(c)
    xl = root.x_lower.reshape(-1).double().cpu().numpy()
    xu = root.x_upper.reshape(-1).double().cpu().numpy()
    bounds = [(float(a), float(b)) for a, b in zip(xl, xu)] + [(None, None)]
    cost = np.zeros(n + 1)
    cost[-1] = 1.0
    from scipy.optimize import linprog  # here, not at import: scipy.optimize costs verify ~0.5 s of start-up

    res = linprog(cost, A_ub=np.vstack(a_ub), b_ub=np.concatenate(b_ub), bounds=bounds, method="highs")
    if res.status == 2:  # infeasible: the split constraints leave no input
        return "safe", None
    if res.status != 0:
        return "undecided", None
    if res.fun > LP_SAFE_MARGIN:
        return "safe", None
    x = torch.as_tensor(res.x[:n], dtype=root.x_lower.dtype, device=root.x_lower.device)
    x = torch.max(torch.min(x.reshape(root.x_lower.shape), root.x_upper), root.x_lower)
    values = spec_values(root.model, x, root.spec.unsqueeze(0), root.offset.unsqueeze(0))
    if bool(violates(values, require_all=True)[0]):
        return "violated", x[0]
    return "undecided", None

