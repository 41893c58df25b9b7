"""Where the engine computes: the device, the CPU thread count and the CPU allocator.

Commands call engine_device() once per process; library code (training, the verifier,
benchmarks) takes a device and calls resolve_device() to check one.
"""
from __future__ import annotations

import ctypes
import os
import sys

import torch


def resolve_device(device: str | torch.device = "auto") -> torch.device:
    """"auto" -> CUDA when available else CPU; "cuda" without a GPU is an error."""
    if isinstance(device, torch.device):
        return device
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if str(device).startswith("cuda") and not torch.cuda.is_available():
        raise RuntimeError("device 'cuda' was requested but no CUDA GPU is visible to PyTorch; "
                           "use device 'auto' or 'cpu'")
    if device not in ("cpu", "cuda") and not str(device).startswith("cuda:"):
        raise ValueError(f"device must be 'auto', 'cpu' or 'cuda', got {device!r}")
    return torch.device(device)


def threads_asked() -> int:
    """CERTPRUNE_THREADS as a number (0: not set)."""
    return int(os.environ.get("CERTPRUNE_THREADS", "0") or 0)


def use_all_cores() -> int:
    """Let torch use every CPU core this process may run on (or CERTPRUNE_THREADS)."""
    threads = threads_asked()
    if threads <= 0:
        threads = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    torch.set_num_threads(max(1, threads))
    return torch.get_num_threads()


#: a forward pass below this many multiply-accumulates is verified on one CPU thread: its
#: operations are too small to share, and on a busy machine a second thread waits for
#: its core at every one of them (docs/benchmarks.md: every network of the VNN-COMP 2021
#: kit, 13 k to 1.8 M MACs, is decided faster on one thread than on two)
SMALL_MODEL_MACS = 4_000_000


def threads_for_model(macs: int, device: str | torch.device) -> int:
    """The CPU threads to verify a model of ``macs`` multiply-accumulates per forward pass
    with: one for a small model, else every core (CERTPRUNE_THREADS, when set, always
    wins). Sets them, and returns the count."""
    if torch.device(device).type == "cpu":
        if macs < SMALL_MODEL_MACS and threads_asked() <= 0:
            torch.set_num_threads(1)
        else:
            use_all_cores()
    return torch.get_num_threads()


def engine_device(choice: str = "auto") -> torch.device:
    """The device of an engine process; on the CPU also all cores and the tuned allocator."""
    device = resolve_device(choice)
    if device.type == "cpu":
        use_all_cores()
        tune_cpu_allocator()
    return device


_ALLOCATOR_TUNED = None



def tune_cpu_allocator() -> bool:
    """Keep freed memory in the process instead of handing it back to the kernel (glibc).

    Tensors larger than glibc's mmap threshold (at most 32 MB) are normally mmap'ed and
    unmapped on every allocation, so each one costs a page fault per 4 KB page on first
    touch. Bound propagation allocates many such tensors per batch (CROWN's coefficients
    are batch x classes x layer); on a virtual machine a page fault is expensive, and this
    dominated the CPU training time (e.g. 0.6 s to allocate and fill 64 MB, against 6 ms
    once reused). mallopt(M_MMAP_MAX=0) serves them from the heap and a high
    M_TRIM_THRESHOLD keeps it mapped, so each batch reuses the previous one's memory (what
    jemalloc/tcmalloc, which PyTorch recommends on CPU, would do). The peak is unchanged; the
    process just keeps it mapped between batches.
    Process-wide; idempotent; set CERTPRUNE_MALLOC_TUNE=0 to skip. Returns True if applied.
    """
    global _ALLOCATOR_TUNED
    if _ALLOCATOR_TUNED is not None:
        return _ALLOCATOR_TUNED
    _ALLOCATOR_TUNED = False
    if os.environ.get("CERTPRUNE_MALLOC_TUNE", "1") == "0" or not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(None)
        libc.gnu_get_libc_version  # glibc only (mallopt's parameters below are glibc's)
        m_trim_threshold, m_mmap_max = -1, -4
        ok = libc.mallopt(m_mmap_max, 0) == 1 and libc.mallopt(m_trim_threshold, 2 ** 31 - 1) == 1
    except (OSError, AttributeError):
        return False
    _ALLOCATOR_TUNED = bool(ok)
    return _ALLOCATOR_TUNED
