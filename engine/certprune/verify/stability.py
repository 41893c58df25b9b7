"""Neuron stability of a network around some inputs (the ``stability`` event's layers).

A ReLU neuron with pre-activation bounds [l, u] over the input box is stable-active
(l >= 0), stable-inactive (u <= 0) or unstable (l < 0 < u); complete verifiers pay for
every unstable one. The instability of a layer is the sum of -l*u over its unstable
neurons (PAPER.md), from IBP bounds.

Counts are summed over the images, so ``neurons`` = layer size x number of images and
unstable / neurons is the unstable ratio; ``instability`` is the mean over images.
Per neuron (``units`` of them, ``samples`` images): ``unstableUnits`` are unstable on at
least one image, and ``unstableFraction`` is the histogram over neurons of the fraction of
images on which each is unstable. Per image: ``unstablePerSample`` (stability_report).
"""
from __future__ import annotations

import time
from typing import Dict, List, Optional

import numpy as np
import torch
from torch import Tensor, nn

from ..bounds.graph import build_graph
from ..bounds.ibp import preactivation_bounds


def relu_layer_names(model: nn.Sequential) -> Dict[int, str]:
    """ReLU index -> name of the conv/linear layer feeding it ("conv1", "fc1", as pruning names them)."""
    names, counts, current = {}, {"conv": 0, "fc": 0}, None
    for index, module in enumerate(model):
        if isinstance(module, (nn.Conv2d, nn.Linear)):
            kind = "conv" if isinstance(module, nn.Conv2d) else "fc"
            counts[kind] += 1
            current = f"{kind}{counts[kind]}"
        elif isinstance(module, nn.ReLU):
            names[index] = current or f"relu{index}"
    return names


def _counts(l: Tensor, u: Tensor) -> dict:
    active = int((l >= 0).sum())
    inactive = int(((u <= 0) & (l < 0)).sum())
    return {"active": active, "inactive": inactive, "unstable": int(l.numel()) - active - inactive}


def _histogram(values: np.ndarray, bins: int) -> dict:
    if values.size == 0:
        counts, edges = np.zeros(bins, dtype=np.int64), np.linspace(0.0, 1.0, bins + 1)
    else:
        lo, hi = float(values.min()), float(values.max())
        if hi <= lo:
            lo, hi = lo - 0.5, hi + 0.5
        counts, edges = np.histogram(values, bins=bins, range=(lo, hi))
    return {"edges": [float(e) for e in edges], "counts": [int(c) for c in counts]}


def _fraction_histogram(counts: Tensor, samples: int, bins: int) -> dict:
    """Histogram over neurons of (images on which each is unstable) / ``samples``.

    counts: (units,) int. With at most ``bins`` images every possible fraction k/samples
    gets a bin of its own (edges halfway between them, clipped to [0, 1]); else ``bins``
    equal bins over [0, 1].
    """
    if samples <= 0:
        return {"edges": [0.0, 1.0], "counts": [0]}
    if samples <= bins:
        edges = np.clip((np.arange(samples + 2) - 0.5) / samples, 0.0, 1.0)
    else:
        edges = np.linspace(0.0, 1.0, bins + 1)
    hist, _ = np.histogram(counts.double().numpy() / samples, bins=edges)
    return {"edges": [float(e) for e in edges], "counts": [int(c) for c in hist]}


def stability_statistics(model: nn.Sequential, images: Tensor, eps: float, crown: bool = True, bins: int = 30,
                         lower: float = 0.0, upper: float = 1.0, batch_size: int = 32,
                         memory_elements: int = 2 ** 25, crown_budget_s: Optional[float] = None) -> List[dict]:
    """The ``layers`` of stability_report (same arguments)."""
    return stability_report(model, images, eps, crown, bins, lower, upper, batch_size, memory_elements,
                            crown_budget_s)["layers"]


def stability_report(model: nn.Sequential, images: Tensor, eps: float, crown: bool = True, bins: int = 30,
                     lower: float = 0.0, upper: float = 1.0, batch_size: int = 32,
                     memory_elements: int = 2 ** 25, crown_budget_s: Optional[float] = None) -> dict:
    """Per-ReLU-layer stability under IBP (and CROWN) bounds for the L-inf ball of radius
    eps around each image (N, *input_shape), clipped to [lower, upper].

    Returns {"layers", "samples": N, "unstablePerSample": (N,) IBP-unstable neurons per image
    over all layers}. layers: [{name, neurons (units x samples), units, samples, unstableUnits,
    unstableFraction: {edges, counts}, ibp: {active, inactive, unstable}, crown: {...} | None,
    instability, histograms: {lower, upper, instability: {edges, counts}}}] per ReLU.
    The histograms of l and u are over every neuron (IBP bounds); the instability
    histogram is over the unstable ones.
    crown_budget_s: give up on the CROWN counts (``crown`` becomes None in every layer)
    once they have taken this many seconds; CROWN costs one backward pass per unstable
    neuron, which is quick on a GPU and can take minutes per image on a CPU.
    """
    model.eval()
    try:
        param = next(model.parameters())
        images = images.to(device=param.device, dtype=param.dtype)
    except StopIteration:
        pass
    names = relu_layer_names(model)
    n = images.shape[0]
    per_layer: Dict[int, dict] = {}
    per_sample = torch.zeros(n, dtype=torch.int64)                     # (N,) unstable neurons per image
    crown_seconds = 0.0
    with torch.no_grad():
        for start in range(0, n, batch_size):
            x = images[start:start + batch_size]
            xl, xu = (x - eps).clamp(lower, upper), (x + eps).clamp(lower, upper)
            graph = build_graph(model, x.shape[1:])
            ibp, _, _ = preactivation_bounds(graph, xl, xu, crown=False)
            refined = None
            if crown:
                started = time.monotonic()
                deadline = None if crown_budget_s is None else started + crown_budget_s - crown_seconds
                refined = preactivation_bounds(graph, xl, xu, crown=True, memory_elements=memory_elements,
                                               deadline=deadline)[0]
                crown_seconds += time.monotonic() - started
                if deadline is not None and time.monotonic() > deadline:
                    crown, refined = False, None  # incomplete counts would mislead: drop them all
                    for entry in per_layer.values():
                        entry["crown"] = []
            for p, (l, u) in ibp.items():
                entry = per_layer.setdefault(p, {"l": [], "u": [], "crown": [], "neurons": 0, "inst": 0.0,
                                                 "index": graph.ops[p].index, "per_unit": 0})
                unstable = (l < 0) & (u > 0)
                flat = unstable.reshape(unstable.shape[0], -1).cpu()            # (B, units)
                entry["per_unit"] = entry["per_unit"] + flat.sum(dim=0)          # (units,) images unstable on
                per_sample[start:start + flat.shape[0]] += flat.sum(dim=1)
                entry["l"].append(l.flatten().cpu())
                entry["u"].append(u.flatten().cpu())
                entry["neurons"] += int(l.numel())
                entry["inst"] += float((-l * u)[unstable].sum())
                if refined is not None:
                    cl, cu = refined[p]
                    entry["crown"].append(_counts(cl, cu))
    layers = []
    for p in sorted(per_layer):
        entry = per_layer[p]
        l, u = torch.cat(entry["l"]), torch.cat(entry["u"])
        unstable = (l < 0) & (u > 0)
        crown_counts = None
        if crown:
            crown_counts = {k: sum(c[k] for c in entry["crown"]) for k in ("active", "inactive", "unstable")}
        per_unit = entry["per_unit"]
        layers.append({
            "name": names.get(entry["index"], f"relu{entry['index']}"),
            "neurons": entry["neurons"],
            "units": int(per_unit.numel()),
            "samples": int(n),
            "unstableUnits": int((per_unit > 0).sum()),
            "unstableFraction": _fraction_histogram(per_unit, int(n), bins),
            "ibp": _counts(l, u),
            "crown": crown_counts,
            "instability": entry["inst"] / max(n, 1),
            "histograms": {
                "lower": _histogram(l.double().numpy(), bins),
                "upper": _histogram(u.double().numpy(), bins),
                "instability": _histogram((-l * u)[unstable].double().numpy(), bins),
            },
        })
    return {"layers": layers, "samples": int(n), "unstablePerSample": [int(v) for v in per_sample.tolist()]}


def unstable_ratio(layers: List[dict], method: str = "ibp") -> Optional[float]:
    """Unstable neurons / neurons over all layers (method 'ibp' or 'crown')."""
    neurons = sum(layer["neurons"] for layer in layers)
    if not neurons or any(layer[method] is None for layer in layers):
        return None
    return sum(layer[method]["unstable"] for layer in layers) / neurons


def instability_total(layers: List[dict]) -> float:
    """The network's instability (sum over layers of -l*u over unstable neurons, per image)."""
    return float(sum(layer["instability"] for layer in layers))
