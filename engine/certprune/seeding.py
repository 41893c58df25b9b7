"""Seeds: every phase of every round draws its random numbers from its own seed.

    generator = seeded(seed, round_index, "train")    # seeds torch, numpy, random; returns a CPU generator

The seed of (seed, round, phase) is a hash, so a resumed run repeats an uninterrupted
one exactly (on the same device), whichever phase it resumes at.
"""
from __future__ import annotations

import hashlib
import random

import numpy as np
import torch


def phase_seed(seed: int, round_index, phase: str) -> int:
    """A 63-bit seed for (seed, round, phase): each phase's randomness is independent of the others."""
    digest = hashlib.sha256(f"certprune/{seed}/{round_index}/{phase}".encode()).digest()
    return int.from_bytes(digest[:8], "little") >> 1


def seeded(seed: int, round_index, phase: str) -> torch.Generator:
    """Seed torch/numpy/random for a phase and return a CPU generator seeded the same way."""
    value = phase_seed(seed, round_index, phase)
    torch.manual_seed(value)
    np.random.seed(value % (2 ** 32))
    random.seed(value)
    return torch.Generator().manual_seed(value)
