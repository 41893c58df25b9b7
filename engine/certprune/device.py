"""Where the engine computes: CUDA when asked or available, else all CPU cores."""
from __future__ import annotations

import os

import torch


def resolve_device(choice: str = "auto") -> torch.device:
    if choice == "cuda" and not torch.cuda.is_available():
        raise RuntimeError("device 'cuda' was requested but no CUDA GPU is visible to PyTorch; use device 'auto' or 'cpu'")
    if choice == "cuda" or (choice == "auto" and torch.cuda.is_available()):
        return torch.device("cuda")
    threads = int(os.environ.get("CERTPRUNE_THREADS", "0")) or (os.cpu_count() or 1)
    torch.set_num_threads(threads)
    return torch.device("cpu")
