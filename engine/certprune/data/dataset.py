"""The in-memory dataset type every loader returns, and the one error loaders raise."""
from __future__ import annotations

from dataclasses import dataclass

import torch


class DatasetError(RuntimeError):
    """A dataset file is missing, unreadable or not in the expected format.

    The message names the file, the format expected and how to provide it.
    """


@dataclass(frozen=True)
class DatasetInfo:
    """What a model and a training run need to know about a dataset.

    input_shape: (C, H, W). mean/std: per-channel normalisation (the model's first layer).
    default_eps: L-inf training/verification radius in [0, 1] pixel space.
    flip: horizontal flips in augmentation. crop_padding: pixels of padding for random crops.
    """
    name: str
    input_shape: tuple
    num_classes: int
    mean: tuple
    std: tuple
    default_eps: float
    flip: bool
    crop_padding: int


class Dataset:
    """Images and labels held in memory.

    Stored compactly: ``pixels`` is uint8 (N, C, H, W) for the real datasets (4x less
    memory, faster batching) or float32 in [0, 1] for generated data.
    ``images`` gives float32 (N, C, H, W) in [0, 1] (converted once, then cached);
    ``labels`` is int64 (N,). Use ``take(index)`` to get float images for a batch
    without converting the whole set.
    """

    def __init__(self, pixels: torch.Tensor, labels: torch.Tensor, info: DatasetInfo, split: str):
        if pixels.dim() != 4 or tuple(pixels.shape[1:]) != tuple(info.input_shape):
            raise ValueError(f"{info.name} {split}: images have shape {tuple(pixels.shape)}, "
                             f"expected (N, {', '.join(map(str, info.input_shape))})")
        if labels.shape != (pixels.shape[0],):
            raise ValueError(f"{info.name} {split}: {pixels.shape[0]} images but labels of shape {tuple(labels.shape)}")
        if pixels.dtype not in (torch.uint8, torch.float32):
            raise ValueError(f"{info.name} {split}: pixels must be uint8 or float32, got {pixels.dtype}")
        self.pixels = pixels
        self.labels = labels.to(torch.int64)
        self.info = info
        self.split = split
        self._images: torch.Tensor | None = None

    def __len__(self) -> int:
        return int(self.labels.shape[0])

    def __repr__(self) -> str:
        return f"Dataset({self.info.name!r}, split={self.split!r}, n={len(self)}, shape={tuple(self.info.input_shape)})"

    @staticmethod
    def _to_float(pixels: torch.Tensor) -> torch.Tensor:
        if pixels.dtype == torch.uint8:
            return pixels.to(torch.float32).div_(255.0)
        return pixels

    @property
    def images(self) -> torch.Tensor:
        """float32 (N, C, H, W) in [0, 1]."""
        if self._images is None:
            self._images = self._to_float(self.pixels)
        return self._images

    def take(self, index: torch.Tensor, device: torch.device | str | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """(images (B, C, H, W) float32 in [0, 1], labels (B,)) for ``index`` (B,), on ``device``."""
        index = index.to(self.pixels.device)
        pixels = self.pixels[index]
        labels = self.labels[index]
        if device is not None:
            pixels, labels = pixels.to(device, non_blocking=True), labels.to(device, non_blocking=True)
        return self._to_float(pixels), labels

    def to(self, device: torch.device | str) -> "Dataset":
        """The same samples with pixels and labels on ``device`` (e.g. the whole set on the GPU)."""
        return Dataset(self.pixels.to(device), self.labels.to(device), self.info, self.split)

    def subset(self, size: int | None) -> "Dataset":
        """The first ``size`` samples (all of them when size is None or larger than the set)."""
        if size is None or size >= len(self):
            return self
        if size < 0:
            raise ValueError(f"subset size must be >= 0, got {size}")
        return Dataset(self.pixels[:size], self.labels[:size], self.info, self.split)
