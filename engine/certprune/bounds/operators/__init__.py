"""One bound operator class per layer type (see base.py for the shared interface)."""
from .base import BoundOp
from .conv import BoundConv2d
from .elementwise import BoundBatchNorm, BoundElementwiseAffine, BoundNormalize
from .linear import BoundLinear
from .relu import BoundReLU
from .shape import BoundFlatten, BoundIdentity, BoundReshape

__all__ = ["BoundOp", "BoundConv2d", "BoundBatchNorm", "BoundElementwiseAffine", "BoundNormalize",
           "BoundLinear", "BoundReLU", "BoundFlatten", "BoundIdentity", "BoundReshape"]
