"""Verify a model CertPrune did not train (model.arch "onnx"): one round, no training or pruning.

    run_verify_model(config, out_dir, emit)      # config["model"]["onnx"]: path of the ONNX file

The ONNX model takes (N, C, H, W) images in [0, 1] pixel space (any normalisation is
inside the graph, as CertPrune's own exports have it) and returns (N, classes) logits.
It is read with certprune.onnx_io (clear errors for unsupported operators), checked
against the dataset's image shape and class count, and its first verification.samples
test images are verified like a trained run's round 0. The events are those of round 0
(round_started, sample_verified, stability, round_finished, finished); the files are
those of a round (paths.py) plus verification_samples.json, which the server's audit
replays with another runtime. Resumable: finished files are reused, verification
continues from the last decided sample.
"""
from __future__ import annotations

import os
import time
from typing import Callable

import torch
from torch import nn

from . import paths as files
from .experiment import (flat_counterexample, sample_event, seeded, verification_eps, verification_totals,
                         write_verification_samples)
from .paths import RunPaths


def layer_counts(model: nn.Sequential) -> list[dict]:
    """Per Conv2d / Linear layer, counted from the weights themselves (a zero weight is a pruned one).

    Returns the round_finished ``layers``: [{name, kind, weights, remainingWeights,
    channels, remainingChannels}], names "conv1", "fc1", ... in order, as pruning names them.
    A channel remains when its weight row (an output channel / neuron) has a non-zero entry.
    """
    report, counts = [], {"conv": 0, "linear": 0}
    for module in model:
        if not isinstance(module, (nn.Conv2d, nn.Linear)):
            continue
        kind = "conv" if isinstance(module, nn.Conv2d) else "linear"
        counts[kind] += 1
        weight = module.weight.detach()
        rows = weight.reshape(weight.shape[0], -1)                          # (out, fan_in)
        report.append({"name": f"{'conv' if kind == 'conv' else 'fc'}{counts[kind]}", "kind": kind,
                       "weights": int(weight.numel()), "remainingWeights": int((weight != 0).sum()),
                       "channels": int(weight.shape[0]), "remainingChannels": int((rows != 0).any(dim=1).sum())})
    return report


def load_checked_model(config: dict, info) -> nn.Sequential:
    """The uploaded model as nn.Sequential; raises OnnxError / ValueError naming the mismatch."""
    from .onnx_io import load_onnx
    path = config["model"].get("onnx")
    if not path:
        raise ValueError("model.arch is 'onnx' but model.onnx names no file; upload a model first")
    model, input_shape = load_onnx(path)
    expected = tuple(int(s) for s in info.input_shape)
    if tuple(input_shape) != expected:
        raise ValueError(f"the model takes images of shape {tuple(input_shape)} but dataset {info.name} has "
                         f"{expected}; choose the dataset the model was trained on")
    with torch.no_grad():
        out = model(torch.zeros(1, *expected))
    if out.dim() != 2 or int(out.shape[1]) != int(info.num_classes):
        raise ValueError(f"the model outputs shape {tuple(out.shape[1:])} per image but dataset {info.name} has "
                         f"{info.num_classes} classes; the model must output one logit per class")
    return model


def run_verify_model(config: dict, out_dir: str, emit: Callable, device=None, phase: dict | None = None) -> dict:
    """Verify the uploaded model of ``config`` in ``out_dir`` and emit round 0's events.

    Returns the round_finished fields (also written to round_0/metrics.json).
    """
    from . import verify
    from .data import load_dataset
    from .train import resolve_device

    status = phase if phase is not None else {}
    started = time.perf_counter()
    device = resolve_device(device if device is not None else config.get("device", "auto"))
    paths = RunPaths(out_dir)
    os.makedirs(paths.round_dir(0), exist_ok=True)
    status["name"] = "load model"
    data = config["data"]
    settings = config["verification"]
    test_set = load_dataset(data["dataset"], "test", data.get("root"), None)
    model = load_checked_model(config, test_set.info).to(device).eval()
    eps = verification_eps(config)
    samples = test_set.subset(settings["samples"])
    images, labels = samples.images.to(device), samples.labels.to(device)   # (N, C, H, W), (N,)
    write_verification_samples(paths.root, images, labels, eps)
    emit("round_started", round=0, rounds=1, remainingRatio=_remaining_ratio(layer_counts(model)))

    if not os.path.exists(paths.onnx(0)):
        emit("artifact", round=0, kind="onnx", path=paths.relative(paths.onnx(0)),
             bytes=files.copy_file(config["model"]["onnx"], paths.onnx(0)))

    status["name"] = "round 0: stability"
    stability = _stability(paths, emit, model, images, eps, settings["mode"])
    status["name"] = "round 0: verify"
    results = _verify(paths, emit, model, images, labels, eps, settings, int(config["seed"]))

    status["name"] = "round 0: metrics"
    totals = verification_totals(results)
    layers = layer_counts(model)
    channels = sum(layer["channels"] for layer in layers)
    payload = {
        "round": 0, "remainingRatio": _remaining_ratio(layers),
        "remainingChannelRatio": sum(layer["remainingChannels"] for layer in layers) / channels if channels else 1.0,
        # Clean accuracy on the verification samples (an uploaded model has no test-set evaluation phase).
        "standardAccuracy": (totals["samples"] - totals["misclassified"]) / totals["samples"] if totals["samples"] else 0.0,
        "adversarialAccuracy": None,
        "verifiedAccuracy": totals["verifiedAccuracy"],
        **{key: totals[key] for key in ("verified", "falsified", "unknown", "misclassified", "samples",
                                        "meanVerifySeconds")},
        "unstableRatio": verify.unstable_ratio(stability) if stability else None,
        "instability": verify.instability_total(stability) if stability else None,
        "seconds": time.perf_counter() - started, "layers": layers,
    }
    emit("artifact", round=0, kind="metrics", path=paths.relative(paths.metrics(0)),
         bytes=files.save_json(payload, paths.metrics(0)))
    emit("round_finished", **payload)
    best = payload["verifiedAccuracy"]
    files.save_json({"curve": [payload], "bestRound": 0 if best is not None else None, "bestVerifiedAccuracy": best,
                     "rounds": 1, "seconds": payload["seconds"]}, paths.summary)
    status["name"] = "finished"
    emit("finished", bestRound=0 if best is not None else None, bestVerifiedAccuracy=best, rounds=1,
         seconds=time.perf_counter() - started)
    return payload


def _remaining_ratio(layers: list[dict]) -> float:
    total = sum(layer["weights"] for layer in layers)
    return sum(layer["remainingWeights"] for layer in layers) / total if total else 1.0


def _stability(paths: RunPaths, emit, model, images, eps: float, mode: str) -> list | None:
    """IBP stability statistics of the model's ReLUs (stability.json, reused when present)."""
    from . import verify
    if mode == "none" or images.shape[0] == 0:
        return None
    if os.path.exists(paths.stability(0)):
        stored = files.load_json(paths.stability(0))
    else:
        layers = verify.stability_statistics(model, images, eps, crown=False)
        stored = {"eps": eps, "layers": layers}
        emit("artifact", round=0, kind="stability", path=paths.relative(paths.stability(0)),
             bytes=files.save_json(stored, paths.stability(0)))
    emit("stability", round=0, eps=stored["eps"], layers=stored["layers"])
    return stored["layers"]


def _verify(paths: RunPaths, emit, model, images, labels, eps: float, settings: dict, seed: int) -> list:
    """Per-sample records (sample_verified fields plus the counterexample), as experiment.phase_verify keeps them."""
    from . import verify
    if settings["mode"] == "none":
        return []
    path, partial = paths.verification(0), paths.verification_partial(0)
    if os.path.exists(path):
        results = files.load_json(path)["results"]
        for record in results:
            emit("sample_verified", **sample_event(record))
        return results
    results = []
    for record in files.read_jsonl(partial):      # samples a stopped run already decided
        if record.get("index") != len(results):
            break
        results.append(record)
        emit("sample_verified", **sample_event(record))
    for index in range(len(results), images.shape[0]):
        seeded(seed, 0, f"verify/{index}")
        outcome = verify.verify_samples(model, images[index:index + 1], labels[index:index + 1], eps,
                                        settings["mode"], settings["timeout"], settings["pgdSteps"],
                                        settings["pgdRestarts"], first_index=index)[0]
        event = {"round": 0, **outcome.to_event()}
        record = {**event, "counterexample": flat_counterexample(outcome.counterexample)}
        files.append_jsonl(record, partial)
        emit("sample_verified", **event)
        results.append(record)
    stored = {"eps": eps, "mode": settings["mode"], **verification_totals(results), "results": results}
    emit("artifact", round=0, kind="verification", path=paths.relative(paths.verification(0)),
         bytes=files.save_json(stored, path))
    if os.path.exists(partial):
        os.remove(partial)
    return results
