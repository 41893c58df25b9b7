"""Training augmentation on whole batches: random crop with zero padding, horizontal flip.

Vectorised (one gather per batch, no per-sample Python loop) and device-agnostic:
random draws come from a CPU ``torch.Generator`` so seeded runs repeat exactly.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F


def random_crop(images: torch.Tensor, padding: int, generator: torch.Generator | None = None) -> torch.Tensor:
    """Pad (B, C, H, W) by ``padding`` zeros on every side and cut a random HxW window per image."""
    if padding <= 0:
        return images
    batch, channels, height, width = images.shape
    padded = F.pad(images, (padding, padding, padding, padding))  # (B, C, H+2p, W+2p)
    padded_h, padded_w = height + 2 * padding, width + 2 * padding
    offsets = torch.randint(0, 2 * padding + 1, (batch, 2), generator=generator).to(images.device)
    # One gather over each flattened padded image: index = c*Hp*Wp + (dy+i)*Wp + (dx+j).
    rows = torch.arange(height, device=images.device).view(1, 1, height, 1) + offsets[:, 0].view(batch, 1, 1, 1)
    cols = torch.arange(width, device=images.device).view(1, 1, 1, width) + offsets[:, 1].view(batch, 1, 1, 1)
    chans = torch.arange(channels, device=images.device).view(1, channels, 1, 1) * (padded_h * padded_w)
    index = (chans + rows * padded_w + cols).reshape(batch, -1)  # (B, C*H*W)
    return padded.reshape(batch, -1).gather(1, index).view(batch, channels, height, width)


def random_flip(images: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
    """Mirror each (B, C, H, W) image left-right with probability 1/2."""
    flip = torch.rand(images.shape[0], generator=generator) < 0.5
    flip = flip.to(images.device).view(-1, 1, 1, 1)
    return torch.where(flip, images.flip(3), images)


def augment(images: torch.Tensor, crop_padding: int, flip: bool,
            generator: torch.Generator | None = None) -> torch.Tensor:
    """The paper's training augmentation for one batch (B, C, H, W) -> (B, C, H, W)."""
    images = random_crop(images, crop_padding, generator)
    if flip:
        images = random_flip(images, generator)
    return images
