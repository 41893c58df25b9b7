"""Helpers shared by the file loaders: locating files, clear errors, a per-process cache."""
from __future__ import annotations

import os
from typing import Callable

from .dataset import DatasetError

DATA_ENV = "CERTPRUNE_DATA"
HOW_TO_PROVIDE = ("set data.root in the run configuration to the folder holding it, "
                  f"or set the {DATA_ENV} environment variable to a folder with a '<dataset>' subfolder")

# Decoded arrays keyed by (path, size, mtime): loading a split twice in one process is free.
_CACHE: dict = {}


def default_root(dataset: str) -> str:
    """$CERTPRUNE_DATA/<dataset>, or ./data/<dataset> when the variable is unset."""
    return os.path.join(os.environ.get(DATA_ENV, "data"), dataset)


def find_file(root: str, names: list[str], what: str, fmt: str) -> str:
    """The first of ``names`` (relative to ``root``) that exists, else a DatasetError naming it."""
    for name in names:
        path = os.path.join(root, name)
        if os.path.isfile(path):
            return path
    expected = os.path.join(root, names[0])
    raise DatasetError(f"{what} file {expected} is missing (expected {fmt}); {HOW_TO_PROVIDE}.")


def corrupt(path: str, fmt: str, problem: str) -> DatasetError:
    """The error for a file that exists but cannot be decoded."""
    return DatasetError(f"{path} is not a valid {fmt}: {problem}. Replace it with an intact copy "
                        f"(re-download it) and check data.root / {DATA_ENV}.")


def cached(path: str, decode: Callable[[], object]):
    """decode() once per (path, size, modification time) in this process."""
    stat = os.stat(path)
    key = (os.path.abspath(path), stat.st_size, stat.st_mtime_ns)
    if key not in _CACHE:
        _CACHE[key] = decode()
    return _CACHE[key]
