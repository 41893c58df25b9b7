"""A run's set-up: its data, resolved settings and folder, shared by every phase.

    run = prepare_run(config, out_dir, emit)           # a train-prune-verify experiment
    run = prepare_upload(config, out_dir, emit)        # an uploaded model (test data only)

``Run`` holds what every round needs (config, paths, emit, device, data, training
settings, the remaining-ratio targets, the verification eps) and the small helpers
that say what the run is doing: the status for failure reports, log lines with their
round and phase, artifact events.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Callable

import torch

from . import paths as files
from .paths import RunPaths
from .plan import is_uploaded_model, round_targets, training_settings, verification_eps


@dataclass
class Run:
    """Everything the phases share. ``targets[k]``: the remaining ratio round k aims for.

    kind: "experiment" or "uploaded-model" (then train_set, settings and method are None).
    status: a dict whose "name" says what runs now ("round 2: train"), for failure reports.
    """
    config: dict
    paths: RunPaths
    emit: Callable
    device: torch.device
    status: dict
    info: object
    train_set: object
    test_set: object
    settings: object
    method: str | None
    targets: list
    verify_eps: float
    kind: str = "experiment"

    @property
    def seed(self) -> int:
        return int(self.config["seed"])

    @property
    def verifies(self) -> bool:
        return self.config["verification"]["mode"] != "none"

    def set_status(self, k, name: str) -> None:
        self.status["name"] = name if k is None else f"round {k}: {name}"

    def log(self, message: str, k=None, phase: str | None = None, level: str = "info") -> None:
        self.emit("log", level=level, message=message, round=k, phase=phase)

    def artifact(self, k, kind: str, path: str, size: int) -> None:
        self.emit("artifact", round=k, kind=kind, path=self.paths.relative(path), bytes=int(size))


def has_progress(out_dir: str) -> bool:
    """True when ``out_dir`` already holds some of a run's outputs (so starting it resumes)."""
    paths = RunPaths(out_dir)
    return os.path.exists(paths.init) or os.path.isdir(paths.round_dir(0))


def _check_config(paths: RunPaths, config: dict) -> None:
    """Store the config; refuse to resume a folder that holds a run with other settings.

    Runs compare by run id (the hash of their non-default settings), ignoring the device,
    so a run may resume on another machine and a setting added later with a default
    does not orphan it.
    """
    from .protocol import run_id
    if os.path.exists(paths.config):
        stored = files.load_json(paths.config)
        if run_id({**stored, "device": "auto"}) != run_id({**config, "device": "auto"}):
            raise ValueError(f"{paths.root} holds a run with a different configuration "
                             f"(see {paths.config}); use a new --out directory for this one")
    else:
        files.save_json(config, paths.config)


def _remove_temporaries(root: str) -> None:
    """Delete half-written files a killed run left behind (never a finished file: those have final names)."""
    for folder, _, names in os.walk(root):
        for name in names:
            if name.startswith(".") and name.endswith(".tmp"):
                os.remove(os.path.join(folder, name))


def _device(config: dict, device) -> torch.device:
    from .train import resolve_device
    return resolve_device(device if device is not None else config.get("device", "auto"))


def prepare_run(config: dict, out_dir: str, emit, device=None, status: dict | None = None) -> Run:
    """Load the data, resolve the settings and the schedule, and store (or check) config.json."""
    from .data import load_dataset
    data = config["data"]
    train_set = load_dataset(data["dataset"], "train", data.get("root"), data.get("trainSize"))
    test_set = load_dataset(data["dataset"], "test", data.get("root"), None)
    method = config["pruning"]["method"]
    paths = RunPaths(out_dir)
    os.makedirs(paths.root, exist_ok=True)
    _check_config(paths, config)
    _remove_temporaries(paths.root)
    return Run(config=config, paths=paths, emit=emit, device=_device(config, device),
               status=status if status is not None else {}, info=train_set.info, train_set=train_set,
               test_set=test_set, settings=training_settings(config, train_set.info),
               method=None if method == "none" else method, targets=round_targets(config),
               verify_eps=verification_eps(config))


def prepare_upload(config: dict, out_dir: str, emit, device=None, status: dict | None = None) -> Run:
    """The set-up of an uploaded model's run: the test data only, one round, nothing to train or prune."""
    from .data import load_dataset
    if not is_uploaded_model(config):
        raise ValueError(f"model.arch is {config['model']['arch']!r}; only an uploaded model ('onnx') is verified alone")
    data = config["data"]
    test_set = load_dataset(data["dataset"], "test", data.get("root"), None)
    paths = RunPaths(out_dir)
    os.makedirs(paths.round_dir(0), exist_ok=True)
    return Run(config=config, paths=paths, emit=emit, device=_device(config, device),
               status=status if status is not None else {}, info=test_set.info, train_set=None, test_set=test_set,
               settings=None, method=None, targets=[1.0], verify_eps=verification_eps(config), kind="uploaded-model")


def verification_samples(run: Run):
    """(images (N, C, H, W), labels (N,)): the first verification.samples test images, on the device."""
    samples = run.test_set.subset(run.config["verification"]["samples"])
    return samples.images.to(run.device), samples.labels.to(run.device)
