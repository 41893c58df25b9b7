"""What the ONNX importer's builders share: a node, the data flowing into it, the error.

``Flow`` describes the data at batch size 1 (see ops.py for the shape convention); a
builder(node, flow) returns torch layers and the flow after the node.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Dict, List, Sequence, Tuple

import numpy as np
import torch
from torch import nn

from ..bounds.layers import Reshape

class OnnxError(ValueError):
    """An ONNX model that cannot be read or is outside the supported subset."""


@dataclass(frozen=True)
class Flow:
    """The data tensor between two nodes."""

    full: Tuple[int, ...]  # ONNX shape at batch size 1
    nonnegative: bool = False  # known >= 0 (it comes from a ReLU): lets MaxPool drop channels

    @property
    def sample(self) -> Tuple[int, ...]:
        return sample_shape(self.full)

    @property
    def batched(self) -> bool:
        return len(self.full) >= 2 and self.full[0] == 1


def sample_shape(full: Sequence[int]) -> Tuple[int, ...]:
    full = tuple(int(s) for s in full)
    return full[1:] if len(full) >= 2 and full[0] == 1 else full


@dataclass
class Node:
    """One ONNX node, its attributes, and the constants known when it is reached."""

    op: str
    inputs: List[str]
    outputs: List[str]
    attrs: dict
    where: str  # "node 3 (name)", for messages
    opset: int
    constants: Dict[str, np.ndarray]

    def has(self, i: int) -> bool:
        return len(self.inputs) > i and bool(self.inputs[i])

    def const(self, i: int) -> np.ndarray:
        if not self.has(i) or self.inputs[i] not in self.constants:
            raise OnnxError(f"{self.op} at {self.where}: input {i} must be a constant (an initializer or a "
                            f"Constant node)")
        return np.asarray(self.constants[self.inputs[i]])

    def ints(self, name: str, default: Sequence[int]) -> List[int]:
        return [int(v) for v in self.attrs.get(name, default)]

    def fail(self, why: str) -> OnnxError:
        return OnnxError(f"{self.op} at {self.where}: {why}")


Layers = List[nn.Module]  # or Fused items: layers with a faster equivalent forward (layers.Fused)
# builder(node, flow) -> (layers, flow after the node)
Builder = Callable[[Node, Flow], Tuple[Layers, Flow]]


def _tensor(value) -> torch.Tensor:
    return torch.as_tensor(np.array(value, dtype=np.float32))


def _to_sample(const: np.ndarray, flow: Flow, node: Node) -> np.ndarray:
    """A constant broadcasting against the data's full shape, in the layers' sample layout;
    refused when it would change the data's shape (the data is broadcast up)."""
    try:
        out = np.broadcast_shapes(flow.full, const.shape)
    except ValueError:
        raise node.fail(f"its constant of shape {list(const.shape)} does not broadcast against the data "
                        f"{list(flow.full)}") from None
    if tuple(out) != flow.full:
        raise node.fail(f"its constant of shape {list(const.shape)} changes the data's shape {list(flow.full)} "
                        f"-> {list(out)}; only element-wise constants are supported")
    aligned = const.reshape((1,) * (len(flow.full) - const.ndim) + const.shape)
    return aligned.reshape(aligned.shape[1:]) if flow.batched else aligned


def _reshaped(layers: Layers, before: Tuple[int, ...], after: Tuple[int, ...]) -> Layers:
    return layers if before == after else layers + [Reshape(after)]

