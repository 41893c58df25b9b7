"""The training loop: epochs of batches, evaluation, checkpoint choice.

    result = train(model, train_ds, test_ds, settings, masks=None, on_epoch=print,
                   device="auto", generator=torch.Generator().manual_seed(0))
    model.load_state_dict(result.state_dict)   # (train already leaves the model there)
"""
from __future__ import annotations

import time
from functools import partial
from dataclasses import dataclass, field
from typing import Callable, Mapping

import torch
from torch import nn

from .batches import batches, num_batches
from ..device import resolve_device, tune_cpu_allocator
from .metrics import evaluate, model_device as _model_device
from .objective import batch_loss
from .optim import apply_masks, make_optimizer, mask_gradients, set_lr
from .regimes import get_regime
from .schedule import eps_at, lr_at

# Keep a dataset on the GPU when it is smaller than this (uint8 bytes): no per-batch copies.
GPU_RESIDENT_BYTES = 4 << 30


@dataclass
class TrainResult:
    """state_dict: the chosen checkpoint (CPU tensors); best_epoch: its 1-based epoch;
    history: one dict per epoch (the 'epoch' event fields, plus the regime's checkpoint
    metric, e.g. fgsmTestAccuracy for FGSM)."""
    state_dict: dict
    best_epoch: int
    history: list = field(default_factory=list)


def _noise_generator(generator: torch.Generator | None, device: torch.device):
    """A generator on ``device`` seeded from ``generator`` (CUDA noise without CPU copies)."""
    if generator is None or device.type == "cpu":
        return generator
    seed = int(torch.randint(0, 2 ** 62, (1,), generator=generator))
    return torch.Generator(device=device).manual_seed(seed)


def train_epoch(model: nn.Module, dataset, optimizer: torch.optim.Optimizer, settings, epoch: int,
                eps_max: float | None = None, masks: Mapping[str, torch.Tensor] | None = None,
                generator: torch.Generator | None = None, noise_generator: torch.Generator | None = None,
                max_batches: int | None = None, on_batch: Callable[[int, int], None] | None = None) -> dict:
    """One epoch (1-based ``epoch``) of the regime's training; eps follows the ramp per batch.

    Each step: loss.backward, zero pruned weights' grads, clip the gradient norm, step, then
    re-apply the masks. Returns {"loss", "trainAccuracy", "robustAccuracy" (None for
    natural), "eps" (at the last batch), "batches"}.
    max_batches: stop early (for timing); the eps ramp still uses the full epoch's length.
    on_batch(done, total): called after every batch (done = batches of this epoch so far,
    total = batches this epoch will run), e.g. for progress events within the epoch.
    """
    device = _model_device(model)
    if device.type == "cpu":
        tune_cpu_allocator()
    eps_max = settings.eps if eps_max is None else eps_max
    model.train()
    total = num_batches(dataset, settings.batch_size)
    planned = total if max_batches is None else min(total, max_batches)
    sums = {"loss": 0.0, "count": 0, "correct": 0, "robust_correct": 0}
    has_robust = get_regime(settings.regime).robust_accuracy
    eps = 0.0
    done = 0
    for index, (x, y) in enumerate(batches(dataset, settings.batch_size, shuffle=True,
                                           augment=settings.augment, generator=generator, device=device)):
        if max_batches is not None and index >= max_batches:
            break
        if y.numel() < 2:  # BatchNorm cannot normalise a batch of one
            if on_batch is not None:
                on_batch(index + 1, planned)
            continue
        eps = eps_at(epoch - 1 + (index + 1) / total, settings, eps_max)
        loss, stats = batch_loss(model, x, y, eps, settings, eps_max=eps_max,
                                 generator=noise_generator if noise_generator is not None else generator)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        mask_gradients(model, masks)
        if settings.grad_clip and settings.grad_clip > 0:
            torch.nn.utils.clip_grad_norm_(model.parameters(), settings.grad_clip)
        optimizer.step()
        apply_masks(model, masks)
        count = stats["count"]
        sums["loss"] += float(loss.detach()) * count
        sums["count"] += count
        sums["correct"] += stats["correct"]
        if has_robust:
            sums["robust_correct"] += stats["robust_correct"]
        done += 1
        if on_batch is not None:
            on_batch(index + 1, planned)
    count = max(sums["count"], 1)
    return {"loss": sums["loss"] / count, "trainAccuracy": sums["correct"] / count,
            "robustAccuracy": sums["robust_correct"] / count if has_robust else None,
            "eps": eps, "batches": done}


def _maybe_resident(dataset, device: torch.device):
    if device.type != "cpu" and dataset.pixels.element_size() * dataset.pixels.numel() < GPU_RESIDENT_BYTES:
        return dataset.to(device)
    return dataset


def train(model: nn.Module, train_ds, test_ds, settings, masks: Mapping[str, torch.Tensor] | None = None,
          on_epoch: Callable[[dict], None] | None = None, device="auto",
          generator: torch.Generator | None = None, epochs: int | None = None,
          on_batch: Callable[[int, int, int], None] | None = None) -> TrainResult:
    """Train ``model`` in place under ``settings`` (a TrainingSettings) for settings.epochs.

    Fresh optimizer; lr steps down at settings.lr_milestones; eps ramps per batch.
    masks: {param name: 0/1 tensor}; pruned weights stay exactly zero throughout.
    on_epoch: called after every epoch with the 'epoch' event fields (epoch, epochs, loss,
    trainAccuracy, testAccuracy, robustAccuracy, eps, lr, seconds); the caller adds round.
    Checkpoint: the regime's ``checkpoint`` rule (FGSM: the epoch with the best FGSM test
    accuracy at settings.eps); the last epoch for regimes without one. The model is left holding the chosen checkpoint.
    generator: CPU generator for shuffling, augmentation and attack noise (seeded runs
    repeat exactly on CPU). epochs: override settings.epochs (e.g. for a short run).
    on_batch(epoch, done, total): called after every batch of every epoch (progress).
    """
    device = resolve_device(device)
    model.to(device)
    generator = generator if generator is not None else torch.Generator().manual_seed(0)
    noise_generator = _noise_generator(generator, device)
    train_ds = _maybe_resident(train_ds, device)
    test_ds = _maybe_resident(test_ds, device) if test_ds is not None else None
    if masks:
        masks = {name: mask.to(device) for name, mask in masks.items()}
    apply_masks(model, masks)
    optimizer = make_optimizer(model.parameters(), settings)
    epochs = settings.epochs if epochs is None else epochs
    history: list[dict] = []
    best_score, best_epoch, best_state = None, epochs, None
    for epoch in range(1, epochs + 1):
        started = time.perf_counter()
        lr = lr_at(epoch, settings)
        set_lr(optimizer, lr)
        stats = train_epoch(model, train_ds, optimizer, settings, epoch, settings.eps, masks,
                            generator, noise_generator,
                            on_batch=None if on_batch is None else partial(on_batch, epoch))
        test_accuracy = evaluate(model, test_ds) if test_ds is not None and len(test_ds) else None
        record = {"epoch": epoch, "epochs": epochs, "loss": stats["loss"],
                  "trainAccuracy": stats["trainAccuracy"], "testAccuracy": test_accuracy,
                  "robustAccuracy": stats["robustAccuracy"], "eps": stats["eps"], "lr": lr}
        checkpoint = get_regime(settings.regime).checkpoint
        history_extra = {}
        if checkpoint is not None and test_ds is not None and len(test_ds):
            score = checkpoint.score(model, test_ds, settings, noise_generator)
            if best_score is None or score > best_score:
                best_score, best_epoch = score, epoch
                best_state = {k: v.detach().to("cpu", copy=True) for k, v in model.state_dict().items()}
            history_extra = {checkpoint.metric: score}
        record["seconds"] = time.perf_counter() - started
        history.append({**record, **history_extra})
        if on_epoch is not None:
            on_epoch(dict(record))
    if best_state is None:
        best_epoch = epochs
        best_state = {k: v.detach().to("cpu", copy=True) for k, v in model.state_dict().items()}
    else:
        model.load_state_dict(best_state)
    return TrainResult(state_dict=best_state, best_epoch=best_epoch, history=history)
