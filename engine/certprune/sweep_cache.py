"""A sweep's shared dense round: runs given the same ``shared_dir`` train round 0 once.

    cache = dense_cache(run, shared_dir)      # None without a shared folder
    import_dense(run, cache)                  # before round 0: copy a finished dense round in
    export_dense(run, cache)                  # after round 0: offer this run's to the others

Runs share the dense round (and the initial weights) when every setting round 0 depends
on agrees (``dense_key``): data, model, training, verification and seed, not the
pruning method or schedule.
"""
from __future__ import annotations

import hashlib
import os

from . import paths as files
from .paths import RunPaths

ARTIFACT_KINDS = {"mask.pt": "mask", "checkpoint.pt": "checkpoint", "stability.json": "stability",
                  "verification.json": "verification", "model.onnx": "onnx", "metrics.json": "metrics"}
ROUND_FILES = ("prune.json", "mask.pt", "checkpoint.pt", "history.json", "evaluation.json", "stability.json",
               "verification.json", "model.onnx", "metrics.json")  # metrics.json last: it marks the round done


def dense_key(config: dict) -> str:
    """Hash of every setting the dense round depends on (not the pruning method or schedule)."""
    from .protocol import canonical_json
    relevant = {key: config[key] for key in ("data", "model", "training", "verification", "seed")}
    return hashlib.sha256(canonical_json(relevant).encode("utf-8")).hexdigest()[:16]


def dense_cache(run, shared_dir: str | None) -> RunPaths | None:
    return RunPaths(os.path.join(shared_dir, f"dense_{dense_key(run.config)}")) if shared_dir else None


def import_dense(run, cache: RunPaths) -> None:
    """Copy a sweep's shared dense round into this run (all but metrics.json: the round then replays)."""
    if not os.path.exists(cache.metrics(0)) or os.path.exists(run.paths.metrics(0)):
        return
    run.log(f"reusing the dense round and initial weights from {cache.root}", None, "setup")
    if not os.path.exists(run.paths.init):
        run.artifact(None, "init", run.paths.init, files.copy_file(cache.init, run.paths.init))
    for name in ROUND_FILES[:-1]:
        source, target = os.path.join(cache.round_dir(0), name), os.path.join(run.paths.round_dir(0), name)
        if os.path.exists(source) and not os.path.exists(target):
            size = files.copy_file(source, target)
            if name in ARTIFACT_KINDS:
                run.artifact(0, ARTIFACT_KINDS[name], target, size)


def export_dense(run, cache: RunPaths) -> None:
    """Offer this run's finished dense round to the sweep (metrics.json last: it marks it complete)."""
    if os.path.exists(cache.metrics(0)):
        return
    files.copy_file(run.paths.init, cache.init)
    for name in ROUND_FILES:
        source = os.path.join(run.paths.round_dir(0), name)
        if os.path.exists(source):
            files.copy_file(source, os.path.join(cache.round_dir(0), name))
