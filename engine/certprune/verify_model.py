"""Verify a model CertPrune did not train (model.arch "onnx"): one round, no training or pruning.

    run_verify_model(config, out_dir, emit)      # config["model"]["onnx"]: path of the ONNX file

The ONNX model takes (N, C, H, W) images in [0, 1] pixel space (any normalisation is
inside the graph, as CertPrune's own exports have it) and returns (N, classes) logits.
It is read with certprune.onnx_io (clear errors for unsupported operators), checked
against the dataset's image shape and class count, and its first verification.samples
test images are verified like a trained run's round 0, by the same phases
(certprune/phases: export, stability, verify, results). The events are those of round 0
(round_started, progress, sample_verified, stability, round_finished, finished) and log
lines; nothing is trained or pruned, so there are no epoch events and the started
event's plan says kind "uploaded-model" with no training settings. The files are those
of a round (paths.py) plus verification_samples.json, which the server's audit replays
with another runtime. Resumable: finished files are reused, verification continues
from the last decided sample.
"""
from __future__ import annotations

import time
from typing import Callable

import torch
from torch import nn

from .phases import (RoundContext, copy_uploaded_model, emit_finished, finish_round, phase_stability, phase_verify,
                     sparsity, write_summary, write_verification_samples)
from .run_setup import prepare_upload, verification_samples


def layer_counts(model: nn.Sequential) -> list[dict]:
    """Per Conv2d / Linear layer, counted from the weights themselves (a zero weight is a pruned one).

    Returns the round_finished ``layers`` (pruning.layer_report's rows, names "conv1",
    "fc1", ...): a channel remains when its weight row has a non-zero entry.
    """
    from .pruning import layer_report, layers
    try:
        found = layers(model)
    except ValueError:      # no Conv2d or Linear layer at all
        return []
    mask = {layer.weight_name: (model[layer.index].weight.detach() != 0).to(torch.float32).cpu() for layer in found}
    return layer_report(model, mask)


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

    Returns the round_finished fields (also written to round_0/metrics.json); summary.json
    as for an experiment (phases/results.write_summary).
    """
    started = time.perf_counter()
    run = prepare_upload(config, out_dir, emit, device, phase)
    ctx = RoundContext(run, 0)
    run.set_status(None, "load model")
    ctx.model = load_checked_model(config, run.info).to(run.device).eval()
    images, labels = verification_samples(run)                             # (N, C, H, W), (N,)
    write_verification_samples(run.paths.root, images, labels, run.verify_eps)
    layers = layer_counts(ctx.model)
    counted = sparsity(layers, None, structured=False)                      # every layer: nothing was pruned here
    share = counted["sparsity"]["all"]
    ctx.log(f"loaded the uploaded model: {share['total']:,} weights in {len(layers)} layers, "
            f"{share['remaining']:,} of them non-zero; nothing is trained or pruned", "setup")
    emit("round_started", round=0, rounds=1, remainingRatio=counted["remainingRatio"])
    copy_uploaded_model(ctx)
    stability = phase_stability(ctx)
    verification = phase_verify(ctx)
    run.set_status(0, "metrics")
    totals = verification or {"samples": 0, "misclassified": 0}
    # Clean accuracy on the verification samples (an uploaded model has no test-set evaluation phase).
    evaluation = {"standardAccuracy": (totals["samples"] - totals["misclassified"]) / totals["samples"]
                  if totals["samples"] else 0.0, "adversarialAccuracy": None}
    payload = finish_round(ctx, counted, layers, evaluation, stability, verification, time.perf_counter() - started)
    summary = write_summary(run, [payload], time.perf_counter() - started, complete=True)
    emit_finished(run, summary)
    return payload
