"""Datasets: one loader per file format behind ``load_dataset``.

    from certprune.data import load_dataset, DatasetError
    train = load_dataset("fashion-mnist", "train")        # .images (N,1,28,28) in [0,1], .labels, .info
    test = load_dataset("synthetic", "test", size=100)

Every loader returns a ``Dataset`` whose images are in [0, 1] pixel space (the model
normalises), or raises ``DatasetError`` naming the file, its format and how to provide it.
"""
from __future__ import annotations

from .augment import augment
from .dataset import Dataset, DatasetError, DatasetInfo
from .registry import DATASETS, dataset_info, load_dataset

__all__ = ["Dataset", "DatasetError", "DatasetInfo", "DATASETS", "augment", "dataset_info", "load_dataset"]
