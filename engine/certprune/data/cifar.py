"""CIFAR-10 from the python pickle batches (cifar-10-batches-py/data_batch_1..5, test_batch),
and the ERAN CIFAR-10 verification set (the first 1000 test images).

A batch is a pickled dict {b"data": uint8 (10000, 3072) channel-major, b"labels": [int]}.
Unpickling is restricted to plain containers and numpy arrays, so a planted file cannot
run code.
"""
from __future__ import annotations

import csv
import io
import os
import pickle

import numpy as np
import torch

from .dataset import Dataset, DatasetError, DatasetInfo
from .files import cached, corrupt, default_root, find_file

ERAN_MEAN = (0.4914, 0.4822, 0.4465)
ERAN_STD = (0.2023, 0.1994, 0.2010)
# CIFAR-10 uses ERAN's normalisation so that a model trained on "cifar10" is the model
# verified on the ERAN set (PAPER.md).
INFO = DatasetInfo(name="cifar10", input_shape=(3, 32, 32), num_classes=10, mean=ERAN_MEAN, std=ERAN_STD,
                   default_eps=2 / 255, flip=True, crop_padding=4)
ERAN_INFO = DatasetInfo(name="eran-cifar10", input_shape=(3, 32, 32), num_classes=10, mean=ERAN_MEAN,
                        std=ERAN_STD, default_eps=2 / 255, flip=False, crop_padding=0)
ERAN_SIZE = 1000
SUBFOLDER = "cifar-10-batches-py"
FORMAT = "CIFAR-10 python pickle batch (from cifar-10-python.tar.gz)"
ERAN_CSV = "cifar10_test.csv"
ERAN_FORMAT = "ERAN CSV (label, then 3072 pixel values 0-255 in HWC order, one image per line)"
TRAIN_FILES = [f"data_batch_{i}" for i in range(1, 6)]
TEST_FILES = ["test_batch"]

# What the restricted unpickler may construct: numpy arrays (numpy 1.x and 2.x paths).
_ALLOWED = {("numpy.core.multiarray", "_reconstruct"), ("numpy._core.multiarray", "_reconstruct"),
            ("numpy", "ndarray"), ("numpy", "dtype"), ("numpy.core.multiarray", "scalar"),
            ("numpy._core.multiarray", "scalar"), ("_codecs", "encode")}


class _ArrayUnpickler(pickle.Unpickler):
    def find_class(self, module, name):
        if (module, name) in _ALLOWED:
            return super().find_class(module, name)
        raise pickle.UnpicklingError(f"refusing to load {module}.{name}")


def _field(batch: dict, key: str):
    for candidate in (key, key.encode()):
        if candidate in batch:
            return batch[candidate]
    raise KeyError(key)


def read_batch(path: str) -> tuple[np.ndarray, np.ndarray]:
    """One pickle batch -> (uint8 (N, 3, 32, 32), int64 (N,))."""
    try:
        with open(path, "rb") as handle:
            batch = _ArrayUnpickler(io.BytesIO(handle.read()), encoding="latin1").load()
        data = np.asarray(_field(batch, "data"))
        labels = np.asarray(_field(batch, "labels"), dtype=np.int64)
    except (pickle.UnpicklingError, EOFError, KeyError, TypeError, ValueError, AttributeError,
            IndexError, ImportError) as error:
        raise corrupt(path, FORMAT, f"cannot unpickle a dict with 'data' and 'labels' ({type(error).__name__}: {error})") from None
    if data.dtype != np.uint8 or data.ndim != 2 or data.shape[1] != 3072:
        raise corrupt(path, FORMAT, f"'data' is {data.dtype} {data.shape}, expected uint8 (N, 3072)")
    if labels.shape != (data.shape[0],) or (labels.size and (labels.min() < 0 or labels.max() > 9)):
        raise corrupt(path, FORMAT, f"'labels' must be {data.shape[0]} integers in 0..9")
    return data.reshape(-1, 3, 32, 32), labels


def _root(root: str | None) -> str:
    root = root or default_root("cifar10")
    nested = os.path.join(root, SUBFOLDER)
    return nested if os.path.isdir(nested) else root


def load_cifar10(split: str, root: str | None = None, size: int | None = None) -> Dataset:
    """CIFAR-10 ``split`` ("train" 50k / "test" 10k) from ``root`` or root/cifar-10-batches-py."""
    if split not in ("train", "test"):
        raise ValueError(f"cifar10 has splits 'train' and 'test', not {split!r}")
    folder = _root(root)
    paths = [find_file(folder, [name], "CIFAR-10 batch", FORMAT) for name in (TRAIN_FILES if split == "train" else TEST_FILES)]
    images, labels, have = [], [], 0
    for path in paths:  # find every file first: a missing batch fails before any decoding
        if size is not None and have >= size:
            break
        data, targets = cached(path, lambda path=path: read_batch(path))
        images.append(data)
        labels.append(targets)
        have += len(targets)
    pixels = torch.from_numpy(np.concatenate(images))
    return Dataset(pixels, torch.from_numpy(np.concatenate(labels)), INFO, split).subset(size)


def read_eran_csv(path: str) -> tuple[np.ndarray, np.ndarray]:
    """ERAN's cifar10_test.csv -> (uint8 (N, 3, 32, 32), int64 (N,))."""
    try:
        with open(path, newline="") as handle:
            rows = [row for row in csv.reader(handle) if row]
        values = np.array(rows, dtype=np.int64)
    except (OSError, ValueError, UnicodeDecodeError) as error:
        raise corrupt(path, ERAN_FORMAT, f"cannot read it as integers ({error})") from None
    if values.ndim != 2 or values.shape[1] != 3073:
        raise corrupt(path, ERAN_FORMAT, f"rows must have 3073 values, found shape {values.shape}")
    labels, pixels = values[:, 0], values[:, 1:]
    if labels.min() < 0 or labels.max() > 9 or pixels.min() < 0 or pixels.max() > 255:
        raise corrupt(path, ERAN_FORMAT, "labels must be 0..9 and pixels 0..255")
    return pixels.astype(np.uint8).reshape(-1, 32, 32, 3).transpose(0, 3, 1, 2).copy(), labels


def load_eran_cifar10(split: str, root: str | None = None, size: int | None = None) -> Dataset:
    """The ERAN CIFAR-10 verification set: ERAN's cifar10_test.csv when root holds it, else the
    first 1000 images of the CIFAR-10 test batch (the same images)."""
    if split != "test":
        raise ValueError(f"eran-cifar10 is a test set only; ask for split 'test', not {split!r}")
    base = root or default_root("cifar10")
    csv_path = os.path.join(base, ERAN_CSV)
    if os.path.isfile(csv_path):
        pixels, labels = cached(csv_path, lambda: read_eran_csv(csv_path))
        pixels, labels = torch.from_numpy(pixels), torch.from_numpy(labels)
    else:
        try:
            test = load_cifar10("test", root, ERAN_SIZE)
        except DatasetError as error:
            raise DatasetError(f"the ERAN CIFAR-10 set needs {csv_path} ({ERAN_FORMAT}) or the CIFAR-10 "
                               f"test batch: {error}") from None
        pixels, labels = test.pixels[:ERAN_SIZE], test.labels[:ERAN_SIZE]
    return Dataset(pixels, labels, ERAN_INFO, split).subset(size)
