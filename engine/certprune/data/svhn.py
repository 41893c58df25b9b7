"""SVHN from the cropped-digit MATLAB files train_32x32.mat / test_32x32.mat.

Each holds X: uint8 (32, 32, 3, N) and y: (N, 1) with labels 1..10, where 10 means digit 0.
"""
from __future__ import annotations

import numpy as np
import torch

from .dataset import Dataset, DatasetInfo
from .files import cached, corrupt, default_root, find_file

INFO = DatasetInfo(name="svhn", input_shape=(3, 32, 32), num_classes=10, mean=(0.4377, 0.4438, 0.4728),
                   std=(0.1980, 0.2010, 0.1970), default_eps=2 / 255, flip=False, crop_padding=4)
FILES = {"train": "train_32x32.mat", "test": "test_32x32.mat"}
FORMAT = "SVHN cropped-digits MATLAB file (format 2, *_32x32.mat)"


def read_mat(path: str) -> tuple[np.ndarray, np.ndarray]:
    """-> (uint8 (N, 3, 32, 32), int64 (N,) in 0..9)."""
    import scipy.io
    try:
        contents = scipy.io.loadmat(path)
        images, labels = np.asarray(contents["X"]), np.asarray(contents["y"]).reshape(-1)
    except KeyError as error:
        raise corrupt(path, FORMAT, f"variable {error} is missing (expected X and y)") from None
    except Exception as error:  # scipy raises ValueError, TypeError, MatReadError... on damaged files
        raise corrupt(path, FORMAT, f"scipy.io.loadmat cannot read it ({type(error).__name__}: {error})") from None
    if images.ndim != 4 or images.shape[:3] != (32, 32, 3):
        raise corrupt(path, FORMAT, f"X has shape {images.shape}, expected (32, 32, 3, N)")
    if labels.shape[0] != images.shape[3] or labels.size and (labels.min() < 1 or labels.max() > 10):
        raise corrupt(path, FORMAT, f"y must hold {images.shape[3]} labels in 1..10")
    if images.dtype != np.uint8:
        raise corrupt(path, FORMAT, f"X is {images.dtype}, expected uint8")
    return images.transpose(3, 2, 0, 1).copy(), (labels.astype(np.int64) % 10)


def load_svhn(split: str, root: str | None = None, size: int | None = None) -> Dataset:
    """SVHN ``split`` ("train" 73,257 / "test" 26,032) from ``root`` (default $CERTPRUNE_DATA/svhn)."""
    if split not in FILES:
        raise ValueError(f"svhn has splits 'train' and 'test', not {split!r}")
    path = find_file(root or default_root("svhn"), [FILES[split]], "SVHN", FORMAT)
    images, labels = cached(path, lambda: read_mat(path))
    return Dataset(torch.from_numpy(images), torch.from_numpy(labels), INFO, split).subset(size)
