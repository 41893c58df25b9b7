"""Downsampled ImageNet 64x64 (Chrabaszcz et al. 2017) from its npz batches.

Files: train_data_batch_1.npz .. train_data_batch_10.npz and val_data.npz (directly in
root, or in root/Imagenet64_train_npz and root/Imagenet64_val_npz). Each holds
'data' uint8 (N, 12288) channel-major (3 x 64 x 64) and 'labels' 1..1000.
The full training set is ~15 GB as uint8: use data.trainSize to load only the first
batches.
"""
from __future__ import annotations

import os
import zipfile

import numpy as np
import torch

from .dataset import Dataset, DatasetInfo
from .files import cached, corrupt, default_root, find_file

INFO = DatasetInfo(name="imagenet64", input_shape=(3, 64, 64), num_classes=1000, mean=(0.485, 0.456, 0.406),
                   std=(0.229, 0.224, 0.225), default_eps=1 / 255, flip=False, crop_padding=4)
TRAIN_FILES = [f"train_data_batch_{i}" for i in range(1, 11)]
VAL_FILES = ["val_data"]
SUBFOLDERS = {"train": "Imagenet64_train_npz", "test": "Imagenet64_val_npz"}
FORMAT = "downsampled-ImageNet npz batch ('data' uint8 (N, 12288), 'labels' 1..1000)"


def read_npz(path: str) -> tuple[np.ndarray, np.ndarray]:
    """-> (uint8 (N, 3, 64, 64), int64 (N,) in 0..999)."""
    try:
        with np.load(path, allow_pickle=False) as contents:
            data, labels = np.asarray(contents["data"]), np.asarray(contents["labels"]).reshape(-1)
    except KeyError as error:
        raise corrupt(path, FORMAT, f"array {error} is missing") from None
    except (OSError, ValueError, zipfile.BadZipFile, EOFError) as error:
        raise corrupt(path, FORMAT, f"numpy cannot read it ({type(error).__name__}: {error})") from None
    if data.dtype != np.uint8 or data.ndim != 2 or data.shape[1] != 3 * 64 * 64:
        raise corrupt(path, FORMAT, f"'data' is {data.dtype} {data.shape}, expected uint8 (N, 12288)")
    if labels.shape != (data.shape[0],) or labels.size and (labels.min() < 1 or labels.max() > 1000):
        raise corrupt(path, FORMAT, f"'labels' must be {data.shape[0]} integers in 1..1000 (1-based)")
    return data.reshape(-1, 3, 64, 64), labels.astype(np.int64) - 1


def load_imagenet64(split: str, root: str | None = None, size: int | None = None) -> Dataset:
    """ImageNet 64x64 ``split`` ("train" / "test" = the validation set); stops reading
    batches once ``size`` images are in."""
    if split not in SUBFOLDERS:
        raise ValueError(f"imagenet64 has splits 'train' and 'test' (the validation set), not {split!r}")
    base = root or default_root("imagenet64")
    names = TRAIN_FILES if split == "train" else VAL_FILES
    paths = []
    for name in names:  # locate every needed file before decoding any
        candidates = [name + ".npz", os.path.join(SUBFOLDERS[split], name + ".npz"), name]
        paths.append(find_file(base, candidates, "ImageNet 64x64 batch", FORMAT))
    images, labels, have = [], [], 0
    for path in paths:
        if size is not None and have >= size:
            break
        data, targets = cached(path, lambda path=path: read_npz(path))
        images.append(data)
        labels.append(targets)
        have += len(targets)
    pixels = torch.from_numpy(np.concatenate(images))
    return Dataset(pixels, torch.from_numpy(np.concatenate(labels)), INFO, split).subset(size)
