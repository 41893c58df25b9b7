"""``compute_bounds``: the one entry point shared by training and verification."""
from __future__ import annotations

from contextlib import nullcontext as _nullcontext
from typing import Optional

import torch
from torch import Tensor, nn

from .alpha import optimize_alpha
from .crown import backward_from, concretize, identity_start
from .graph import build_graph
from .ibp import interval_bounds, preactivation_bounds
from .operators import BoundLinear, BoundReLU
from .values import Bounds

METHODS = ("ibp", "crown-ibp", "crown", "alpha-crown")


def compute_bounds(model: nn.Sequential, x_lower: Tensor, x_upper: Tensor, method: str = "crown-ibp",
                   spec: Optional[Tensor] = None, clean_input: Optional[Tensor] = None,
                   bound_upper: bool = True, alpha_iterations: int = 20, alpha_lr: float = 0.1,
                   memory_elements: int = 2 ** 25) -> Bounds:
    """Bounds of ``spec @ model(x)`` (or of the logits) over the box [x_lower, x_upper].

    x_lower, x_upper: (B, *input_shape), e.g. (B, C, H, W) in pixel space.
    method: 'ibp'; 'crown-ibp' (CROWN from the output, IBP intermediate bounds);
            'crown' (every ReLU input bounded by its own CROWN pass, intersected with IBP);
            'alpha-crown' (CROWN intermediate bounds, optimised output slopes).
    spec: (B, S, K) or (S, K), folded into the last Linear layer; None bounds the K logits.
    clean_input: (B, *input_shape) clean batch whose statistics BatchNorm layers in train
            mode use (with gradients; running statistics are not touched). Defaults to the
            box centre when some BatchNorm is in train mode.
    bound_upper: compute ``upper`` with CROWN too (False halves the work of training).
    Differentiable for 'ibp', 'crown-ibp' and 'crown'; 'alpha-crown' returns detached bounds.
    """
    if method not in METHODS:
        raise ValueError(f"unknown bound method {method!r}; choose one of {', '.join(METHODS)}")
    if x_lower.shape != x_upper.shape:
        raise ValueError(f"x_lower {tuple(x_lower.shape)} and x_upper {tuple(x_upper.shape)} differ in shape")
    batch = x_lower.shape[0]
    if spec is not None:
        spec = spec.to(dtype=x_lower.dtype, device=x_lower.device)
        if spec.dim() == 2:
            spec = spec.unsqueeze(0).expand(batch, *spec.shape)
    if clean_input is None and any(isinstance(m, nn.modules.batchnorm._BatchNorm) and m.training for m in model):
        clean_input = (x_lower + x_upper) / 2
    # alpha-CROWN differentiates w.r.t. its slopes only: keep the model out of its graph.
    with torch.no_grad() if method == "alpha-crown" else _nullcontext():
        graph = build_graph(model, x_lower.shape[1:], clean_input=clean_input, spec=spec)
        if method in ("ibp", "crown-ibp"):
            # Plain IBP: centre/radius propagation, no relaxation objects.
            pre, out_iv = interval_bounds(graph, x_lower, x_upper)
            relax = None
        else:
            pre, relax, out_iv = preactivation_bounds(graph, x_lower, x_upper, crown=True,
                                                      memory_elements=memory_elements)
    positions = sorted(pre)
    result = Bounds(lower=out_iv.lower, upper=out_iv.upper,
                    preactivations=[pre[p] for p in positions],
                    relu_indices=[graph.ops[p].index for p in positions])
    result.clean_output = graph.clean_output
    result.batch_statistics = graph.batch_statistics
    if method in ("ibp", "crown-ibp"):
        result.ibp_lower = out_iv.lower
    if method == "ibp":
        return result
    last = len(graph.ops) - 1
    if method == "alpha-crown":
        lower, upper, alphas = optimize_alpha(graph, x_lower, x_upper, pre, iterations=alpha_iterations,
                                              lr=alpha_lr, bound_upper=bound_upper)
        result.lower, result.upper = lower, upper
        result.alphas = {graph.ops[p].index: a for p, a in alphas.items()}
        return result
    if relax is None:  # CROWN-IBP: relaxations of the IBP bounds, built once per batch
        relax = {p: BoundReLU.relaxation(l, u) for p, (l, u) in pre.items()}
    lin, const = _output_backward(graph, batch, x_lower, relax, bound_upper)
    lower, upper = concretize(lin, x_lower, x_upper)
    result.lower = lower + const
    result.upper = upper + const if upper is not None else None
    return result


def _output_backward(graph, batch: int, like: Tensor, relax, bound_upper: bool):
    """CROWN's backward pass from the network output: (LinearBounds w.r.t. the input,
    constant (B, S) still to add to both bounds).

    When the last operator is a Linear layer (with the spec folded in: C W, C b), the pass
    starts from its weight instead of an identity: the same bounds, one product less.
    """
    last = len(graph.ops) - 1
    op = graph.ops[last]
    if isinstance(op, BoundLinear) and last > 0:
        weight, bias = op.weight, op.bias
        if not op.batched:
            weight = weight.unsqueeze(0).expand(batch, *weight.shape)
            bias = bias.unsqueeze(0).expand(batch, *bias.shape)
        lin = backward_from(graph, last - 1, weight, weight if bound_upper else None, relax)
        return lin, bias
    start = identity_start(batch, graph.output_shape, like)
    lin = backward_from(graph, last, start, start if bound_upper else None, relax)
    return lin, 0.0
