"""Count the multiply-accumulates (MACs) of the convolutions and matrix products that run.

    with MacCounter() as counter:
        loss.backward()
    counter.total, counter.by_op     # MACs, {"convolution": ..., "convolution_backward": ..., ...}

Counts what actually executes, forward and backward (the autograd engine's ops are seen
too), so it measures the work of a training step as implemented: bench/train_speed.py
prints it beside the time to tell a regime's arithmetic from its overheads. Element-wise
work (ReLU, BatchNorm, additions) is not counted: on these models it is memory-bound and
shows up in the time, not here.

Works on torch 2.x (a TorchDispatchMode sees every aten op once, at the top of
the dispatcher: aten.convolution, not the mkldnn/cudnn kernel it calls).
"""
from __future__ import annotations

import math
from collections import defaultdict

import torch
from torch.utils._python_dispatch import TorchDispatchMode

aten = torch.ops.aten


def _conv_macs(input_shape, weight_shape, output_shape, transposed: bool) -> int:
    """MACs of one convolution: every output (input, when transposed) element of a plain
    (transposed) convolution takes weight[0].numel() products."""
    per_element = math.prod(weight_shape[1:])
    return math.prod(input_shape if transposed else output_shape) * per_element


def _convolution(args, out) -> int:
    x, weight, transposed = args[0], args[1], bool(args[6])
    return _conv_macs(x.shape, weight.shape, out.shape, transposed)


def _convolution_backward(args, out) -> int:
    # (grad_output, input, weight, bias_sizes, stride, padding, dilation, transposed,
    #  output_padding, groups, output_mask): the input and the weight gradient each cost
    # as much as the forward convolution.
    grad_output, x, weight, transposed, mask = args[0], args[1], args[2], bool(args[7]), args[10]
    forward = _conv_macs(x.shape, weight.shape, grad_output.shape, transposed)
    return forward * (int(bool(mask[0])) + int(bool(mask[1])))


def _mm(args, out) -> int:  # (n, k) @ (k, m)
    a, b = args[0], args[1]
    return a.shape[0] * a.shape[1] * b.shape[1]


def _addmm(args, out) -> int:  # bias + (n, k) @ (k, m)
    return _mm(args[1:], out)


def _mv(args, out) -> int:  # (n, k) @ (k,)
    return args[0].shape[0] * args[0].shape[1]


def _addmv(args, out) -> int:
    return _mv(args[1:], out)


def _bmm(args, out) -> int:  # (b, n, k) @ (b, k, m)
    a, b = args[0], args[1]
    return a.shape[0] * a.shape[1] * a.shape[2] * b.shape[2]


def _baddbmm(args, out) -> int:
    return _bmm(args[1:], out)


_RULES = {
    aten.convolution.default: ("convolution", _convolution),
    aten.convolution_backward.default: ("convolution_backward", _convolution_backward),
    aten.mm.default: ("matmul", _mm),
    aten.addmm.default: ("matmul", _addmm),
    aten.mv.default: ("matmul", _mv),
    aten.addmv.default: ("matmul", _addmv),
    aten.bmm.default: ("matmul", _bmm),
    aten.baddbmm.default: ("matmul", _baddbmm),
}


def forward_macs(model: torch.nn.Module, x: torch.Tensor) -> int:
    """MACs of one forward pass of ``model`` at x, per sample, from forward hooks: each
    leaf module with a weight of 2 or more dimensions (linear layers, convolutions, fixed
    kernels) takes weight[0].numel() products per output element. A cheap estimate for
    choosing resources: unlike MacCounter, it does not enter a dispatch mode (whose
    first use imports torch._dynamo, ~2 s on a CPU)."""
    total = [0]

    def count(module, inputs, output):
        total[0] += (output.numel() // max(1, output.shape[0])) * module.weight[0].numel()

    handles = [m.register_forward_hook(count) for m in model.modules()
               if not list(m.children()) and isinstance(getattr(m, "weight", None), torch.Tensor)
               and m.weight.dim() >= 2]
    try:
        with torch.no_grad():
            model(x)
    finally:
        for h in handles:
            h.remove()
    return total[0]


class MacCounter(TorchDispatchMode):
    """Multiply-accumulates of convolutions and matrix products run inside the block."""

    def __init__(self):
        super().__init__()
        self.by_op = defaultdict(int)

    @property
    def total(self) -> int:
        return sum(self.by_op.values())

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        out = func(*args, **(kwargs or {}))
        rule = _RULES.get(func)
        if rule is not None:
            name, macs = rule
            self.by_op[name] += int(macs(args, out))
        return out
