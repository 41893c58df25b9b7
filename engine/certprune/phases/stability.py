"""The stability phase: per-layer, per-neuron and per-sample neuron stability (round_<k>/stability.json).

    stored = phase_stability(ctx)     # ctx.model: the network verified next; None without verification

IBP bounds at the verification eps on the verification samples (the paper's unstable
neuron ratio and instability). Per-layer CROWN counts cost a backward pass per neuron
layer (~100 s for 20 cnn4 samples on 2 CPU cores), so the event's "crown" counts are null.
"""
from __future__ import annotations

import os
import time

from .. import paths as files
from ..run_setup import verification_samples
from .context import RoundContext, pct_text, seconds_text

STABILITY_CROWN = False


def _emit(ctx: RoundContext, stored: dict) -> None:
    extra = {key: stored[key] for key in ("samples", "unstablePerSample") if key in stored}  # older files lack them
    ctx.emit("stability", round=ctx.k, eps=stored["eps"], layers=stored["layers"], **extra)


def phase_stability(ctx: RoundContext) -> dict | None:
    """{"eps", "layers", "samples", "unstablePerSample", "seconds"} (verify.stability_report), or None
    when the run verifies nothing (verification.mode "none" or no samples)."""
    from ..verify.stability import stability_report, unstable_ratio
    run, k = ctx.run, ctx.k
    if not run.verifies or not run.config["verification"]["samples"]:
        return None
    path = run.paths.stability(k)
    if os.path.exists(path):
        stored = files.load_json(path)
        _emit(ctx, stored)
        return stored
    images, _ = verification_samples(run)
    started = ctx.begin("stability", f"round {k}: neuron stability (IBP) on {images.shape[0]} samples "
                                     f"at eps {run.verify_eps:g}")
    report = stability_report(ctx.model, images, run.verify_eps, crown=STABILITY_CROWN)
    stored = {"eps": run.verify_eps, **report, "seconds": time.perf_counter() - started}
    size = files.save_json(stored, path)
    _emit(ctx, stored)
    run.artifact(k, "stability", path, size)
    ratio = unstable_ratio(stored["layers"])
    ctx.end("stability", f"round {k}: stability in {seconds_text(stored['seconds'])}: "
                         f"{pct_text(ratio)} of neuron-sample pairs unstable")
    return stored


def stability_totals(stored: dict | None) -> dict:
    """The round_finished "unstableRatio" and "instability" of a stored stability phase (None without one)."""
    from ..verify.stability import instability_total, unstable_ratio
    if stored is None:
        return {"unstableRatio": None, "instability": None}
    return {"unstableRatio": unstable_ratio(stored["layers"]), "instability": instability_total(stored["layers"])}
