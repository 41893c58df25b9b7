"""The prune phase: round k's mask, and counting what remains (the round's sparsity).

    mask = phase_prune(ctx, init_state)       # round_<k>/mask.pt (+ prune.json)
    counted = sparsity(layers, scope_names, structured)

Round 0's mask is dense; round k > 0 applies the method to the trained network of its
source round (the previous one, or the dense one for one-shot).
"""
from __future__ import annotations

import os
import time

from .. import paths as files
from ..plan import source_round
from ..pruning import dense_mask, get_method, is_channel_method, layer_report, prunable_layers
from ..pruning.inputs import prune_data, prune_settings
from ..round_model import new_model, trained_model
from ..seeding import seeded
from .context import RoundContext, pct_text, seconds_text


def _share(layers: list) -> tuple[dict, dict]:
    """({remaining, total} weights, {remaining, total} channels) summed over ``layers``."""
    return ({"remaining": sum(l["remainingWeights"] for l in layers), "total": sum(l["weights"] for l in layers)},
            {"remaining": sum(l["remainingChannels"] for l in layers), "total": sum(l["channels"] for l in layers)})


def _ratio(share: dict) -> float:
    return share["remaining"] / share["total"] if share["total"] else 1.0


def sparsity(layers: list, scope_names: set | None, structured: bool) -> dict:
    """What remains of a network, from its layer report (pruning.layer_report's rows).

    scope_names: the layers in the pruning scope (None: every layer, for an uploaded
    model). Returns {"remainingRatio", "remainingChannelRatio" (both of the scope),
    "sparsity": {"scope", "all", "channels" (the scope's; None unless structured)}},
    each share {remaining, total}. An empty scope (an MLP with scope "conv") counts as
    nothing removed: ratios 1.
    """
    in_scope = [l for l in layers if scope_names is None or l["name"] in scope_names]
    scope, channels = _share(in_scope)
    everything, _ = _share(layers)
    return {"remainingRatio": _ratio(scope), "remainingChannelRatio": _ratio(channels),
            "sparsity": {"scope": scope, "all": everything, "channels": channels if structured else None}}


def scope_names(model, scope: str) -> set:
    """Names of the layers ``scope`` prunes in ``model`` (empty when it selects none)."""
    try:
        return {layer.name for layer in prunable_layers(model, scope)}
    except ValueError:      # e.g. an MLP with scope "conv": nothing prunable, nothing removed
        return set()


def mask_sparsity(run, mask: dict) -> tuple[list, dict]:
    """(layer report, sparsity(...)) of an experiment's round, counted from its mask."""
    model = new_model(run)
    layers = layer_report(model, mask)
    structured = run.method is not None and is_channel_method(run.method)
    return layers, sparsity(layers, scope_names(model, run.config["pruning"]["scope"]), structured)


def phase_prune(ctx: RoundContext, init_state: dict) -> dict:
    """Round k's mask: dense for round 0, else the method applied to the source round."""
    run, k = ctx.run, ctx.k
    path = run.paths.mask(k)
    if os.path.exists(path):
        return files.load_torch(path)
    if k == 0:
        started = ctx.begin("prune")
        mask = dense_mask(new_model(run))
    else:
        started = ctx.begin("prune", f"round {k}: pruning with {run.method} to remaining ratio {run.targets[k]:.4f}")
        model, source_mask = trained_model(run, source_round(run.config, k))
        source_mask = {n: m.to(run.device) for n, m in source_mask.items()}
        generator = seeded(run.seed, k, "prune")
        data = prune_data(run.method, run.train_set, run.settings, run.device, init_state, generator,
                          log=lambda message: ctx.log(f"round {k}: {message}", "prune"))
        mask = get_method(run.method)(model, source_mask, prune_settings(run.config, run.targets[k]), data)
        mask = {n: m.detach().cpu() for n, m in mask.items()}
    _, counted = mask_sparsity(run, mask)
    seconds = time.perf_counter() - started
    files.save_json({"method": run.method, "targetRatio": run.targets[k], "remainingRatio": counted["remainingRatio"],
                     "remainingChannelRatio": counted["remainingChannelRatio"], "seconds": seconds},
                    run.paths.prune(k))
    size = files.save_torch(mask, path)
    run.artifact(k, "mask", path, size)
    if k > 0:
        share = counted["sparsity"]
        ctx.end("prune", f"round {k}: pruned in {seconds_text(seconds)}: {pct_text(counted['remainingRatio'])} of the "
                         f"pruned layers' weights remain ({share['scope']['remaining']:,} of "
                         f"{share['scope']['total']:,}), {pct_text(_ratio(share['all']))} of all weights")
    return mask
