"""HYDRA (Sehwag et al. 2020): learn which weights to keep under the robust loss.

Every surviving prunable weight w gets a score s. The network computes with
w * m(s), where m(s) keeps the top-k scores globally (k = the schedule's target
count) and zeroes the rest. Weights are frozen; only scores train, by Adam on the
regime's loss (``PruneData.loss``: robust loss at the full eps), with the
straight-through estimator: dL/ds = dL/d(w*m) * w (the top-k step passes gradients
as if it were the identity). Scores start at |w| (so the first top-k is the IMP
mask); lr x0.1 at each milestone epoch. The result keeps the top-k learned scores.

Implementation: rather than re-parametrising the model, each step writes
w_frozen * m into the weight, takes dL/dw_eff from an ordinary backward pass and
turns it into the score gradient. Any loss that reads ``module.weight`` (plain
forward, IBP, CROWN-IBP) works unchanged.
"""
from __future__ import annotations

import copy

import torch
from torch import nn

from .context import PruneData, PruneSettings
from .layers import prunable_layers
from .masks import Mask, apply_mask
from .method import PruningMethod
from .select import keep_top_weights, target_count


def _top_k_masks(scores: dict, alive: dict, keep: int) -> dict:
    """{name: 0/1 mask} keeping the ``keep`` highest scores among alive entries, globally."""
    names = list(scores)
    flat = torch.cat([scores[n].detach().reshape(-1)[alive[n].reshape(-1)] for n in names])  # (R,)
    keep = min(keep, flat.numel())
    masks = {}
    if keep == 0:
        return {n: torch.zeros_like(scores[n]) for n in names}
    threshold = torch.topk(flat, keep, sorted=True).values[-1]
    for n in names:
        masks[n] = ((scores[n].detach() >= threshold) & alive[n]).to(scores[n].dtype)
    return masks


def prune_hydra(model: nn.Sequential, mask: Mask, settings: PruneSettings, data: PruneData) -> Mask:
    """HYDRA: train scores for ``settings.hydra_epochs`` epochs, keep the top ``target_ratio``."""
    loss_fn = data.need("loss", "hydra")
    epoch_batches = data.need("epoch_batches", "hydra")
    work = copy.deepcopy(model)
    apply_mask(work, mask)
    work.train()
    layers = prunable_layers(work, settings.scope)
    params = dict(work.named_parameters())
    names = [l.weight_name for l in layers]
    frozen = {n: params[n].detach().clone() for n in names}                 # trained weights, masked
    alive = {n: mask[n].to(frozen[n].device) > 0 for n in names}
    scores = {n: frozen[n].abs().clone().requires_grad_(True) for n in names}
    for p in work.parameters():
        p.requires_grad_(False)
    for n in names:
        params[n].requires_grad_(True)
    total = sum(mask[n].numel() for n in names)
    keep = target_count(total, settings.target_ratio)
    optimizer = torch.optim.Adam(list(scores.values()), lr=settings.hydra_lr)
    scheduler = torch.optim.lr_scheduler.MultiStepLR(optimizer, list(settings.hydra_milestones), gamma=0.1)
    for epoch in range(1, settings.hydra_epochs + 1):
        total_loss, batches = 0.0, 0
        for x, y in epoch_batches():
            top = _top_k_masks(scores, alive, keep)
            with torch.no_grad():
                for n in names:
                    params[n].copy_(frozen[n] * top[n])
            _clear_grads(params, names)
            loss = loss_fn(work, x, y)
            loss.backward()
            optimizer.zero_grad(set_to_none=True)
            for n in names:
                grad = params[n].grad if params[n].grad is not None else torch.zeros_like(frozen[n])
                scores[n].grad = grad * frozen[n]                            # straight-through top-k
            optimizer.step()
            total_loss += float(loss.detach())
            batches += 1
        scheduler.step()
        data.log(f"hydra epoch {epoch}/{settings.hydra_epochs}: score loss {total_loss / max(batches, 1):.4f}")
    learned = {n: scores[n].detach() for n in names}
    return keep_top_weights(model, mask, learned, settings.scope, settings.target_ratio)


def _clear_grads(params: dict, names: list) -> None:
    for n in names:
        params[n].grad = None


HYDRA = PruningMethod(
    name="hydra", label="HYDRA", prune=prune_hydra, unit="weights", needs=frozenset({"epoch_batches", "loss"}),
    help="Learns an importance score per weight on the regime's robust loss (Adam, hydraEpochs epochs), keeps "
         "the top scores.")
