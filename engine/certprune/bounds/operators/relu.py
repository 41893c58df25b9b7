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
        up = upper.clamp(min=0)
        lo = lower.clamp(max=0)
        # Clamping keeps the denominator positive: stable neurons give slope 1 (active)
        # or 0 (inactive) and no NaN gradients leak from the unused branch.
        upper_slope = up / (up - lo).clamp(min=1e-12)
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
            pos, neg = lA.clamp(min=0), lA.clamp(max=0)
            lA = pos * _per_spec(relax.lower_slope_l, lA) + neg * up_slope
            lbias = lbias + sum_over_sample(neg * intercept)
        if uA is not None:
            pos, neg = uA.clamp(min=0), uA.clamp(max=0)
            uA = neg * _per_spec(relax.lower_slope_u, uA) + pos * up_slope
            ubias = ubias + sum_over_sample(pos * intercept)
        return LinearBounds(lA, uA, lbias, ubias)


def _per_spec(slope: Tensor, A: Tensor) -> Tensor:
    """Broadcast a (B, *shape) slope against (B, S, *shape) coefficients."""
    return slope if slope.dim() == A.dim() else slope.unsqueeze(1)
