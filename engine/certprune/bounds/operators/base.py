"""The interface every bound operator implements (auto_LiRPA's operator layer, in small).

An operator wraps one layer of a flat ``nn.Sequential`` and knows three things:

* ``forward(x)``: the concrete value, (B, *in_shape) -> (B, *out_shape);
* ``interval(iv)``: interval bound propagation (IBP) of an ``Interval``;
* ``interval_cr(c, r, f)``: the same in centre/radius form, the fast path that training
  uses: the input box is centre ``c * f`` and radius ``r * f`` (``f`` a positive float
  that affine operators fold into their weights, saving element-wise passes); returns
  ``(c', r', f')`` for the output;
* ``backward(lin, relax)``: CROWN's backward step. ``lin`` (a ``LinearBounds``) bounds the
  outputs by linear functions of this layer's output; the result bounds them by linear
  functions of this layer's input. Affine operators implement it through
  ``backward_coefficients(A) -> (A', bias)``: A (N, S, *out_shape) -> A' (N, S, *in_shape),
  bias (N, S), with A . out = A' . in + bias. ReLU needs its ``Relaxation``.

Shapes exclude the batch dimension. ``index`` is the layer's position in the Sequential.
"""
from __future__ import annotations

from typing import Optional, Tuple

import torch
from torch import Tensor

from ..values import Interval, LinearBounds, Relaxation


class BoundOp:
    """Base class; subclasses set ``in_shape``/``out_shape`` at construction."""

    #: an operator that maps each element to itself (scaling, reshaping): IBP through
    #: a chain of such operators and one general affine map is exact.
    is_diagonal = False
    is_relu = False

    def __init__(self, index: int, in_shape: Tuple[int, ...]):
        self.index = index
        self.in_shape = tuple(int(s) for s in in_shape)
        self.out_shape = self.in_shape

    def forward(self, x: Tensor) -> Tensor:
        raise NotImplementedError

    def interval(self, iv: Interval) -> Interval:
        raise NotImplementedError

    def interval_cr(self, c: Tensor, r: Tensor, f: float) -> Tuple[Tensor, Tensor, float]:
        """IBP in centre/radius form (see the module docstring). The default goes through
        ``interval``; affine operators override it with two passes (W c + b, |W| r)."""
        if f != 1.0:
            c, r = c * f, r * f
        iv = self.interval(Interval.from_center(c, r))
        return (iv.upper + iv.lower) * 0.5, (iv.upper - iv.lower) * 0.5, 1.0

    def backward_coefficients(self, A: Tensor) -> Tuple[Tensor, Tensor]:
        raise NotImplementedError

    def backward(self, lin: LinearBounds, relax: Optional[Relaxation] = None) -> LinearBounds:
        lA = uA = None
        lbias, ubias = lin.lbias, lin.ubias
        if lin.lA is not None:
            lA, bias = self.backward_coefficients(lin.lA)
            lbias = lbias + bias
        if lin.uA is not None:
            if lin.uA is lin.lA:  # same coefficients (e.g. an identity start): compute once
                uA, ubias = lA, ubias + bias
            else:
                uA, bias = self.backward_coefficients(lin.uA)
                ubias = ubias + bias
        return LinearBounds(lA, uA, lbias, ubias)

    def describe(self) -> str:
        return f"{type(self).__name__}(layer {self.index})"


def sum_over_sample(x: Tensor) -> Tensor:
    """(N, S, *shape) -> (N, S): sum over one sample's elements."""
    return x.reshape(x.shape[0], x.shape[1], -1).sum(-1)
