"""The evaluate phase: standard, adversarial (PGD) and test accuracy of round k (round_<k>/evaluation.json).

    evaluation = phase_evaluate(ctx)     # ctx.model: the shrunk trained network

Standard and adversarial accuracy are measured on the same images (plan.evaluation_sizes),
so adversarial accuracy never exceeds standard accuracy.
"""
from __future__ import annotations

import os
import time

import torch

from .. import paths as files
from ..plan import evaluation_sizes
from ..seeding import seeded
from .context import RoundContext, pct_text, seconds_text

ATTACK_BATCH = 256


def phase_evaluate(ctx: RoundContext) -> dict:
    """Standard and PGD accuracy on the same images (evaluation_sizes), plus clean accuracy on data.testSize."""
    from ..train import evaluate
    run, k, small = ctx.run, ctx.k, ctx.model
    path = run.paths.evaluation(k)
    if os.path.exists(path):
        return files.load_json(path)
    size, test_size, attack = evaluation_sizes(run.config)
    images = run.test_set.subset(size)
    started = ctx.begin("evaluate", f"round {k}: evaluating on {len(images):,} test images"
                                    + (" (clean and PGD)" if attack else ""))
    if attack:
        seeded(run.seed, k, "attack")  # PGD draws its random starts from the global RNG
        standard, adversarial = clean_and_adversarial_accuracy(run, small, images)
    else:
        standard, adversarial = evaluate(small, images), None
    test_images = run.test_set.subset(test_size)
    test_accuracy = standard if len(test_images) == len(images) else evaluate(small, test_images)
    result = {"standardAccuracy": standard, "adversarialAccuracy": adversarial, "evaluationImages": len(images),
              "testAccuracy": test_accuracy, "testImages": len(test_images),
              "seconds": time.perf_counter() - started}
    files.save_json(result, path)
    ctx.end("evaluate", f"round {k}: evaluated in {seconds_text(result['seconds'])}: standard accuracy "
                        f"{pct_text(standard)}, adversarial {pct_text(adversarial)} ({len(images):,} images)")
    return result


@torch.no_grad()
def _clean_correct(model, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    return model(x).argmax(dim=1) == y                                    # (B,) bool


def clean_and_adversarial_accuracy(run, model, dataset) -> tuple:
    """(clean accuracy, PGD accuracy) of ``model`` on the same images of ``dataset``.

    An image counts as robust only if it is classified correctly AND every point PGD tries
    (verification.pgdSteps/Restarts) is too, so PGD accuracy <= clean accuracy by
    construction. The attack's successes are confirmed by a plain forward pass (verify.pgd_attack).
    Misclassified images cannot count as robust, so only the correctly classified ones are
    attacked.
    """
    from .. import verify
    from ..train import batches
    settings = run.config["verification"]
    correct = robust = 0
    for x, y in batches(dataset, ATTACK_BATCH, device=run.device):
        clean = _clean_correct(model, x, y)
        correct += int(clean.sum())
        if not bool(clean.any()):
            continue
        _, success = verify.pgd_attack(model, x[clean], y[clean], run.verify_eps, settings["pgdSteps"],
                                       settings["pgdRestarts"])
        robust += int((~success).sum())
    count = max(len(dataset), 1)
    return correct / count, robust / count
