"""Constant folding: ONNX nodes whose inputs are all constants, evaluated with numpy.

Exporters compute reshape targets with small graphs (Shape -> Gather -> Unsqueeze ->
Concat -> Reshape); the importer evaluates them at batch size 1 (see onnx_io.load_onnx,
which also answers Shape from the data's known shape).
"""
from __future__ import annotations

import math
from typing import Callable, Dict, List, Optional

import numpy as np

from .node import Node


def _fold_arithmetic(node: Node, values: List[np.ndarray]) -> np.ndarray:
    a, b = values[0], values[1]
    return {"Add": np.add, "Sub": np.subtract, "Mul": np.multiply}[node.op](a, b) if node.op != "Div" else \
        (a // b if np.issubdtype(a.dtype, np.integer) else a / b)


def _fold_gather(node: Node, values: List[np.ndarray]) -> np.ndarray:
    return np.take(values[0], values[1], axis=int(node.attrs.get("axis", 0)))


def _fold_unsqueeze(node: Node, values: List[np.ndarray]) -> np.ndarray:
    axes = [int(a) for a in (values[1].reshape(-1) if len(values) > 1 else node.attrs["axes"])]
    out = values[0]
    rank = out.ndim + len(axes)
    for a in sorted(a + rank if a < 0 else a for a in axes):
        out = np.expand_dims(out, a)
    return out


def _fold_squeeze(node: Node, values: List[np.ndarray]) -> np.ndarray:
    axes = values[1].reshape(-1) if len(values) > 1 else node.attrs.get("axes")
    return np.squeeze(values[0], axis=None if axes is None or len(axes) == 0 else tuple(int(a) for a in axes))


def _fold_concat(node: Node, values: List[np.ndarray]) -> np.ndarray:
    return np.concatenate(values, axis=int(node.attrs.get("axis", 0)))


def _fold_cast(node: Node, values: List[np.ndarray]) -> np.ndarray:
    from .proto import DTYPES
    to = int(node.attrs["to"])
    if to not in DTYPES:
        raise node.fail(f"casts to ONNX type {to}, which is not a numeric type")
    return values[0].astype(DTYPES[to])


def _fold_reshape(node: Node, values: List[np.ndarray]) -> np.ndarray:
    shape = [int(v) for v in values[1].reshape(-1)]
    shape = [values[0].shape[i] if v == 0 else v for i, v in enumerate(shape)]
    return values[0].reshape(shape)


def _fold_transpose(node: Node, values: List[np.ndarray]) -> np.ndarray:
    perm = node.attrs.get("perm")
    return np.transpose(values[0], None if perm is None else [int(p) for p in perm])


def _fold_flatten(node: Node, values: List[np.ndarray]) -> np.ndarray:
    axis = int(node.attrs.get("axis", 1))
    x = values[0]
    axis = axis + x.ndim if axis < 0 else axis
    return x.reshape(math.prod(x.shape[:axis]), -1)


# op -> fold(node, input values) -> output value, for nodes whose inputs are all constants.
# Shape is special: it reads the (batch size 1) shape of the data (see onnx_io.load_onnx).
CONSTANT_OPS: Dict[str, Optional[Callable[[Node, List[np.ndarray]], np.ndarray]]] = {
    "Constant": None,
    "Shape": None,
    "Identity": lambda node, v: v[0],
    "Add": _fold_arithmetic,
    "Sub": _fold_arithmetic,
    "Mul": _fold_arithmetic,
    "Div": _fold_arithmetic,
    "Gather": _fold_gather,
    "Unsqueeze": _fold_unsqueeze,
    "Squeeze": _fold_squeeze,
    "Concat": _fold_concat,
    "Cast": _fold_cast,
    "Reshape": _fold_reshape,
    "Transpose": _fold_transpose,
    "Flatten": _fold_flatten,
}
