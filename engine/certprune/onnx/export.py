"""ONNX export as a table: torch layer type -> writer of its ONNX nodes (the importer's
op table, ops.py, read the other way).

    nodes, initializers, output shape = write_layers(folded_model, (1, 28, 28))

A writer gets the graph being built (``Graph``), the layer, its position ``i``, the name
of the tensor flowing in and the name its output must have; it adds nodes and
constants. ``EXPORTERS`` is looked up along the layer's class hierarchy, so subclasses
(BatchNorm1d/2d of _BatchNorm) share a writer. Adding a layer type is one writer and
one line in the table.
"""
from __future__ import annotations

from typing import Callable, Dict, List, Sequence, Tuple

import numpy as np
import torch
from torch import nn

from ..bounds.layers import ElementwiseAffine, Reshape
from ..models import Normalize
from .ops import OnnxError


class Graph:
    """The nodes and initializers written so far."""

    def __init__(self):
        from onnx import helper, numpy_helper
        self._helper, self._numpy = helper, numpy_helper
        self.nodes: list = []
        self.initializers: list = []

    def const(self, name: str, value, dtype=np.float32) -> str:
        self.initializers.append(self._numpy.from_array(np.asarray(value, dtype=dtype), name))
        return name

    def node(self, op: str, inputs: List[str], output: str, name: str, **attrs) -> None:
        self.nodes.append(self._helper.make_node(op, inputs, [output], name=name, **attrs))


# writer(graph, layer, i, x, out, shape): shape is the per-sample input shape of the layer
Writer = Callable[[Graph, nn.Module, int, str, str, Tuple[int, ...]], None]


def _array(tensor: torch.Tensor) -> np.ndarray:
    return tensor.detach().cpu().numpy()


def _conv(g: Graph, layer: nn.Conv2d, i, x, out, shape):
    if isinstance(layer.padding, str) or layer.groups != 1 or layer.padding_mode != "zeros":
        raise OnnxError(f"layer {i} (Conv2d) uses padding/groups the exporter does not support")
    inputs = [x, g.const(f"w{i}", _array(layer.weight))]
    if layer.bias is not None:
        inputs.append(g.const(f"b{i}", _array(layer.bias)))
    ph, pw = layer.padding
    g.node("Conv", inputs, out, f"conv{i}", kernel_shape=list(layer.kernel_size), strides=list(layer.stride),
           pads=[ph, pw, ph, pw], dilations=list(layer.dilation), group=1)


def _gemm(g: Graph, layer: nn.Linear, i, x, out, shape):
    bias = _array(layer.bias) if layer.bias is not None else np.zeros(layer.out_features)
    g.node("Gemm", [x, g.const(f"w{i}", _array(layer.weight)), g.const(f"b{i}", bias)], out, f"gemm{i}", transB=1)


def _relu(g: Graph, layer, i, x, out, shape):
    g.node("Relu", [x], out, f"relu{i}")


def _flatten(g: Graph, layer: nn.Flatten, i, x, out, shape):
    if layer.start_dim != 1 or layer.end_dim != -1:
        raise OnnxError(f"layer {i} (Flatten) must flatten dims 1..-1 to be exported")
    g.node("Flatten", [x], out, f"flatten{i}", axis=1)


def _normalize(g: Graph, layer: Normalize, i, x, out, shape):
    g.node("Sub", [x, g.const(f"mean{i}", _array(layer.mean))], f"centered{i}", f"sub{i}")
    g.node("Div", [f"centered{i}", g.const(f"std{i}", _array(layer.std))], out, f"div{i}")


def _affine(g: Graph, layer: ElementwiseAffine, i, x, out, shape):
    g.node("Mul", [x, g.const(f"scale{i}", _array(layer.scale))], f"scaled{i}", f"mul{i}")
    g.node("Add", [f"scaled{i}", g.const(f"shift{i}", _array(layer.shift))], out, f"add{i}")


def _reshape(g: Graph, layer, i, x, out, shape):
    with torch.no_grad():
        target = tuple(layer(torch.zeros(1, *shape)).shape[1:])
    g.node("Reshape", [x, g.const(f"shape{i}", (-1,) + target, np.int64)], out, f"reshape{i}")


def _identity(g: Graph, layer, i, x, out, shape):
    g.node("Identity", [x], out, f"identity{i}")


def _batchnorm(g: Graph, bn: nn.modules.batchnorm._BatchNorm, i, x, out, shape):
    scale = _array(bn.weight) if bn.affine else np.ones(bn.num_features)
    bias = _array(bn.bias) if bn.affine else np.zeros(bn.num_features)
    g.node("BatchNormalization", [x, g.const(f"g{i}", scale), g.const(f"beta{i}", bias),
                                  g.const(f"rm{i}", _array(bn.running_mean)), g.const(f"rv{i}", _array(bn.running_var))],
           out, f"bn{i}", epsilon=float(bn.eps))


EXPORTERS: Dict[type, Writer] = {
    nn.Conv2d: _conv,
    nn.Linear: _gemm,
    nn.ReLU: _relu,
    nn.Flatten: _flatten,
    Normalize: _normalize,
    ElementwiseAffine: _affine,
    Reshape: _reshape,
    nn.Unflatten: _reshape,
    nn.Identity: _identity,
    nn.modules.batchnorm._BatchNorm: _batchnorm,
}


def writer_for(layer: nn.Module, i: int) -> Writer:
    for cls in type(layer).__mro__:
        if cls in EXPORTERS:
            return EXPORTERS[cls]
    raise OnnxError(f"layer {i} ({type(layer).__name__}) cannot be exported to ONNX")


def write_layers(model: nn.Sequential, input_shape: Sequence[int]) -> Tuple[Graph, Tuple[int, ...]]:
    """The nodes of ``model``'s layers in order, from tensor "input" to tensor "output";
    returns the graph and the per-sample output shape."""
    graph = Graph()
    current, shape = "input", tuple(int(s) for s in input_shape)
    for i, layer in enumerate(model):
        out = f"layer{i}"
        writer_for(layer, i)(graph, layer, i, current, out, shape)
        with torch.no_grad():
            shape = tuple(layer(torch.zeros(1, *shape)).shape[1:])
        current = out
    graph.node("Identity", [current], "output", "output")
    return graph, shape
