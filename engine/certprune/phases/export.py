"""The export phase: the round's network as ONNX (round_<k>/model.onnx), for the audit and VNN-COMP bundles.

    phase_export(ctx)            # a trained round: the shrunk network, exported
    copy_uploaded_model(ctx)     # an uploaded model: the file itself, byte for byte
"""
from __future__ import annotations

import os

from .. import paths as files
from .context import RoundContext


def phase_export(ctx: RoundContext) -> None:
    """The (shrunk) trained network as ONNX; skipped without verification (nothing to audit)."""
    from ..onnx_io import export_onnx
    run, k = ctx.run, ctx.k
    path = run.paths.onnx(k)
    if os.path.exists(path) or not run.verifies:
        return
    ctx.begin("export", f"round {k}: exporting the network as ONNX")
    tmp = os.path.join(os.path.dirname(path), ".model.onnx.tmp")     # renamed once complete
    export_onnx(ctx.model, tuple(run.info.input_shape), tmp)
    os.replace(tmp, path)
    run.artifact(k, "onnx", path, os.path.getsize(path))
    ctx.end("export", f"round {k}: exported the network as ONNX ({os.path.getsize(path):,} bytes)")


def copy_uploaded_model(ctx: RoundContext) -> None:
    """The uploaded ONNX file as round_0/model.onnx (the audit replays it with another runtime)."""
    run, k = ctx.run, ctx.k
    path = run.paths.onnx(k)
    if os.path.exists(path):
        return
    ctx.begin("export")
    run.artifact(k, "onnx", path, files.copy_file(run.config["model"]["onnx"], path))
