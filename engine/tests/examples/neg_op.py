"""ONNX Neg: y = -x, an element-wise affine map (scale -1, shift 0) that every bound
method already propagates."""
from __future__ import annotations

from dataclasses import replace

import torch

from certprune.bounds.layers import ElementwiseAffine


def _neg(node, flow):
    ones = torch.ones(flow.sample)                                   # the data's per-sample shape
    return [ElementwiseAffine(-ones, torch.zeros_like(ones))], replace(flow, nonnegative=False)
