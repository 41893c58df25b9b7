"""Dataset name -> (info, loader): the table behind ``load_dataset``."""
from __future__ import annotations

from typing import Callable

from . import cifar, idx, imagenet64, svhn, synthetic
from .dataset import Dataset, DatasetInfo

# name -> (info, loader(split, root, size) -> Dataset). Default roots: fashion-mnist in
# /usr/share/datasets/fashion-mnist, the others in $CERTPRUNE_DATA/<name> (eran-cifar10
# shares cifar10's folder).
DATASETS: dict[str, tuple[DatasetInfo, Callable[[str, str | None, int | None], Dataset]]] = {
    "synthetic": (synthetic.INFO, lambda split, root, size: synthetic.make_synthetic(split, size)),
    "fashion-mnist": (idx.INFO, lambda split, root, size: idx.load_fashion_mnist(split, root).subset(size)),
    "cifar10": (cifar.INFO, cifar.load_cifar10),
    "eran-cifar10": (cifar.ERAN_INFO, cifar.load_eran_cifar10),
    "svhn": (svhn.INFO, svhn.load_svhn),
    "imagenet64": (imagenet64.INFO, imagenet64.load_imagenet64),
}


def dataset_info(name: str) -> DatasetInfo:
    """Shape, classes, normalisation, default eps and augmentation of dataset ``name``."""
    if name not in DATASETS:
        raise ValueError(f"unknown dataset {name!r}; choose one of {', '.join(DATASETS)}")
    return DATASETS[name][0]


def load_dataset(name: str, split: str, root: str | None = None, size: int | None = None) -> Dataset:
    """Load ``split`` ("train" / "test") of dataset ``name``; ``size`` keeps only the first N samples.

    root: the folder holding the dataset's files (None -> the dataset's default place).
    Raises DatasetError for missing or corrupt files.
    """
    dataset_info(name)
    if size is not None and size < 0:
        raise ValueError(f"size must be >= 0 or None, got {size}")
    return DATASETS[name][1](split, root, size)
