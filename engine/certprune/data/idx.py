"""FashionMNIST from its gzipped IDX files (train-images-idx3-ubyte.gz, ...).

IDX layout: big-endian magic (0x00 0x00 dtype ndim), ndim big-endian uint32 sizes,
then the raw values. Images are ubyte (N, 28, 28); labels are ubyte (N,).
"""
from __future__ import annotations

import gzip
import zlib

import numpy as np
import torch

from .dataset import Dataset, DatasetInfo
from .files import cached, corrupt, find_file

FASHION_ROOT = "/usr/share/datasets/fashion-mnist"
INFO = DatasetInfo(name="fashion-mnist", input_shape=(1, 28, 28), num_classes=10,
                   mean=(0.2860,), std=(0.3530,), default_eps=0.1, flip=True, crop_padding=2)
FILES = {"train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
         "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")}
FORMAT = "gzipped IDX file (as distributed by Zalando's Fashion-MNIST)"


def read_idx(path: str, ndim: int) -> np.ndarray:
    """Decode an IDX file of unsigned bytes (gzipped when the name ends in .gz)."""
    try:
        opener = gzip.open if path.endswith(".gz") else open
        with opener(path, "rb") as handle:
            raw = handle.read()
    except (OSError, EOFError, zlib.error) as error:
        raise corrupt(path, FORMAT, f"cannot decompress it ({error})") from None
    if len(raw) < 4 + 4 * ndim:
        raise corrupt(path, FORMAT, f"only {len(raw)} bytes, too short for a header")
    if raw[0] != 0 or raw[1] != 0 or raw[2] != 0x08 or raw[3] != ndim:
        raise corrupt(path, FORMAT, f"bad magic number {raw[:4].hex()} (expected 000008{ndim:02x}: "
                                    f"unsigned bytes, {ndim} dimensions)")
    shape = tuple(int.from_bytes(raw[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim))
    expected = int(np.prod(shape)) + 4 + 4 * ndim
    if len(raw) != expected:
        raise corrupt(path, FORMAT, f"header promises shape {shape} ({expected} bytes) but the file has {len(raw)}")
    return np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim).reshape(shape)


def load_fashion_mnist(split: str, root: str | None = None) -> Dataset:
    """FashionMNIST ``split`` ("train" 60k / "test" 10k) from ``root`` (default the Debian package's folder)."""
    if split not in FILES:
        raise ValueError(f"fashion-mnist has splits 'train' and 'test', not {split!r}")
    root = root or FASHION_ROOT
    image_name, label_name = FILES[split]
    image_path = find_file(root, [image_name + ".gz", image_name], "FashionMNIST images", FORMAT)
    label_path = find_file(root, [label_name + ".gz", label_name], "FashionMNIST labels", FORMAT)
    images = cached(image_path, lambda: read_idx(image_path, 3))
    labels = cached(label_path, lambda: read_idx(label_path, 1))
    if images.shape[0] != labels.shape[0] or images.shape[1:] != (28, 28):
        raise corrupt(image_path, FORMAT, f"{images.shape} images of 28x28 expected to match "
                                          f"{labels.shape[0]} labels in {label_path}")
    if labels.size and labels.max() >= INFO.num_classes:
        raise corrupt(label_path, FORMAT, f"label {int(labels.max())} is out of range 0..9")
    pixels = torch.from_numpy(images.copy()).unsqueeze(1)  # (N, 1, 28, 28) uint8
    return Dataset(pixels, torch.from_numpy(labels.astype(np.int64)), INFO, split)
