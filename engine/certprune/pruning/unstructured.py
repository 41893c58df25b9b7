"""Unstructured (weight) pruning: Random, IMP, SNIP and Taylor.

Each is a pure function (model, mask, settings, data) -> new mask that scores every
surviving weight of the scope's layers and keeps the top ``target_ratio`` of the
original count globally (select.keep_top_weights). Inputs are never modified.

Loss choice (SNIP and Taylor): the regime's own training loss at the full training
eps (``PruneData.loss``), i.e. robust loss under FGSM/IBP/CROWN-IBP and
cross-entropy under natural training, summed over ``PruneData.batches``. The paper
prunes for certified robustness, so saliency is measured on the loss that is trained.
"""
from __future__ import annotations

import copy

import torch
from torch import nn

from .context import PruneData, PruneSettings
from .layers import prunable_layers
from .masks import Mask, apply_mask
from .method import PruningMethod
from .select import keep_top_weights


def _weights(model: nn.Sequential, scope: str) -> dict:
    """{weight name: parameter} of the prunable layers."""
    params = dict(model.named_parameters())
    return {l.weight_name: params[l.weight_name] for l in prunable_layers(model, scope)}


def prune_random(model: nn.Sequential, mask: Mask, settings: PruneSettings, data: PruneData) -> Mask:
    """Keep a uniformly random subset of the surviving weights (the paper's control).

    Scores are i.i.d. uniform from ``data.generator`` (or the global RNG when None).
    """
    scores = {}
    for name, weight in _weights(model, settings.scope).items():
        scores[name] = torch.rand(weight.shape, generator=data.generator)  # (same shape), on the CPU
    return keep_top_weights(model, mask, scores, settings.scope, settings.target_ratio)


def prune_imp(model: nn.Sequential, mask: Mask, settings: PruneSettings, data: PruneData) -> Mask:
    """Iterative magnitude pruning: keep the largest |w| of the trained weights."""
    scores = {name: w.detach().abs() for name, w in _weights(model, settings.scope).items()}
    return keep_top_weights(model, mask, scores, settings.scope, settings.target_ratio)


def saliency(model: nn.Sequential, mask: Mask, scope: str, data: PruneData, method: str) -> dict:
    """{weight name: |w * dL/dw|} of a masked copy of ``model``, gradients summed over data.batches."""
    batches = data.need("batches", method)
    loss_fn = data.need("loss", method)
    work = copy.deepcopy(model)
    apply_mask(work, mask)
    work.train()
    work.zero_grad(set_to_none=True)
    for x, y in batches:
        loss_fn(work, x, y).backward()
    weights = _weights(work, scope)
    scores = {}
    for name, w in weights.items():
        grad = w.grad if w.grad is not None else torch.zeros_like(w)
        scores[name] = (w.detach() * grad).abs()
    return scores


def prune_snip(model: nn.Sequential, mask: Mask, settings: PruneSettings, data: PruneData) -> Mask:
    """SNIP (Lee et al. 2019): connection sensitivity |dL/dm| = |w * dL/dw| AT INITIALISATION.

    Our choice, following SNIP: the scores use the initial weights (``data.init_state``)
    with the current mask applied, not the trained ones; in iterative runs this ranks
    the surviving connections of the rewound network. BatchNorm runs in training mode
    (batch statistics), as at the start of training.
    """
    init_state = data.need("init_state", "snip")
    at_init = copy.deepcopy(model)
    at_init.load_state_dict(init_state)
    scores = saliency(at_init, mask, settings.scope, data, "snip")
    return keep_top_weights(model, mask, scores, settings.scope, settings.target_ratio)


def prune_taylor(model: nn.Sequential, mask: Mask, settings: PruneSettings, data: PruneData) -> Mask:
    """Taylor (Molchanov et al. 2019): first-order loss change |w * dL/dw| at the TRAINED weights."""
    scores = saliency(model, mask, settings.scope, data, "taylor")
    return keep_top_weights(model, mask, scores, settings.scope, settings.target_ratio)


# --- the records (registry.py lists them) ---------------------------------------------

RANDOM = PruningMethod(
    name="random", label="Random", prune=prune_random, unit="weights", needs=frozenset({"generator"}),
    help="Removes surviving weights uniformly at random (a baseline).")
IMP = PruningMethod(
    name="imp", label="IMP", prune=prune_imp, unit="weights",
    help="Iterative magnitude pruning: removes the smallest trained weights globally.")
SNIP = PruningMethod(
    name="snip", label="SNIP", prune=prune_snip, unit="weights", needs=frozenset({"batches", "loss", "init_state"}),
    help="Connection sensitivity |w * dL/dw| of the initial weights on the regime's loss.")
TAYLOR = PruningMethod(
    name="taylor", label="Taylor", prune=prune_taylor, unit="weights", needs=frozenset({"batches", "loss"}),
    help="First-order Taylor importance |w * dL/dw| of the trained weights on the regime's loss.")
