"""Branch and bound over ReLU splits (beta-CROWN style) for one clause of a property.

Loop: take the open subdomains with the worst bounds (up to ``batch`` of them), split
each on its highest-scoring unstable ReLU (FSB: both children at once), recompute the
children's intermediate bounds after the split layer under their splits (within a
budget: the neurons that weigh most on the parent's bound first), bound all
children with beta-CROWN, try each child's bound-minimising input as a counterexample, and keep
the children that are not yet proven safe. A subdomain with every unstable ReLU split
is decided exactly by a linear program. No open subdomain left -> verified.
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Dict, Optional, Tuple

import torch
from torch import Tensor, nn

from .beta_crown import bound_domains, tighten_priority
from .branching import choose_splits, choose_splits_fsb
from .domains import Domains, Root
from .exact import decide_fixed_domain
from .pgd import attack_box, spec_values, violates

#: a subdomain counts as safe when its bound exceeds this; the slack absorbs float32
#: rounding in the bound computation (subdomains within it are split further and, at
#: worst, decided exactly in float64).
SAFE_TOLERANCE = 1e-4


@dataclass
class BabSettings:
    batch: Optional[int] = None  # parents split per step (children: twice as many); None: 1024 GPU, 64 CPU
    #: alpha/beta optimisation steps per batch. 10 rather than 20: on the FGSM cnn4 the
    #: proofs need as many subdomains either way and come 30-47% sooner; the deep MLPs,
    #: the kit and the close calls decide the same (docs/benchmarks.md, 2026-12-03).
    iterations: int = 10
    root_iterations: int = 0  # extra alpha steps at the root (0: trust the caller's slopes)
    lr_alpha: float = 0.1
    lr_beta: float = 0.05
    max_domains: int = 200_000  # open subdomains kept before giving up (memory)
    branching: str = "fsb"  # 'fsb' (BaBSR top-k, children bounded once) or 'babsr'
    fsb_candidates: int = 3
    attack_starts: int = 8  # PGD from the bound minimisers of the worst open subdomains ...
    attack_steps: int = 10  # ... for this many steps, every step of the search (0: off)


@dataclass
class BabResult:
    status: str  # 'verified' | 'falsified' | 'unknown'
    reason: str  # 'proved' | 'counterexample' | 'timeout' | 'undecided' | 'memory'
    domains: int  # subdomains bounded
    lower: float  # the worst bound among open subdomains at the end (inf if none)
    counterexample: Optional[Tensor] = None  # (*input_shape)
    #: the smallest bound over the leaves of the search when it stopped: open subdomains
    #: and those closed by their bound (> SAFE_TOLERANCE; empty ones count +inf, those
    #: closed by the exact check are left out). A proven lower bound of the clause
    #: objective on the whole box when verified; None when no leaf has a finite bound.
    final_lower: Optional[float] = None


def branch_and_bound(model: nn.Module, x_lower: Tensor, x_upper: Tensor, spec: Tensor, offset: Tensor,
                     pre: Dict[int, tuple], alpha: Optional[Dict[int, Tensor]] = None,
                     deadline: float = math.inf, settings: Optional[BabSettings] = None,
                     attack_any: Optional[Tuple[Tensor, Tensor]] = None,
                     intermediate_slopes: Optional[Dict[int, tuple]] = None) -> BabResult:
    """Decide whether some x in [x_lower, x_upper] (1, *s) has every row of
    spec (m, K) @ model(x) + offset (m,) <= 0.

    pre: ReLU position -> (l, u) root pre-activation bounds (1, *shape), e.g. CROWN's.
    alpha: ReLU position -> (1, m, *shape) starting slopes (e.g. alpha-CROWN's).
    deadline: a time.monotonic() value; reaching it ends the search as 'unknown'.
    attack_any: (rows (S, K), offsets (S,)) of the whole property when it is violated as
    soon as any one row is <= 0 (robustness): the in-search attack then also looks for
    violations of the other clauses, which an attack on this clause alone would miss.
    A counterexample for any of them falsifies the property.
    intermediate_slopes: alpha-CROWN's optimised slopes for the intermediate bounds
    (``optimize_alpha_layers``), tried again for subdomains' intermediate bounds.
    """
    settings = settings or BabSettings()
    per_step = settings.batch or (1024 if x_lower.is_cuda else 64)
    model.eval()
    with torch.no_grad():
        root = Root.build(model, x_lower, x_upper, spec, offset, pre, intermediate_slopes)
        pool = Domains.root(root, alpha)
    rooted = bound_domains(root, pool, settings.root_iterations, settings.lr_alpha, settings.lr_beta,
                          SAFE_TOLERANCE, deadline)
    explored = 1
    closed = _Closed()
    cex = _counterexample(root, pool, rooted.candidates)
    if cex is not None:
        return BabResult("falsified", "counterexample", explored, float(pool.bound.min()), cex,
                         closed.final(pool.bound))
    coefficients = rooted.coefficients
    undecided = False
    while True:
        open_mask = pool.bound <= SAFE_TOLERANCE
        closed.add(pool.bound[~open_mask])
        pool = pool.select(open_mask.nonzero().flatten())
        coefficients = {p: c[open_mask] for p, c in coefficients.items()}
        if len(pool) == 0:
            if undecided:
                return BabResult("unknown", "undecided", explored, -math.inf, None, closed.final(pool.bound))
            return BabResult("verified", "proved", explored, math.inf, None, closed.final(pool.bound))
        if time.monotonic() > deadline:
            return BabResult("unknown", "timeout", explored, float(pool.bound.min()), None, closed.final(pool.bound))
        if len(pool) > settings.max_domains:
            return BabResult("unknown", "memory", explored, float(pool.bound.min()), None, closed.final(pool.bound))
        # The worst subdomains first: they decide the outcome (and hide counterexamples).
        order = torch.argsort(pool.bound)
        take, rest = order[:per_step], order[per_step:]
        parents = pool.select(take)
        parent_coeffs = {p: c[take] for p, c in coefficients.items()}
        pool = pool.select(rest)
        coefficients = {p: c[rest] for p, c in coefficients.items()}
        if settings.branching == "fsb":
            layer, neuron, has = choose_splits_fsb(root, parents, parent_coeffs, root.positions,
                                                   settings.fsb_candidates)
        else:
            layer, neuron, has = choose_splits(parents, parent_coeffs, root.positions)
        for i in (~has).nonzero().flatten().tolist():  # every unstable ReLU split: exact check
            verdict, x = decide_fixed_domain(root, parents, i)
            explored += 1
            if verdict == "violated":
                return BabResult("falsified", "counterexample", explored, -math.inf, x, closed.final(pool.bound))
            undecided |= verdict == "undecided"
        keep = has.nonzero().flatten()
        if keep.numel() == 0:
            continue
        kept = parents.select(keep)
        # Which neurons' bounds weigh most, for the layers too dear to re-bound in full.
        priority = tighten_priority(kept, {p: c[keep] for p, c in parent_coeffs.items()})
        children = kept.children(layer[keep], neuron[keep], root.positions)
        # Layers after each child's split layer get new bounds under the split (children:
        # the D active, then the D inactive).
        bounded = bound_domains(root, children, settings.iterations, settings.lr_alpha, settings.lr_beta,
                                SAFE_TOLERANCE, deadline, tighten_after=layer[keep].repeat(2), priority=priority)
        explored += len(children)
        cex = _counterexample(root, children, bounded.candidates)
        if cex is None:
            cex = _attack_from_candidates(root, children, bounded.candidates, settings, deadline, attack_any)
        if cex is not None:
            return BabResult("falsified", "counterexample", explored, -math.inf, cex,
                             closed.final(torch.cat([pool.bound, children.bound])))
        pool = Domains.concat([pool, children]) if len(pool) else children
        coefficients = {p: torch.cat([coefficients[p], bounded.coefficients[p]]) if len(coefficients[p])
                        else bounded.coefficients[p] for p in root.positions}


class _Closed:
    """The smallest bound among the subdomains closed so far (by their bound)."""

    def __init__(self):
        self.lowest = math.inf

    def add(self, bounds: Tensor) -> None:
        if bounds.numel():
            self.lowest = min(self.lowest, float(bounds.min()))

    def final(self, open_bounds: Tensor) -> Optional[float]:
        """The smallest bound over every leaf: these open ones (D,) and the closed ones."""
        lowest = min(self.lowest, float(open_bounds.min())) if open_bounds.numel() else self.lowest
        return lowest if math.isfinite(lowest) else None


def _counterexample(root: Root, doms: Domains, candidates: Tensor) -> Optional[Tensor]:
    """Check the bound-minimising inputs of unproven domains with a forward pass.

    candidates: (D, m, *input_shape). Returns one violating input (*input_shape) or None.
    """
    open_idx = (doms.bound <= SAFE_TOLERANCE).nonzero().flatten()
    if open_idx.numel() == 0:
        return None
    x = candidates[open_idx].reshape(-1, *root.x_lower.shape[1:])
    x = torch.max(torch.min(x, root.x_upper), root.x_lower)
    with torch.no_grad():
        n = x.shape[0]
        values = spec_values(root.model, x, root.spec.unsqueeze(0).expand(n, -1, -1),
                             root.offset.unsqueeze(0).expand(n, -1))
    bad = violates(values, require_all=True).nonzero().flatten()
    return x[bad[0]].clone() if bad.numel() else None


def _attack_from_candidates(root: Root, doms: Domains, candidates: Tensor, settings: BabSettings,
                            deadline: float, attack_any: Optional[Tuple[Tensor, Tensor]]) -> Optional[Tensor]:
    """A few PGD steps over the whole box, started at the bound minimisers of the worst
    open subdomains: where the relaxation says the property is weakest."""
    if settings.attack_steps <= 0 or settings.attack_starts <= 0:
        return None
    open_idx = (doms.bound <= SAFE_TOLERANCE).nonzero().flatten()
    if open_idx.numel() == 0:
        return None
    worst = open_idx[torch.argsort(doms.bound[open_idx])[:settings.attack_starts]]
    starts = candidates[worst, 0]  # (k, *input_shape): the first row's minimiser
    k = starts.shape[0]
    expand = lambda t: t.expand(k, *t.shape[1:])  # noqa: E731
    spec, offset, require_all = root.spec, root.offset, True
    if attack_any is not None:
        (spec, offset), require_all = attack_any, False
    x, success = attack_box(root.model, expand(root.x_lower), expand(root.x_upper),
                            spec.unsqueeze(0).expand(k, -1, -1), offset.unsqueeze(0).expand(k, -1),
                            steps=settings.attack_steps, restarts=1, require_all=require_all, start=starts,
                            deadline=deadline)
    hit = success.nonzero().flatten()
    return x[hit[0]].clone() if hit.numel() else None
