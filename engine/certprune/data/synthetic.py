"""A small generated dataset for tests and quick runs (no files needed).

Ten classes of 1x16x16 grey images. Each class has a fixed blocky prototype
(a random 4x4 pattern blown up to 16x16); a sample is its class prototype,
shifted by up to one pixel, with Gaussian noise, clipped to [0, 1]. A tiny
CNN learns it in a couple of epochs, and it is robustly learnable at eps 0.05.
Generation is deterministic (its own seeded generator, independent of the
global torch seed).
"""
from __future__ import annotations

import torch
import torch.nn.functional as F

from .dataset import Dataset, DatasetInfo

INFO = DatasetInfo(name="synthetic", input_shape=(1, 16, 16), num_classes=10,
                   mean=(0.5,), std=(0.3,), default_eps=0.05, flip=False, crop_padding=1)
SIZES = {"train": 2000, "test": 500}
PROTOTYPE_SEED = 0
SPLIT_SEEDS = {"train": 1, "test": 2}
NOISE_STD = 0.1
MAX_SHIFT = 1


def _prototypes(generator: torch.Generator) -> torch.Tensor:
    """(10, 1, 16, 16) blocky patterns in {0.2, 0.8}."""
    coarse = torch.rand(INFO.num_classes, 1, 4, 4, generator=generator) < 0.5
    coarse = 0.2 + 0.6 * coarse.to(torch.float32)
    return F.interpolate(coarse, size=INFO.input_shape[1:], mode="nearest")


def make_synthetic(split: str, size: int | None = None) -> Dataset:
    """The synthetic ``split`` ("train" or "test"); ``size`` samples (default 2000 / 500)."""
    if split not in SIZES:
        raise ValueError(f"synthetic dataset has splits 'train' and 'test', not {split!r}")
    count = SIZES[split] if size is None else int(size)
    prototypes = _prototypes(torch.Generator().manual_seed(PROTOTYPE_SEED))
    generator = torch.Generator().manual_seed(SPLIT_SEEDS[split])
    labels = torch.arange(count) % INFO.num_classes  # balanced classes
    labels = labels[torch.randperm(count, generator=generator)]
    images = prototypes[labels]  # (N, 1, 16, 16)
    shifts = torch.randint(-MAX_SHIFT, MAX_SHIFT + 1, (count, 2), generator=generator)
    # Shift each image by its own (dy, dx): one roll per distinct shift, not per sample.
    shifted = images.clone()
    for dy in range(-MAX_SHIFT, MAX_SHIFT + 1):
        for dx in range(-MAX_SHIFT, MAX_SHIFT + 1):
            chosen = (shifts[:, 0] == dy) & (shifts[:, 1] == dx)
            shifted[chosen] = torch.roll(images[chosen], shifts=(dy, dx), dims=(2, 3))
    noise = NOISE_STD * torch.randn(shifted.shape, generator=generator)
    pixels = (shifted + noise).clamp_(0.0, 1.0).contiguous()
    return Dataset(pixels, labels, INFO, split)
