"""What the training loop measures: clean, FGSM and quickly-verified accuracy of a model.

    accuracy = evaluate(model, test_ds)                       # fraction in [0, 1]
    robust = fgsm_accuracy(model, test_ds, eps=0.1)           # FGSM from a random start
    verified = verified_accuracy(model, test_ds, 0.1, "ibp")   # incomplete bounds only
"""
from __future__ import annotations

import torch
from torch import nn

from .batches import batches
from .losses import fgsm_example

EVAL_BATCH = 512


def model_device(model: nn.Module) -> torch.device:
    tensor = next(model.parameters(), None)
    return tensor.device if tensor is not None else torch.device("cpu")


@torch.no_grad()
def evaluate(model: nn.Module, dataset, batch_size: int = EVAL_BATCH, device=None) -> float:
    """Clean accuracy (fraction) of the eval-mode model on ``dataset``."""
    device = model_device(model) if device is None else torch.device(device)
    was_training = model.training
    model.eval()
    correct = 0
    for x, y in batches(dataset, batch_size, device=device):
        correct += int((model(x).argmax(1) == y).sum())
    model.train(was_training)
    return correct / max(len(dataset), 1)


def fgsm_accuracy(model: nn.Module, dataset, eps: float, step: float = 1.25,
                  batch_size: int = EVAL_BATCH, generator: torch.Generator | None = None) -> float:
    """Accuracy under FGSM from a random start (step = step*eps) with the eval-mode model."""
    device = model_device(model)
    was_training = model.training
    model.eval()
    correct = 0
    for x, y in batches(dataset, batch_size, device=device):
        x_adv, _ = fgsm_example(model, x, y, eps, step * eps, generator)
        with torch.no_grad():
            correct += int((model(x_adv).argmax(1) == y).sum())
    model.train(was_training)
    return correct / max(len(dataset), 1)


@torch.no_grad()
def verified_accuracy(model: nn.Module, dataset, eps: float, method: str = "ibp",
                      batch_size: int = EVAL_BATCH) -> float:
    """Fraction of samples that are correctly classified and whose every margin lower bound
    (``method``: "ibp", "crown-ibp" or "crown", eval-mode model) is > 0 on the box
    x +- eps clipped to [0, 1]. A quick incomplete check; certprune.verify does the full job."""
    from ..bounds import compute_bounds, margin_spec
    device = model_device(model)
    was_training = model.training
    model.eval()
    verified = 0
    for x, y in batches(dataset, batch_size, device=device):
        logits = model(x)
        result = compute_bounds(model, (x - eps).clamp(0.0, 1.0), (x + eps).clamp(0.0, 1.0), method=method,
                                spec=margin_spec(y, logits.shape[1]), bound_upper=False)
        correct = logits.argmax(1) == y
        verified += int(((result.lower > 0).all(dim=1) & correct).sum())
    model.train(was_training)
    return verified / max(len(dataset), 1)
