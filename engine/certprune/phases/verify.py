"""The verify phase: each verification sample's outcome (round_<k>/verification.json).

    stored = phase_verify(ctx)    # ctx.model: the network to verify; None without verification

Samples are decided one at a time, each from its own seed, and appended to
verification.partial.jsonl as they finish, so a stopped run continues from the last
decided sample. verification_samples.json (once per run) holds the images themselves,
for the server's audit.
"""
from __future__ import annotations

import os

import torch

from .. import paths as files
from ..run_setup import verification_samples
from ..seeding import seeded
from .context import RoundContext, pct_text, seconds_text

STATUSES = ("verified", "falsified", "unknown", "misclassified")


def sample_event(record: dict) -> dict:
    """The sample_verified fields of a stored per-sample record (counterexamples stay in the files)."""
    return {key: value for key, value in record.items() if key != "counterexample"}


def flat_counterexample(point) -> list | None:
    """A counterexample (*input_shape) as a flat NCHW list of floats, for the server's audit; None stays None."""
    if point is None:
        return None
    return [float(v) for v in point.detach().reshape(-1).cpu().tolist()]


def write_verification_samples(run_dir: str, images: torch.Tensor, labels: torch.Tensor, eps: float) -> None:
    """<run dir>/verification_samples.json, once: the images the verifier saw, so that the
    server can recompute clean accuracy and replay counterexamples with another runtime.

    images (N, C, H, W) in [0, 1]; labels (N,). Indices are positions in the test set.
    """
    path = os.path.join(run_dir, "verification_samples.json")
    if os.path.exists(path):
        return
    flat = images.detach().reshape(images.shape[0], -1).cpu()
    files.save_json({"eps": float(eps), "shape": [int(s) for s in images.shape[1:]],
                     "indices": list(range(int(images.shape[0]))), "labels": [int(v) for v in labels.cpu().tolist()],
                     "images": [[float(v) for v in row] for row in flat.tolist()]}, path)


def read_verification_samples(run_dir: str) -> tuple[torch.Tensor, torch.Tensor, float]:
    """(images (N, C, H, W), labels (N,), eps) from <run dir>/verification_samples.json."""
    stored = files.load_json(os.path.join(run_dir, "verification_samples.json"))
    images = torch.tensor(stored["images"], dtype=torch.float32).reshape(-1, *stored["shape"])
    return images, torch.tensor(stored["labels"], dtype=torch.long), float(stored["eps"])


def verify_sample(model, images: torch.Tensor, labels: torch.Tensor, index: int, eps: float, settings: dict,
                  seed: int, k: int):
    """Sample ``index``'s outcome under the verification settings (mode, timeout, pgdSteps,
    pgdRestarts), from its own seed: the same draw in round k whenever it is re-run."""
    from .. import verify
    seeded(seed, k, f"verify/{index}")
    return verify.verify_samples(model, images[index:index + 1], labels[index:index + 1], eps, settings["mode"],
                                 settings["timeout"], settings["pgdSteps"], settings["pgdRestarts"],
                                 first_index=index)[0]


def verification_totals(results: list) -> dict:
    """Counts per status, verified accuracy and mean seconds of sample_verified records."""
    counts = {status: sum(1 for r in results if r["status"] == status) for status in STATUSES}
    samples = len(results)
    return {**counts, "samples": samples,
            "verifiedAccuracy": counts["verified"] / samples if samples else None,
            "meanVerifySeconds": sum(r["seconds"] for r in results) / samples if samples else None,
            "seconds": sum(r["seconds"] for r in results)}


def verdicts(stored: dict | None) -> dict:
    """{sample index: verified?} of a stored verification phase ({} without one)."""
    return {int(r["index"]): r["status"] == "verified" for r in (stored or {}).get("results", [])}


def _decided(partial: str) -> list:
    """The records a stopped run already decided: the leading run of indices 0, 1, 2, ..."""
    results = []
    for record in files.read_jsonl(partial):
        if record.get("index") != len(results):
            break
        results.append(record)
    return results


def phase_verify(ctx: RoundContext) -> dict | None:
    """Verify each sample (verification.mode); per-sample results are kept as they finish."""
    run, k, model = ctx.run, ctx.k, ctx.model
    settings = run.config["verification"]
    if not run.verifies:
        return None
    path, partial = run.paths.verification(k), run.paths.verification_partial(k)
    images, labels = verification_samples(run)
    write_verification_samples(run.paths.root, images, labels, run.verify_eps)
    if os.path.exists(path):
        stored = files.load_json(path)
        for record in stored["results"]:
            run.emit("sample_verified", **sample_event(record))
        return stored
    total = int(images.shape[0])
    ctx.begin("verify", f"round {k}: verifying {total} samples at eps {run.verify_eps:g} "
                        f"({settings['mode']}, at most {settings['timeout']:g} s each)")
    results = _decided(partial)
    for record in results:
        run.emit("sample_verified", **sample_event(record))
    report = ctx.progress("verify")
    for index in range(len(results), total):
        outcome = verify_sample(model, images, labels, index, run.verify_eps, settings, run.seed, k)
        event = {"round": k, **outcome.to_event()}
        record = {**event, "counterexample": flat_counterexample(outcome.counterexample)}
        files.append_jsonl(record, partial)
        run.emit("sample_verified", **event)
        results.append(record)
        report(index + 1, total)
    totals = verification_totals(results)
    stored = {"eps": run.verify_eps, "mode": settings["mode"], **totals, "results": results}
    size = files.save_json(stored, path)
    if os.path.exists(partial):
        os.remove(partial)
    run.artifact(k, "verification", path, size)
    ctx.end("verify", f"round {k}: verified {totals['verified']} of {total} samples "
                      f"({pct_text(totals['verifiedAccuracy'])}) in {seconds_text(totals['seconds'])}: "
                      f"{totals['falsified']} falsified, {totals['unknown']} unknown, "
                      f"{totals['misclassified']} misclassified")
    return stored
