"""Verify classifier robustness sample by sample (verified accuracy).

    results = verify_samples(model, images, labels, eps=0.1, mode="bab", timeout=300)
    summarize(results)["verifiedAccuracy"]

Per sample, in the field's order: a misclassified clean input is not verified; a PGD
counterexample falsifies; IBP / CROWN / alpha-CROWN may verify; branch and bound decides
the rest (mode 'bab') or the sample stays 'unknown' (incomplete modes).
"""
from __future__ import annotations

import math
import time
from typing import Callable, List, Optional

import torch
from torch import Tensor, nn

from ..bounds.spec import margin_spec
from .property import MODES, Clause, VerifySettings, verify_box
from .result import SampleResult


def robustness_clauses(label: int, num_classes: int, like: Tensor) -> List[Clause]:
    """One clause per other class j: logit_label - logit_j <= 0 is a violation."""
    rows = margin_spec(torch.tensor([label], device=like.device), num_classes, dtype=like.dtype)[0]
    zero = like.new_zeros(1)
    return [Clause(rows[i:i + 1], zero) for i in range(rows.shape[0])]


def verify_sample(model: nn.Module, image: Tensor, label: int, eps: float, mode: str = "bab",
                  timeout: float = 300.0, index: int = 0, settings: Optional[VerifySettings] = None,
                  lower: float = 0.0, upper: float = 1.0) -> SampleResult:
    """Verify one image (*input_shape) with label against L-inf eps (clipped to [lower, upper])."""
    started = time.monotonic()
    deadline = started + timeout if timeout is not None else math.inf
    model.eval()
    x = image.unsqueeze(0)
    with torch.no_grad():
        logits = model(x)[0]
    predicted = int(logits.argmax())
    num_classes = int(logits.shape[0])
    # Robust means every margin is > 0, so the true class must win strictly at x itself.
    others = torch.cat([logits[:label], logits[label + 1:]])
    if predicted != int(label) or (others.numel() and bool((logits[label] <= others).any())):
        return SampleResult(index, int(label), predicted, "misclassified", "clean", time.monotonic() - started)
    x_lower = (x - eps).clamp(lower, upper)
    x_upper = (x + eps).clamp(lower, upper)
    outcome = verify_box(model, x_lower, x_upper, robustness_clauses(int(label), num_classes, x), mode,
                         deadline, start=x, settings=settings)
    return SampleResult(index, int(label), predicted, outcome.status, outcome.decided_by,
                        time.monotonic() - started, outcome.margin_lower, outcome.domains, outcome.counterexample,
                        outcome.bab_seconds, outcome.final_margin_lower)


def verify_samples(model: nn.Module, images: Tensor, labels: Tensor, eps: float, mode: str = "bab",
                   timeout: float = 300.0, pgd_steps: int = 100, pgd_restarts: int = 30,
                   on_result: Optional[Callable[[SampleResult], None]] = None,
                   settings: Optional[VerifySettings] = None, first_index: int = 0) -> List[SampleResult]:
    """Verify each image (N, *input_shape) with its label (N,); returns one result per sample.

    mode: 'ibp' | 'crown' | 'alpha-crown' (incomplete) | 'bab' (complete).
    timeout: seconds per sample. on_result(result) is called as each sample is decided.
    The images are moved to the model's device; index counts from ``first_index``.
    """
    if mode not in MODES:
        raise ValueError(f"unknown verification mode {mode!r}; choose one of {', '.join(MODES)}")
    settings = settings or VerifySettings()
    settings.pgd_steps, settings.pgd_restarts = int(pgd_steps), int(pgd_restarts)
    try:
        param = next(model.parameters())
        device, dtype = param.device, param.dtype
    except StopIteration:
        device, dtype = images.device, images.dtype
    results = []
    for i in range(images.shape[0]):
        image = images[i].to(device=device, dtype=dtype)
        result = verify_sample(model, image, int(labels[i]), eps, mode, timeout, first_index + i, settings)
        results.append(result)
        if on_result is not None:
            on_result(result)
    return results
