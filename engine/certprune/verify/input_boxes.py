"""The state of input-space branch and bound: the problem and the open sub-boxes, and
the branching rules (which input to halve, per box).
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Optional, Sequence

import torch
from torch import Tensor, nn

from .input_chain import AffineChain
from .pgd import spec_values

@dataclass
class SplitProblem:
    """What every step needs: the chain with the property folded in, in both precisions."""

    model: nn.Module
    x_lower: Tensor  # (1, *input_shape)
    x_upper: Tensor
    free: Tensor  # (n,) flat indices of the free inputs
    chain32: AffineChain  # outputs every row of every clause: spec @ y + offset, (S,)
    chain64: AffineChain
    owner: Tensor  # (S, C) bool: row s belongs to clause c
    spec: Tensor  # (S, K) float32
    offset: Tensor  # (S,)

    def full_input(self, x: Tensor) -> Tensor:
        """Free-input points (B, n) -> network inputs (B, *input_shape) (fixed inputs filled in)."""
        full = self.x_lower.reshape(1, -1).repeat(x.shape[0], 1)
        full[:, self.free] = x.to(full.dtype)
        full = torch.max(torch.min(full, self.x_upper.reshape(1, -1)), self.x_lower.reshape(1, -1))
        return full.reshape(x.shape[0], *self.x_lower.shape[1:])

    def clause_values(self, rows: Tensor) -> Tensor:
        """Row values (B, S) -> (B, C): max over each clause's rows (<= 0: clause violated)."""
        return torch.where(self.owner.unsqueeze(0), rows.unsqueeze(-1), rows.new_tensor(-math.inf)).amax(1)

    def violating(self, x: Tensor) -> Optional[Tensor]:
        """The first free-input point of x (B, n) at which the model itself violates a clause,
        as a network input (*input_shape), or None."""
        if x.shape[0] == 0:
            return None
        full = self.full_input(x)
        with torch.no_grad():
            values = spec_values(self.model, full, self.spec.unsqueeze(0).expand(full.shape[0], -1, -1),
                                 self.offset.unsqueeze(0).expand(full.shape[0], -1))
            confirmed = (self.clause_values(values) <= 0).any(1).nonzero().flatten()
        return full[confirmed[0]].clone() if confirmed.numel() else None


@dataclass
class Boxes:
    """Open sub-boxes: lo, hi (N, n); row lower bounds lower (N, S); their input
    coefficients coeff (N, S, n); proven (N, C) clauses already proven on the box."""

    lo: Tensor
    hi: Tensor
    lower: Tensor
    coeff: Tensor
    proven: Tensor
    gain: Tensor
    pre: Optional[Tensor] = None  # (N, 2, H) the ReLU input bounds, all layers concatenated
    upper: Optional[Tensor] = None  # (N, C) the lowest clause value seen at a point of the box ...
    best: Optional[Tensor] = None  # (N, C, n) ... and that point

    FIELDS = ("lo", "hi", "lower", "coeff", "proven", "gain", "pre", "upper", "best")

    def __len__(self) -> int:
        return self.lo.shape[0]

    def select(self, idx: Tensor) -> "Boxes":
        return Boxes(*(None if getattr(self, f) is None else getattr(self, f)[idx] for f in self.FIELDS))

    def twice(self) -> "Boxes":
        return Boxes(*(None if getattr(self, f) is None else torch.cat([getattr(self, f)] * 2) for f in self.FIELDS))

    @staticmethod
    def concat(parts: Sequence["Boxes"]) -> "Boxes":
        parts = [p for p in parts if len(p)] or list(parts[:1])
        return Boxes(*(None if any(getattr(p, f) is None for p in parts) else torch.cat([getattr(p, f) for p in parts])
                        for f in Boxes.FIELDS))


# --------------------------------------------------------------------------------------
# Branching: which input to halve, per box. fn(boxes, owner (S, C), root width (1, n)) -> (N,)
# --------------------------------------------------------------------------------------

def _best_row_score(score: Tensor, boxes: Boxes, owner: Tensor) -> Tensor:
    """score (N, S, n): the estimated bound of each row after halving each input. A
    clause's bound is its best row's; the open clauses' estimated gains are summed."""
    per_clause = torch.where(owner.unsqueeze(0).unsqueeze(-1), score.unsqueeze(2),
                             score.new_tensor(-math.inf)).amax(1)  # (N, C, n)
    per_clause = per_clause - per_clause.amin(-1, keepdim=True)
    per_clause = torch.where(boxes.proven.unsqueeze(-1), torch.zeros_like(per_clause), per_clause)
    return per_clause.sum(1).argmax(1)


def branch_gain(boxes: Boxes, owner: Tensor, root_width: Tensor) -> Tensor:
    """Row bound + the estimated gain of halving each input (BoxBounds.gain): the direct
    'sb' term and the share of every unstable ReLU's relaxation cost due to that input."""
    return _best_row_score(boxes.gain + boxes.lower.unsqueeze(-1), boxes, owner)


def branch_sb(boxes: Boxes, owner: Tensor, root_width: Tensor) -> Tensor:
    """alpha-beta-CROWN's 'sb': row bound + |coefficient| * width / 2."""
    width = boxes.hi - boxes.lo
    return _best_row_score(boxes.coeff.abs() * (width / 2).unsqueeze(1) + boxes.lower.unsqueeze(-1), boxes, owner)


def branch_widest(boxes: Boxes, owner: Tensor, root_width: Tensor) -> Tensor:
    """The input with the largest width relative to the whole box ('naive')."""
    return ((boxes.hi - boxes.lo) / root_width).argmax(1)


BRANCHING = {"gain": branch_gain, "sb": branch_sb, "widest": branch_widest}
