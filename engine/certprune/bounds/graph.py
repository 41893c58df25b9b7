"""Turn a flat ``nn.Sequential`` into a list of bound operators.

The layer -> operator table is data (``OPERATOR_TABLE``); modules defined elsewhere
(e.g. the ONNX importer's) add themselves with ``register_operator``. A module with
``mean`` and ``std`` buffers is read as a Normalize layer.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Dict, List, Optional, Sequence, Tuple

import torch
from torch import Tensor, nn

from .layers import ElementwiseAffine, Reshape
from .operators import (BoundBatchNorm, BoundConv2d, BoundElementwiseAffine, BoundIdentity, BoundLinear,
                        BoundNormalize, BoundOp, BoundReLU, BoundReshape)

# builder(module, index, in_shape, clean_activation) -> BoundOp
Builder = Callable[[nn.Module, int, Tuple[int, ...], Optional[Tensor]], BoundOp]


def effective_weight(module: nn.Module) -> Tensor:
    """The weight a layer applies; torch.nn.utils.prune keeps weight_orig * weight_mask."""
    if hasattr(module, "weight_orig") and hasattr(module, "weight_mask"):
        return module.weight_orig * module.weight_mask
    return module.weight


def _linear(m: nn.Linear, index, in_shape, clean):
    return BoundLinear(index, in_shape, effective_weight(m), m.bias)


def _conv(m: nn.Conv2d, index, in_shape, clean):
    if isinstance(m.padding, str) or m.padding_mode != "zeros":
        raise ValueError(f"layer {index} (Conv2d): padding={m.padding!r}, padding_mode={m.padding_mode!r} "
                         f"is not supported; use integer zero padding")
    return BoundConv2d(index, in_shape, effective_weight(m), m.bias, m.stride, m.padding,
                       m.dilation, m.groups)


def _batchnorm(m, index, in_shape, clean):
    if m.training:
        if clean is None:
            raise ValueError(f"layer {index} (BatchNorm) is in train mode: pass clean_input so its batch "
                             f"statistics can be computed, or call model.eval()")
        return BoundBatchNorm(index, in_shape, m, clean)
    return BoundBatchNorm(index, in_shape, m)


def _relu(m, index, in_shape, clean):
    return BoundReLU(index, in_shape)


def _reshape(m, index, in_shape, clean):
    # Flatten(start_dim=1) / Unflatten(1, ...) / Identity: the output shape is whatever
    # the module makes of one sample; anything touching the batch axis is refused.
    probe = torch.zeros((2,) + tuple(in_shape))
    out = m(probe)
    if out.shape[0] != 2 or out.numel() != probe.numel():
        raise ValueError(f"layer {index} ({type(m).__name__}) reshapes across the batch axis; "
                         f"only per-sample reshapes are supported")
    return BoundReshape(index, in_shape, tuple(out.shape[1:]))


def _normalize(m, index, in_shape, clean):
    return BoundNormalize(index, in_shape, m.mean, m.std)


OPERATOR_TABLE: Dict[type, Builder] = {
    nn.Linear: _linear,
    nn.Conv2d: _conv,
    nn.BatchNorm1d: _batchnorm,
    nn.BatchNorm2d: _batchnorm,
    nn.ReLU: _relu,
    nn.Flatten: _reshape,
    nn.Unflatten: _reshape,
    nn.Identity: lambda m, index, in_shape, clean: BoundIdentity(index, in_shape),
    Reshape: _reshape,
    ElementwiseAffine: lambda m, index, in_shape, clean: BoundElementwiseAffine(index, in_shape, m.scale, m.shift),
}


def register_operator(module_type: type, builder: Builder) -> None:
    """Teach the bound code a new layer type (used by modules outside this package)."""
    OPERATOR_TABLE[module_type] = builder


def _builder_for(module: nn.Module, index: int) -> Builder:
    for cls in type(module).__mro__:
        if cls in OPERATOR_TABLE:
            return OPERATOR_TABLE[cls]
    if isinstance(getattr(module, "mean", None), Tensor) and isinstance(getattr(module, "std", None), Tensor):
        return _normalize
    supported = ", ".join(sorted({t.__name__ for t in OPERATOR_TABLE} | {"Normalize"}))
    raise ValueError(f"bound propagation does not support layer {index} ({type(module).__name__}); "
                     f"supported layers: {supported}")


@dataclass
class BoundGraph:
    """The operators of a network, in order, for inputs of per-sample shape ``input_shape``."""

    ops: List[BoundOp]
    input_shape: Tuple[int, ...]
    #: the output on clean_input when build_graph ran it (train-mode BatchNorm), else None
    clean_output: Optional[Tensor] = None
    #: Sequential index -> (mean, biased var, count) of each train-mode BatchNorm (detached)
    batch_statistics: Dict[int, Tuple[Tensor, Tensor, int]] = field(default_factory=dict)

    @property
    def relu_positions(self) -> List[int]:
        return [i for i, op in enumerate(self.ops) if op.is_relu]

    @property
    def output_shape(self) -> Tuple[int, ...]:
        return self.ops[-1].out_shape

    def forward(self, x: Tensor) -> Tensor:
        for op in self.ops:
            x = op.forward(x)
        return x


def build_graph(model: nn.Sequential, input_shape: Sequence[int], clean_input: Optional[Tensor] = None,
                spec: Optional[Tensor] = None) -> BoundGraph:
    """Operators for ``model`` on inputs of per-sample shape ``input_shape``.

    clean_input (B, *input_shape): used only by BatchNorm layers in train mode, which
    take their statistics from this batch (with gradients). spec (B, S, K): folded into
    the last Linear layer, so the graph outputs spec @ logits, (B, S).
    """
    if not isinstance(model, nn.Sequential):
        raise ValueError(f"bound propagation needs a flat nn.Sequential, got {type(model).__name__}")
    needs_clean = any(isinstance(m, nn.modules.batchnorm._BatchNorm) and m.training for m in model)
    clean = clean_input if needs_clean else None
    ops: List[BoundOp] = []
    shape = tuple(int(s) for s in input_shape)
    for index, module in enumerate(model):
        if isinstance(module, nn.Sequential):
            raise ValueError(f"layer {index} is a nested Sequential; flatten the model first")
        op = _builder_for(module, index)(module, index, shape, clean)
        ops.append(op)
        shape = op.out_shape
        if clean is not None:
            clean = op.forward(clean)
    if not ops:
        raise ValueError("the model has no layers")
    stats = {op.index: op.batch_statistics for op in ops
             if isinstance(op, BoundBatchNorm) and op.batch_statistics is not None}
    ops = _fold_channel_affine(ops)
    if spec is not None:
        ops = _fold_spec(ops, spec)
    return BoundGraph(ops, tuple(int(s) for s in input_shape), clean_output=clean, batch_statistics=stats)


def _fold_channel_affine(ops: List[BoundOp]) -> List[BoundOp]:
    """Merge a per-channel affine map (BatchNorm, or constants from ONNX) into the conv or
    linear layer before it: the same function, one operator fewer in every pass (the
    element-wise step costs as much memory traffic as the convolution's backward)."""
    out: List[BoundOp] = []
    for op in ops:
        prev = out[-1] if out else None
        if (isinstance(op, BoundElementwiseAffine) and not isinstance(op, BoundNormalize)
                and isinstance(prev, (BoundConv2d, BoundLinear)) and not getattr(prev, "batched", False)):
            channels = prev.out_shape[0]
            scale, shift = _per_channel(op.scale, prev.out_shape), _per_channel(op.shift, prev.out_shape)
            if scale is not None and shift is not None:
                view = (channels,) + (1,) * (prev.weight.dim() - 1)
                weight = prev.weight * scale.reshape(view)
                bias = (prev.bias if prev.bias is not None else scale.new_zeros(channels)) * scale + shift
                if isinstance(prev, BoundConv2d):
                    merged = BoundConv2d(prev.index, prev.in_shape, weight, bias, prev.stride, prev.padding,
                                         prev.dilation)
                else:
                    merged = BoundLinear(prev.index, prev.in_shape, weight, bias)
                out[-1] = merged
                continue
        out.append(op)
    return out


def _per_channel(t: Tensor, out_shape) -> Optional[Tensor]:
    """A (1, C, 1, ...) / (1, C) / scalar constant as a (C,) vector; None if it varies otherwise."""
    channels = out_shape[0]
    full = t.reshape(t.shape[1:]) if t.dim() == len(out_shape) + 1 else t
    if full.numel() == 1:
        return full.reshape(1).expand(channels)
    if full.dim() == len(out_shape) and full.shape[0] == channels and full.numel() == channels:
        return full.reshape(channels)
    return None


def _fold_spec(ops: List[BoundOp], spec: Tensor) -> List[BoundOp]:
    """Replace the last Linear (W, b) by the per-item layer (C W, C b): C (B, S, K)."""
    last = ops[-1]
    if spec.dim() != 3:
        raise ValueError(f"spec must be (B, S, K), got shape {tuple(spec.shape)}")
    if len(last.out_shape) != 1 or last.out_shape[0] != spec.shape[-1]:
        raise ValueError(f"spec has {spec.shape[-1]} columns but the model outputs {last.out_shape}")
    if isinstance(last, BoundLinear) and not last.batched:
        folded = BoundLinear(last.index, last.in_shape, spec.matmul(last.weight), spec.matmul(last.bias))
        return ops[:-1] + [folded]
    extra = BoundLinear(len(ops), last.out_shape, spec, spec.new_zeros(spec.shape[:2]))
    return ops + [extra]
