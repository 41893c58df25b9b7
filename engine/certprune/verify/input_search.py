"""The loop of input-space branch and bound (see input_split.py): split the worst open
sub-boxes, bound the halves, look for counterexamples at their corners and by short PGD.
"""
from __future__ import annotations

import math
import time
from typing import Optional, Tuple

import torch
from torch import Tensor

from .bab import SAFE_TOLERANCE
from .input_boxes import BRANCHING, Boxes, SplitProblem
from .input_bounds import bound_boxes, output_bounds
from .ladder import CONFIRM_BELOW, WIDEN
from .pgd import attack_box

#: candidate points whose clause value (through the collapsed chain) is below this are
#: checked with a forward pass of the model itself
NEAR_ZERO = 1e-4

class Search:
    def __init__(self, prob: SplitProblem, settings: "InputSplitSettings", deadline: float):
        self.prob, self.settings, self.deadline = prob, settings, deadline
        self.bounded = 0  # sub-boxes bounded
        self.confirmed = 0  # thin proofs re-derived in float64
        self.steps = 0
        self.root_margin: Optional[float] = None
        self.undecided = False  # a sub-box too small to split stayed open
        self.open_bound: Optional[float] = None  # when stopped with boxes open: the lowest bound among them
        self.trace = None  # a callable(search) run at every step (for benchmarks), with ...
        self.info: Tuple[int, float, float] = (0, 0.0, 0.0)  # ... (open boxes, worst bound, lowest value seen)
        self.keep_parent_bounds = settings.parent_bounds

    def bound(self, lo: Tensor, hi: Tensor, proven: Tensor, parent: Optional[Tensor] = None) -> Boxes:
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
            # the ladder's float64 habit: one backward pass in float64 over the float32
            # ReLU bounds widened by WIDEN (covering their rounding), as ladder.confirm_proof.
            self.confirmed += thin.numel()
            widened = [(l[thin].double() - WIDEN * (1 + l[thin].double().abs()),
                        u[thin].double() + WIDEN * (1 + u[thin].double().abs())) for l, u in pre]
            lower64 = output_bounds(self.prob.chain64, lo[thin].double(), hi[thin].double(), widened)
            ok = self.prob.clause_values(lower64) > 0
            newly[thin] &= ok
        pre_all = torch.stack([torch.cat([l for l, _ in pre], 1), torch.cat([u for _, u in pre], 1)], 1) \
            if self.keep_parent_bounds and pre else None
        return Boxes(lo, hi, lower, coeff, proven | newly, bb.gain, pre_all)

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
            stop = "timeout" if time.monotonic() > self.deadline else "memory" if len(pool) > settings.max_boxes else None
            if stop:
                # the closing bound: the worst open box's worst unproven clause (<= 0: it is open)
                self.open_bound = float(self._priority(pool).min())
                return stop, None
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
            pool = Boxes.concat([pool, children])
            if cex is None and settings.attack_every and self.steps % settings.attack_every == 0 and len(pool):
                cex = self._attack(pool)
        return "falsified", cex

    def _priority(self, boxes: Boxes) -> Tensor:
        """(N,) the worst open clause's bound: low values first (likeliest counterexamples)."""
        clause = self.prob.clause_values(boxes.lower)
        return torch.where(boxes.proven, clause.new_tensor(math.inf), clause).amin(1)

    def _keep_open(self, boxes: Boxes) -> Boxes:
        return boxes.select((~boxes.proven.all(1)).nonzero().flatten())

    def _take(self, pool: Boxes, k: int) -> Tuple[Boxes, Boxes]:
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

    def _branch(self, boxes: Boxes) -> Tensor:
        return BRANCHING[self.settings.branching](boxes, self.prob.owner, self.root_width)

    def _split(self, boxes: Boxes, dims: Tensor) -> Optional[Boxes]:
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

    def _check(self, boxes: Boxes) -> Optional[Tensor]:
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

    def _attack(self, boxes: Boxes) -> Optional[Tensor]:
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

