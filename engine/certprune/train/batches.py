"""Mini-batches from an in-memory Dataset: shuffled, augmented, already on the device."""
from __future__ import annotations

from typing import Iterator

import torch

from ..data.augment import augment as augment_batch


def batches(dataset, batch_size: int, shuffle: bool = False, augment: bool = False,
            generator: torch.Generator | None = None, device: torch.device | str | None = None,
            drop_last: bool = False) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
    """Yield (images (B, C, H, W) float32 in [0, 1], labels (B,) int64) on ``device``.

    shuffle: a random order drawn from ``generator`` (a CPU torch.Generator) each call.
    augment: random crop (dataset.info.crop_padding) and horizontal flip (dataset.info.flip),
    done on the whole batch on the device.
    """
    count = len(dataset)
    order = torch.randperm(count, generator=generator) if shuffle else torch.arange(count)
    stop = count - count % batch_size if drop_last else count
    for begin in range(0, stop, batch_size):
        index = order[begin:begin + batch_size]
        images, labels = dataset.take(index, device)
        if augment:
            images = augment_batch(images, dataset.info.crop_padding, dataset.info.flip, generator)
        yield images, labels


def num_batches(dataset, batch_size: int, drop_last: bool = False) -> int:
    count = len(dataset)
    return count // batch_size if drop_last else -(-count // batch_size)
