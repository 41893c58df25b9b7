"""Reading ONNX files without importing the ``onnx`` package.

``import onnx`` costs about 0.6 s (it loads ml_dtypes, its helpers and its checker);
reading a model needs only the generated protobuf classes (about 0.1 s), so the
verifier's start-up reads them directly from the installed package's
``onnx_ml_pb2.py``. Tensors and attributes are converted here for the plain cases
(numeric tensors in the file); anything else falls back to onnx's own helpers.
"""
from __future__ import annotations

import importlib.util
import os
import sys

import numpy as np

# TensorProto.DataType -> numpy dtype (little-endian, as ONNX stores raw_data)
DTYPES = {1: np.float32, 2: np.uint8, 3: np.int8, 4: np.uint16, 5: np.int16, 6: np.int32, 7: np.int64,
          9: np.bool_, 10: np.float16, 11: np.float64, 12: np.uint32, 13: np.uint64}
_EXTERNAL = 1  # TensorProto.DataLocation.EXTERNAL


def _protobuf_module():
    """onnx's generated onnx_ml_pb2 module, without running onnx/__init__.py."""
    if "onnx" in sys.modules:  # already paid for: use it
        from onnx import onnx_ml_pb2
        return onnx_ml_pb2
    cached = sys.modules.get("certprune_onnx_ml_pb2")
    if cached is not None:
        return cached
    spec = importlib.util.find_spec("onnx")
    location = spec.submodule_search_locations[0] if spec and spec.submodule_search_locations else None
    path = os.path.join(location, "onnx_ml_pb2.py") if location else None
    if path is None or not os.path.exists(path):
        from onnx import onnx_ml_pb2
        return onnx_ml_pb2
    module_spec = importlib.util.spec_from_file_location("certprune_onnx_ml_pb2", path)
    module = importlib.util.module_from_spec(module_spec)
    module_spec.loader.exec_module(module)
    sys.modules["certprune_onnx_ml_pb2"] = module
    return module


def read_model(path: str):
    """The ModelProto in ``path``. Raises FileNotFoundError, or protobuf's DecodeError."""
    with open(path, "rb") as f:
        data = f.read()
    model = _protobuf_module().ModelProto()
    model.ParseFromString(data)
    return model


def to_array(tensor) -> np.ndarray:
    """numpy value of a TensorProto stored in the file (as onnx.numpy_helper.to_array)."""
    dtype = DTYPES.get(tensor.data_type)
    if dtype is None or tensor.data_location == _EXTERNAL or tensor.HasField("segment"):
        from onnx import numpy_helper
        return numpy_helper.to_array(tensor)
    shape = tuple(int(d) for d in tensor.dims)
    if tensor.raw_data:
        return np.frombuffer(tensor.raw_data, dtype=np.dtype(dtype).newbyteorder("<")).astype(dtype).reshape(shape)
    if tensor.data_type == 1:
        values = tensor.float_data
    elif tensor.data_type == 11:
        values = tensor.double_data
    elif tensor.data_type == 7:
        values = tensor.int64_data
    elif tensor.data_type in (12, 13):
        values = tensor.uint64_data
    elif tensor.data_type == 10:  # float16 bits in int32_data
        return np.asarray(tensor.int32_data, dtype=np.uint16).view(np.float16).reshape(shape)
    else:
        values = tensor.int32_data
    return np.asarray(values, dtype=dtype).reshape(shape)


def attribute_value(attribute):
    """The Python value of an AttributeProto (as onnx.helper.get_attribute_value)."""
    kind = attribute.type
    if kind == 1:
        return attribute.f
    if kind == 2:
        return attribute.i
    if kind == 3:
        return attribute.s
    if kind == 4:
        return attribute.t
    if kind == 6:
        return list(attribute.floats)
    if kind == 7:
        return list(attribute.ints)
    if kind == 8:
        return list(attribute.strings)
    from onnx import helper
    return helper.get_attribute_value(attribute)
