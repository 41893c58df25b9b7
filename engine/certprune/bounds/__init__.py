"""Bound propagation for flat ReLU networks: IBP, CROWN-IBP, CROWN and alpha-CROWN.

    from certprune.bounds import compute_bounds, margin_spec
    C = margin_spec(y, num_classes=10)                       # (B, 9, 10)
    b = compute_bounds(model, (x - eps).clamp(0, 1), (x + eps).clamp(0, 1),
                       method="crown-ibp", spec=C, clean_input=x)
    b.lower, b.ibp_lower                                      # (B, 9) margin lower bounds

Layout: ``values`` (Interval, LinearBounds, Relaxation, Bounds), ``operators/`` (one class
per layer type), ``graph`` (Sequential -> operators), ``ibp``, ``crown``, ``alpha``.
"""
from .compute import METHODS, compute_bounds
from .graph import BoundGraph, build_graph, register_operator
from .spec import margin_spec, other_classes
from .values import Bounds, Interval, LinearBounds, Relaxation

__all__ = ["METHODS", "compute_bounds", "margin_spec", "other_classes", "Bounds", "Interval",
           "LinearBounds", "Relaxation", "BoundGraph", "build_graph", "register_operator"]
