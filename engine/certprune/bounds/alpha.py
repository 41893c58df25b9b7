"""alpha-CROWN: optimise the lower slopes of unstable ReLUs for the output bounds.

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

from .crown import backward_from, concretize, identity_start
from .graph import BoundGraph
from .operators import BoundReLU
from .values import Relaxation


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
    optimizer = torch.optim.Adam(params, lr=lr) if params else None
    scheduler = torch.optim.lr_scheduler.ExponentialLR(optimizer, lr_decay) if params else None
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
            scheduler.step()
            with torch.no_grad():
                for a in params:
                    a.clamp_(0.0, 1.0)
    return best_lower, best_upper, best_alpha
