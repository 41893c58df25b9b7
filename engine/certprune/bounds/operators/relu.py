"""ReLU and its linear relaxation (CROWN / alpha-CROWN / beta-CROWN)."""
from __future__ import annotations

from typing import Optional

import torch
from torch import Tensor

from ..values import Interval, LinearBounds, Relaxation
from .base import BoundOp, sum_over_sample


class BoundReLU(BoundOp):
    is_relu = True

    def forward(self, x: Tensor) -> Tensor:
        return torch.relu(x)

    def interval(self, iv: Interval) -> Interval:
        return Interval(torch.relu(iv.lower), torch.relu(iv.upper))

    @staticmethod
    def default_alpha(lower: Tensor, upper: Tensor) -> Tensor:
        """CROWN's adaptive lower slope: 1 where u > -l, else 0. (B, *shape)."""
        return (upper > -lower).to(lower.dtype)

    @staticmethod
    def relaxation(lower: Tensor, upper: Tensor, alpha_l: Optional[Tensor] = None,
                   alpha_u: Optional[Tensor] = None) -> Relaxation:
        """Linear bounds of relu on [lower, upper] (B, *shape).

        alpha_l/alpha_u: lower slopes of unstable neurons for the lower/upper bound of the
        outputs, (B, *shape) or per spec (B, S, *shape), values in [0, 1]; default CROWN's.
        Stable neurons get the exact line (slope 1 or 0) whatever alpha says.
        """
        # relu and masks rather than clamp: clamp's backward is a where(), which is an order
        # of magnitude slower than relu's on CPU (torch 1.13).
        up = torch.relu(upper)
        lo = lower - torch.relu(lower)  # min(lower, 0), exactly
        # A positive denominator (it is 0 only where l = u = 0): stable neurons give slope 1
        # (active) or 0 (inactive) and no NaN gradients leak from the unused branch.
        width = up - lo
        width = width + (width <= 0).to(width.dtype) * 1e-12
        upper_slope = up / width
        upper_intercept = -lo * upper_slope
        active = (lower >= 0).to(lower.dtype)
        unstable = ((lower < 0) & (upper > 0)).to(lower.dtype)
        default = BoundReLU.default_alpha(lower, upper)

        def lower_slope(alpha):
            if alpha is None:
                return active + unstable * default
            if alpha.dim() == lower.dim() + 1:  # per spec: (B, S, *shape)
                return active.unsqueeze(1) + unstable.unsqueeze(1) * alpha
            return active + unstable * alpha

        return Relaxation(lower_slope(alpha_l), lower_slope(alpha_u), upper_slope, upper_intercept)

    def backward(self, lin: LinearBounds, relax: Optional[Relaxation] = None) -> LinearBounds:
        """Coefficients w.r.t. relu(z) -> coefficients w.r.t. z, choosing for each entry
        the line that keeps the bound sound (lower line for positive lower-bound
        coefficients, upper line for negative ones; the reverse for the upper bound)."""
        if relax is None:
            raise ValueError(f"{self.describe()}: the backward pass needs this ReLU's relaxation")
        lA, uA, lbias, ubias = lin.lA, lin.uA, lin.lbias, lin.ubias
        up_slope = relax.upper_slope.unsqueeze(1)
        intercept = relax.upper_intercept.unsqueeze(1)
        if lA is not None:
            lA, extra = _relaxed_step(lA, _per_spec(relax.lower_slope_l, lA), up_slope, intercept, lower=True)
            lbias = lbias + extra
        if uA is not None:
            uA, extra = _relaxed_step(uA, up_slope, _per_spec(relax.lower_slope_u, uA), intercept, lower=False)
            ubias = ubias + extra
        return LinearBounds(lA, uA, lbias, ubias)


def _relaxed_step(A: Tensor, slope_pos: Tensor, slope_neg: Tensor, intercept: Tensor, lower: bool):
    """One side of the ReLU step: A (N, S, *shape) -> (A', bias (N, S)).

    A' = slope_pos * max(A, 0) + slope_neg * min(A, 0) = A * slope_neg + relu(A) * (slope_pos -
    slope_neg); the intercept applies where the upper line is used: bias = sum(min(A, 0) *
    intercept) for the lower bound (slope_neg is the upper line), sum(max(A, 0) * intercept)
    for the upper bound (slope_pos is). Three passes over A (plus one for min(A, 0)), the
    bias as a batched mat-vec product, and relu rather than clamp (whose backward is a slow
    where() on CPU). Slopes/intercept: (N, 1 or S, *shape).
    """
    pos = torch.relu(A)
    new = torch.addcmul(A * slope_neg, pos, slope_pos - slope_neg)
    part = A - pos if lower else pos
    n, s = A.shape[:2]
    if intercept.shape[1] == 1 and intercept.shape[0] == n:
        extra = torch.bmm(part.reshape(n, s, -1), intercept.reshape(n, -1, 1)).squeeze(-1)
    else:  # per-spec intercepts
        extra = sum_over_sample(part * intercept)
    return new, extra


def _per_spec(slope: Tensor, A: Tensor) -> Tensor:
    """Broadcast a (B, *shape) slope against (B, S, *shape) coefficients."""
    return slope if slope.dim() == A.dim() else slope.unsqueeze(1)
