"""Which ReLU to split: a BaBSR-style score per free root-unstable neuron, optionally
refined by FSB (filtered smart branching: bound both children of the top-k candidates
with one cheap pass and keep the candidate whose worse child is best).

A relaxed neuron costs the lower bound at most |coefficient| times the gap between
relu(z) and the line used for it: the upper line's gap is -l*u/(u-l) (at z = 0), the
lower line alpha*z's is max(u*(1-alpha), -l*alpha). Splitting removes that gap, so the
neuron with the largest coefficient-weighted gap is split first.
"""
from __future__ import annotations

from typing import Dict, List, Tuple

import torch
from torch import Tensor

from .beta_crown import evaluate_domains
from .domains import Domains, Root


def babsr_scores(doms: Domains, coefficients: Dict[int, Tensor], positions: List[int],
                 intercept_only: bool = False) -> Tensor:
    """(D, N) scores over all root-unstable neurons (layers concatenated in order);
    -inf for neurons already split (or stable in the domain).

    intercept_only: score only the upper line's gap (the "intercept" heuristic, FSB's
    second source of candidates)."""
    scores = []
    for p in positions:
        l, u, A = doms.lower[p], doms.upper[p], coefficients[p]  # (D, n), (D, n), (D, m, n)
        width = (u - l).clamp(min=1e-12)
        upper_gap = (-l * u / width).clamp(min=0)  # (D, n)
        alpha = doms.alpha[p]  # (D, m, n)
        lower_gap = torch.maximum(u.unsqueeze(1) * (1 - alpha), -l.unsqueeze(1) * alpha).clamp(min=0)
        if intercept_only:
            lower_gap = torch.zeros_like(lower_gap)
        score = ((-A).clamp(min=0) * upper_gap.unsqueeze(1) + A.clamp(min=0) * lower_gap).sum(dim=1)
        free = (doms.split[p] == 0) & (l < 0) & (u > 0)
        scores.append(torch.where(free, score, torch.full_like(score, -float("inf"))))
    return torch.cat(scores, dim=1) if scores else torch.empty(len(doms), 0)


def choose_splits(doms: Domains, coefficients: Dict[int, Tensor], positions: List[int]
                  ) -> Tuple[Tensor, Tensor, Tensor]:
    """Per domain: (layer number into ``positions``, neuron index within that layer's
    root-unstable list, has_candidate bool). Domains with nothing left to split get
    has_candidate False."""
    scores = babsr_scores(doms, coefficients, positions)
    d = len(doms)
    device = doms.bound.device
    if scores.shape[1] == 0:
        zero = torch.zeros(d, dtype=torch.long, device=device)
        return zero, zero, torch.zeros(d, dtype=torch.bool, device=device)
    best = scores.argmax(dim=1)
    has = torch.isfinite(scores.gather(1, best.unsqueeze(1)).squeeze(1))
    layer, neuron = _locate(best, doms, positions)
    return layer, neuron, has


def _locate(flat: Tensor, doms: Domains, positions: List[int]) -> Tuple[Tensor, Tensor]:
    """Flat candidate indices over the concatenated layers -> (layer number, neuron index)."""
    sizes = torch.tensor([doms.split[p].shape[1] for p in positions], device=flat.device)
    ends = torch.cumsum(sizes, 0)
    layer = torch.bucketize(flat, ends, right=True)
    return layer, flat - (ends[layer] - sizes[layer])


def choose_splits_fsb(root: Root, doms: Domains, coefficients: Dict[int, Tensor], positions: List[int],
                      candidates: int = 3) -> Tuple[Tensor, Tensor, Tensor]:
    """FSB (filtered smart branching, as alpha-beta-CROWN does it): per domain, the top
    ``candidates`` neurons by BaBSR and the top ``candidates`` by the intercept score
    are each tried by bounding both children once (at the inherited alpha/beta: one
    batched pass), and the candidate whose worse child is best is split."""
    scores = babsr_scores(doms, coefficients, positions)
    d = len(doms)
    device = doms.bound.device
    if scores.shape[1] == 0 or d == 0:
        return choose_splits(doms, coefficients, positions)
    k = min(candidates, scores.shape[1])
    top_scores, top = scores.topk(k, dim=1)  # (D, k)
    if k > 1:
        int_scores, int_top = babsr_scores(doms, coefficients, positions, intercept_only=True).topk(k, dim=1)
        # An intercept candidate must also be splittable (BaBSR's score is finite there).
        int_scores = torch.where(torch.isfinite(scores.gather(1, int_top)), int_scores,
                                 torch.full_like(int_scores, -float("inf")))
        top_scores, top = torch.cat([top_scores, int_scores], 1), torch.cat([top, int_top], 1)  # (D, 2k)
        k = 2 * k
    valid = torch.isfinite(top_scores)
    has = valid[:, 0]
    if k == 1:
        layer, neuron = _locate(top[:, 0], doms, positions)
        return layer, neuron, has
    flat = top.reshape(-1)
    layer, neuron = _locate(flat, doms, positions)
    parents = doms.select(torch.arange(d, device=device).repeat_interleave(k))
    children = parents.children(layer, neuron, positions)
    bounds = evaluate_domains(root, children)  # (2 D k,)
    worse = torch.minimum(bounds[:d * k], bounds[d * k:]).reshape(d, k)
    worse = torch.where(valid, worse, torch.full_like(worse, -float("inf")))
    pick = worse.argmax(dim=1)  # (D,)
    chosen = top.gather(1, pick.unsqueeze(1)).squeeze(1)
    layer, neuron = _locate(chosen, doms, positions)
    return layer, neuron, has
