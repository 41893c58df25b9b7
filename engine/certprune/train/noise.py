"""Random numbers for training that repeat exactly when a seeded generator is given."""
from __future__ import annotations

import torch


def uniform_like(x: torch.Tensor, low: float, high: float, generator: torch.Generator | None = None) -> torch.Tensor:
    """Uniform noise in [low, high) with x's shape, dtype and device.

    Drawn from ``generator`` on its own device (a CPU generator also serves CUDA tensors:
    the draw is copied over), so the same seed gives the same noise.
    """
    if generator is None or generator.device == x.device:
        noise = torch.rand(x.shape, generator=generator, device=x.device, dtype=x.dtype)
    else:
        noise = torch.rand(x.shape, generator=generator, dtype=x.dtype, device=generator.device).to(x.device)
    return noise.mul_(high - low).add_(low)
