"""Every artifact path of a run, in one place, and atomic writes.

    run_dir/
      config.json                 the full configuration the run was started with
      init.pt                     initial weights (state dict); every round rewinds to them
      summary.json                the curve, the best round and the rounds within noise of it (written at the end)
      round_<k>/
        prune.json                how the mask was made (method, target, counted ratios, seconds)
        mask.pt                   {param name: 0/1 tensor}
        checkpoint.pt             trained state dict (full size, pruned entries exactly 0)
        history.json              per-epoch training records
        evaluation.json           standard and adversarial accuracy
        stability.json            stability statistics per layer, per neuron and per sample
        verification.partial.jsonl  per-sample results as they finish (resume point)
        verification.json         every sample's outcome and the totals
        model.onnx                the (shrunk) trained network
        metrics.json              the round's summary (round_finished); the round is done when it exists

Each phase's output file is its own "done" marker: files are written to a temporary
name and renamed (os.replace), so a killed run never leaves a half-written file
under a final name. ``round_<k>`` is relative to the run's --out directory, and so
are the artifact paths in events.
"""
from __future__ import annotations

import io
import json
import os
import tempfile

import torch


class RunPaths:
    """Names of the files of a run rooted at ``run_dir``."""

    def __init__(self, run_dir: str):
        self.root = os.path.abspath(run_dir)

    def relative(self, path: str) -> str:
        """``path`` relative to the run directory, with forward slashes (for events)."""
        return os.path.relpath(path, self.root).replace(os.sep, "/")

    @property
    def config(self) -> str:
        return os.path.join(self.root, "config.json")

    @property
    def init(self) -> str:
        return os.path.join(self.root, "init.pt")

    @property
    def summary(self) -> str:
        return os.path.join(self.root, "summary.json")

    def round_dir(self, k: int) -> str:
        if k < 0:
            raise ValueError(f"round must be >= 0, got {k}")
        return os.path.join(self.root, f"round_{k}")

    def prune(self, k: int) -> str:
        return os.path.join(self.round_dir(k), "prune.json")

    def mask(self, k: int) -> str:
        return os.path.join(self.round_dir(k), "mask.pt")

    def checkpoint(self, k: int) -> str:
        return os.path.join(self.round_dir(k), "checkpoint.pt")

    def history(self, k: int) -> str:
        return os.path.join(self.round_dir(k), "history.json")

    def evaluation(self, k: int) -> str:
        return os.path.join(self.round_dir(k), "evaluation.json")

    def stability(self, k: int) -> str:
        return os.path.join(self.round_dir(k), "stability.json")

    def verification_partial(self, k: int) -> str:
        return os.path.join(self.round_dir(k), "verification.partial.jsonl")

    def verification(self, k: int) -> str:
        return os.path.join(self.round_dir(k), "verification.json")

    def onnx(self, k: int) -> str:
        return os.path.join(self.round_dir(k), "model.onnx")

    def metrics(self, k: int) -> str:
        return os.path.join(self.round_dir(k), "metrics.json")

    def finished_rounds(self) -> list[int]:
        """Rounds whose metrics.json exists, ascending."""
        if not os.path.isdir(self.root):
            return []
        found = []
        for name in os.listdir(self.root):
            if name.startswith("round_") and name[6:].isdigit() and os.path.exists(self.metrics(int(name[6:]))):
                found.append(int(name[6:]))
        return sorted(found)


def _atomic_write_bytes(data: bytes, path: str) -> int:
    """Write ``data`` to ``path`` via a temporary file in the same folder and os.replace."""
    folder = os.path.dirname(path) or "."
    os.makedirs(folder, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix="." + os.path.basename(path) + ".", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise
    return len(data)


def save_torch(obj, path: str) -> int:
    """torch.save ``obj`` (plain dicts of tensors) atomically; returns the size in bytes."""
    buffer = io.BytesIO()
    torch.save(obj, buffer)
    return _atomic_write_bytes(buffer.getvalue(), path)


def load_torch(path: str, device: torch.device | str = "cpu"):
    """torch.load onto ``device`` (map_location), whatever device it was saved from.

    Tensors and plain containers only (``weights_only``): a file in the data directory is
    never unpickled as code, and PyTorch 2.6+, where this is the default, reads the same."""
    return torch.load(path, map_location=device, weights_only=True)


def save_json(obj, path: str) -> int:
    """Write ``obj`` as indented JSON atomically (NaN is not allowed: use null)."""
    text = json.dumps(obj, indent=1, allow_nan=False) + "\n"
    return _atomic_write_bytes(text.encode("utf-8"), path)


def load_json(path: str):
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def copy_file(source: str, path: str) -> int:
    """Copy ``source`` to ``path`` atomically; returns the size in bytes."""
    with open(source, "rb") as f:
        return _atomic_write_bytes(f.read(), path)


def append_jsonl(obj, path: str) -> None:
    """Append one JSON line and flush it to disk (a torn last line is ignored by read_jsonl)."""
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    with open(path, "a", encoding="utf-8") as f:
        f.write(json.dumps(obj, allow_nan=False) + "\n")
        f.flush()
        os.fsync(f.fileno())


def read_jsonl(path: str) -> list:
    """Every complete line of a JSON-lines file ([] if it does not exist)."""
    if not os.path.exists(path):
        return []
    records = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            if not line.endswith("\n"):
                break                      # torn by a kill mid-write
            try:
                records.append(json.loads(line))
            except json.JSONDecodeError:
                break
    return records
