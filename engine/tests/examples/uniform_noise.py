"""Uniform-noise training: cross-entropy at a uniformly random point of the eps box, a
cheap robustness baseline that certifies nothing."""
from __future__ import annotations

import torch.nn.functional as F

from certprune.train.noise import uniform_like
from certprune.train.regimes.base import SGD_PAPER, Regime


def loss(model, x, y, eps, settings, eps_max, generator):
    noisy = (x + uniform_like(x, -eps, eps, generator)).clamp(0.0, 1.0)   # (B, C, H, W)
    logits = model(noisy)                                                  # (B, K)
    value = F.cross_entropy(logits, y)
    correct = int((logits.argmax(1) == y).sum())  # at the noisy point: one forward pass per batch
    stats = {"count": int(y.numel()), "correct": correct, "robust_correct": correct,
             "robust_loss": float(value.detach())}
    return value, stats, None


REGIME = Regime(
    name="uniform-noise", label="Uniform noise",
    help="Cross-entropy at a uniformly random point of the eps box (SGD); an uncertified baseline.",
    optimizer=SGD_PAPER, loss=loss, bounds=None,
)
