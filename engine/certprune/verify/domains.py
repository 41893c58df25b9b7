"""Branch-and-bound state: the root problem and batches of subdomains.

Only neurons that are unstable at the root can ever be split (subdomain bounds only
tighten), so a subdomain stores its state for those neurons alone: per ReLU position p,
n_p = number of root-unstable neurons there, and for D subdomains

    lower[p], upper[p]: (D, n_p) pre-activation bounds under the domain's splits (the
                        split neuron tightened to 0, later layers recomputed by
                        beta_crown.tighten_intermediate; a neuron they make stable
                        is no longer split or relaxed)
    split[p]:           (D, n_p) int8, +1 split active (z >= 0), -1 inactive (z <= 0), 0 free
    alpha[p], beta[p]:  (D, m, n_p) lower slopes and split multipliers (m = spec rows)
    bound:              (D,) best lower bound of the clause objective (> 0: proven safe)
"""
from __future__ import annotations

import copy
import math
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Tuple

import torch
from torch import Tensor, nn

from ..bounds.graph import BoundGraph, build_graph
from ..bounds.operators import BoundLinear, BoundReLU


@dataclass
class Root:
    """The fixed part of a branch-and-bound problem: one input box and one clause.

    The clause is violated at x when every row of spec @ model(x) + offset is <= 0
    (one row for a robustness margin); it is safe on a subdomain when some row's lower
    bound is > 0 there.
    """

    model: nn.Module
    graph: BoundGraph  # spec-folded for a batch of 1: outputs (1, m)
    x_lower: Tensor  # (1, *input_shape)
    x_upper: Tensor
    spec: Tensor  # (m, K)
    offset: Tensor  # (m,)
    positions: List[int]  # ReLU positions in graph.ops
    pre_lower: Dict[int, Tensor]  # dense root pre-activation bounds (1, *shape)
    pre_upper: Dict[int, Tensor]
    unstable: Dict[int, Tensor]  # flat indices (n_p,) of root-unstable neurons
    stable_slope: Dict[int, Tensor]  # (1, 1, N_p): 1 where the root bounds say active, else 0
    _graph64: Optional[BoundGraph] = field(default=None, repr=False)
    #: p -> {q: (1, 2 n_p, n_q)} slopes of ReLU q's root-unstable neurons for the lower
    #: (first n_p rows) and upper bounds of ReLU p's root-unstable neurons (alpha-CROWN's
    #: optimised intermediate slopes; subdomains' intermediate bounds try them too)
    intermediate_alpha: Dict[int, Dict[int, Tensor]] = field(default_factory=dict)

    @staticmethod
    def build(model: nn.Module, x_lower: Tensor, x_upper: Tensor, spec: Tensor, offset: Tensor,
              pre: Dict[int, Tuple[Tensor, Tensor]],
              intermediate_slopes: Optional[Dict[int, Tuple[Tensor, Dict[int, Tensor]]]] = None) -> "Root":
        """pre: position -> (l, u) (1, *shape) root pre-activation bounds (e.g. from CROWN).
        intermediate_slopes: what ``optimize_alpha_layers`` fills in (for these ``pre``)."""
        graph = build_graph(model, x_lower.shape[1:], spec=spec.unsqueeze(0))
        positions = sorted(pre)
        unstable = {p: ((pre[p][0] < 0) & (pre[p][1] > 0)).reshape(-1).nonzero().flatten() for p in positions}
        stable_slope = {p: (pre[p][0] >= 0).to(x_lower.dtype).reshape(1, 1, -1) for p in positions}
        root = Root(model, graph, x_lower, x_upper, spec, offset, positions,
                    {p: pre[p][0] for p in positions}, {p: pre[p][1] for p in positions}, unstable, stable_slope)
        for p, (bounded, slopes) in (intermediate_slopes or {}).items():
            idx = unstable.get(p)
            if idx is None or idx.numel() == 0 or bounded.numel() == 0:
                continue
            at = torch.searchsorted(bounded, idx).clamp(max=bounded.numel() - 1)
            if not bool((bounded[at] == idx).all()) or any(q not in slopes for q in positions if q < p):
                continue  # computed for other bounds: not applicable
            rows = torch.cat([at, bounded.numel() + at])
            root.intermediate_alpha[p] = {q: slopes[q].reshape(1, 2 * bounded.numel(), -1)[:, rows][:, :, unstable[q]]
                                          for q in positions if q < p}
        return root

    @property
    def rows(self) -> int:
        return self.spec.shape[0]

    def graph_for(self, batch: int) -> BoundGraph:
        """The same graph with the folded spec layer expanded to ``batch`` subdomains."""
        last = self.graph.ops[-1]
        expanded = BoundLinear(last.index, last.in_shape, last.weight.expand(batch, *last.weight.shape[1:]),
                               last.bias.expand(batch, *last.bias.shape[1:]))
        return BoundGraph(self.graph.ops[:-1] + [expanded], self.graph.input_shape)

    def graph64(self) -> BoundGraph:
        """A float64 copy of the spec-folded graph (for exact checks of fully split domains)."""
        if self._graph64 is None:
            model64 = copy.deepcopy(self.model).double().eval()
            self._graph64 = build_graph(model64, self.x_lower.shape[1:], spec=self.spec.double().unsqueeze(0))
        return self._graph64


@dataclass
class Domains:
    lower: Dict[int, Tensor]
    upper: Dict[int, Tensor]
    split: Dict[int, Tensor]
    alpha: Dict[int, Tensor]
    beta: Dict[int, Tensor]
    bound: Tensor
    depth: Tensor

    def __len__(self) -> int:
        return int(self.bound.shape[0])

    @staticmethod
    def root(root: Root, alpha: Optional[Dict[int, Tensor]] = None) -> "Domains":
        """The single root domain. alpha: position -> (1, m, *shape) slopes to start from."""
        lower, upper, split, alphas, betas = {}, {}, {}, {}, {}
        m = root.rows
        for p in root.positions:
            idx = root.unstable[p]
            l = root.pre_lower[p].reshape(1, -1)[:, idx]
            u = root.pre_upper[p].reshape(1, -1)[:, idx]
            lower[p], upper[p] = l, u
            split[p] = torch.zeros(1, idx.numel(), dtype=torch.int8, device=l.device)
            if alpha is not None and p in alpha:
                alphas[p] = alpha[p].reshape(1, m, -1)[:, :, idx].clone()
            else:
                alphas[p] = BoundReLU.default_alpha(l, u).unsqueeze(1).expand(1, m, -1).clone()
            betas[p] = torch.zeros(1, m, idx.numel(), dtype=l.dtype, device=l.device)
        device = root.x_lower.device
        return Domains(lower, upper, split, alphas, betas,
                       torch.full((1,), -math.inf, device=device, dtype=root.x_lower.dtype),
                       torch.zeros(1, dtype=torch.long, device=device))

    def _map(self, fn) -> "Domains":
        return Domains({p: fn(t) for p, t in self.lower.items()}, {p: fn(t) for p, t in self.upper.items()},
                       {p: fn(t) for p, t in self.split.items()}, {p: fn(t) for p, t in self.alpha.items()},
                       {p: fn(t) for p, t in self.beta.items()}, fn(self.bound), fn(self.depth))

    def select(self, index: Tensor) -> "Domains":
        return self._map(lambda t: t[index])

    @staticmethod
    def concat(parts: List["Domains"]) -> "Domains":
        parts = [d for d in parts if len(d)]
        first = parts[0]
        cat = lambda name: {p: torch.cat([getattr(d, name)[p] for d in parts]) for p in getattr(first, name)}
        return Domains(cat("lower"), cat("upper"), cat("split"), cat("alpha"), cat("beta"),
                       torch.cat([d.bound for d in parts]), torch.cat([d.depth for d in parts]))

    def children(self, layer: Tensor, neuron: Tensor, positions: List[int]) -> "Domains":
        """Split each domain i on neuron ``neuron[i]`` of ReLU ``positions[layer[i]]``.

        Returns 2D domains: the first D with that neuron active (l = 0, split +1), the
        next D inactive (u = 0, split -1). Slopes and multipliers are inherited.
        """
        d = len(self)
        both = self._map(lambda t: torch.cat([t, t]))
        both.depth = both.depth + 1
        rows = torch.arange(d, device=self.bound.device)
        for k, p in enumerate(positions):
            sel = (layer == k).nonzero().flatten()
            if sel.numel() == 0:
                continue
            cols = neuron[sel]
            lower, upper, split = both.lower[p].clone(), both.upper[p].clone(), both.split[p].clone()
            lower[rows[sel], cols] = 0.0
            split[rows[sel], cols] = 1
            upper[d + rows[sel], cols] = 0.0
            split[d + rows[sel], cols] = -1
            both.lower[p], both.upper[p], both.split[p] = lower, upper, split
        return both
