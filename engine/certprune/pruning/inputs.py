"""From a run's configuration to a method's PruneSettings and PruneData.

The runner calls ``prune_settings`` and ``prune_data`` once per pruning step; they
prepare only what the method's record needs (PruningMethod.needs), so cheap methods
stay cheap, and take the regime's facts (HYDRA's learning rate, the loss) from its record.
"""
from __future__ import annotations

import torch

from .context import PruneData, PruneSettings
from .registry import get_method

# Training batches scored by SNIP, Taylor and NRS-channel (4 x batchSize samples).
SCORE_BATCHES = 4


def hydra_milestones(epochs: int) -> tuple:
    """lr x0.1 at half and three quarters of the score training (10 and 15 of 20 epochs)."""
    return (max(1, round(epochs * 0.5)), max(1, round(epochs * 0.75)))


def prune_settings(config: dict, target_ratio: float) -> PruneSettings:
    """The method's settings from a full config (protocol.load_config filled every default).
    HYDRA's score learning rate is the regime's (0.01 under natural/FGSM, 0.001 under IBP/CROWN-IBP)."""
    from ..train.regimes import get_regime
    pruning = config["pruning"]
    epochs = int(pruning["hydraEpochs"])
    return PruneSettings(target_ratio=target_ratio, scope=pruning["scope"], hydra_epochs=epochs,
                         hydra_lr=get_regime(config["training"]["regime"]).hydra_lr,
                         hydra_milestones=hydra_milestones(epochs))


def _relu_bounds(model, x, eps):
    """IBP bounds of every ReLU input of ``model`` on the box x +- eps clipped to [0, 1]."""
    from ..bounds import compute_bounds
    lower, upper = (x - eps).clamp(0.0, 1.0), (x + eps).clamp(0.0, 1.0)
    return compute_bounds(model, lower, upper, method="ibp", clean_input=x).preactivations


def prune_data(method: str, train_ds, settings, device: torch.device, init_state: dict | None,
               generator: torch.Generator, log=lambda message: None) -> PruneData:
    """PruneData for ``method`` from the training set and the regime's TrainingSettings.

    The loss is the regime's batch loss (regulariser included) at the full training eps.
    Score batches are the first SCORE_BATCHES shuffled, un-augmented training batches.
    """
    from ..train import batch_loss, batches
    needs = get_method(method).needs
    data = PruneData(eps=settings.eps, generator=generator, log=log)
    if "batches" in needs:
        stream = batches(train_ds, settings.batch_size, shuffle=True, generator=generator, device=device)
        data.batches = [b for _, b in zip(range(SCORE_BATCHES), stream)]
    if "loss" in needs:
        data.loss = lambda model, x, y: batch_loss(model, x, y, settings.eps, settings, eps_max=settings.eps,
                                                   generator=generator)[0]
    if "epoch_batches" in needs:
        data.epoch_batches = lambda: batches(train_ds, settings.batch_size, shuffle=True, augment=settings.augment,
                                             generator=generator, device=device, drop_last=True)
    if "init_state" in needs:
        data.init_state = init_state
    if "relu_bounds" in needs:
        data.relu_bounds = _relu_bounds
    return data
