"""The round-by-round experiment: train, evaluate, verify, prune, rewind; resumable.

    summary = run_experiment(config, out_dir, emit)        # emit(type, **fields) writes one event

Round 0 trains the dense network from the initial weights. Each later round prunes
what the previous round trained (pruning.method, a fraction ``rate`` of what remains:
20% of weights or 11% of channels), rewinds the surviving weights to the initial
weights (or keeps the trained ones: rewind "finetune"), and trains again with a fresh
optimizer, learning-rate and epsilon schedule. "one-shot" prunes once, to targetRatio.

Every round runs the phases below; each writes one file (paths.py) and is skipped
when that file exists, so a run that stops resumes at its first unfinished phase:

    mask -> train -> evaluate -> stability -> verify -> export -> metrics

Every phase draws its random numbers from a seed derived from (seed, round, phase),
so a resumed run repeats an uninterrupted one exactly (on the same device).
Channel-pruned networks are physically shrunk (pruning.shrink) before evaluation,
verification and export; a check confirms the shrunk network's outputs match.

Sweeps: runs given the same ``shared_dir`` reuse one dense round (and its initial
weights) when the settings round 0 depends on agree (``dense_key``).
"""
from __future__ import annotations

import hashlib
import math
import os
import random
import time
from dataclasses import dataclass
from typing import Callable

import numpy as np
import torch

from . import paths as files
from .paths import RunPaths
from .pruning import (apply_mask, count_channels, count_weights, default_rate, dense_mask, get_method, layer_report,
                      masked_entries_are_zero, shrink)
from .pruning.inputs import prune_data, prune_settings

# Outputs of the shrunk and the full network may differ by float rounding only.
SHRINK_TOLERANCE = 1e-4
# Stability statistics use IBP bounds (the paper's unstable-neuron ratio and instability);
# per-layer CROWN counts cost a backward pass per neuron layer (~100 s for 20 cnn4 samples
# on 2 CPU cores), so the stability event's "crown" counts are left null.
STABILITY_CROWN = False
ARTIFACT_KINDS = {"mask.pt": "mask", "checkpoint.pt": "checkpoint", "stability.json": "stability",
                  "verification.json": "verification", "model.onnx": "onnx", "metrics.json": "metrics"}
ROUND_FILES = ("prune.json", "mask.pt", "checkpoint.pt", "history.json", "evaluation.json", "stability.json",
               "verification.json", "model.onnx", "metrics.json")  # metrics.json last: it marks the round done


# ------------------------------------------------------------------ setup

@dataclass
class Run:
    """Everything the phases share. ``targets[k]``: the remaining ratio round k aims for."""
    config: dict
    paths: RunPaths
    emit: Callable
    device: torch.device
    status: dict
    info: object
    train_set: object
    test_set: object
    settings: object
    method: str | None
    targets: list
    verify_eps: float

    @property
    def seed(self) -> int:
        return int(self.config["seed"])


def phase_seed(seed: int, round_index, phase: str) -> int:
    """A 63-bit seed for (seed, round, phase): each phase's randomness is independent of the others."""
    digest = hashlib.sha256(f"certprune/{seed}/{round_index}/{phase}".encode()).digest()
    return int.from_bytes(digest[:8], "little") >> 1


def seeded(seed: int, round_index, phase: str) -> torch.Generator:
    """Seed torch/numpy/random for a phase and return a CPU generator seeded the same way."""
    value = phase_seed(seed, round_index, phase)
    torch.manual_seed(value)
    np.random.seed(value % (2 ** 32))
    random.seed(value)
    return torch.Generator().manual_seed(value)


def round_targets(config: dict) -> list:
    """Remaining ratio (of weights, or of channels for channel methods) per round, round 0 first."""
    pruning = config["pruning"]
    method = pruning["method"]
    if method == "none" or pruning["rounds"] == 0:
        return [1.0]
    rate = pruning["rate"] if pruning.get("rate") is not None else default_rate(method)
    if not 0.0 < rate < 1.0:
        raise ValueError(f"pruning.rate must be in (0, 1), got {rate}")
    if pruning["schedule"] == "one-shot":
        target = pruning.get("targetRatio")
        return [1.0, target if target is not None else (1.0 - rate) ** pruning["rounds"]]
    return [(1.0 - rate) ** k for k in range(pruning["rounds"] + 1)]


def dense_key(config: dict) -> str:
    """Hash of every setting the dense round depends on (not the pruning method or schedule)."""
    from .protocol import canonical_json
    relevant = {key: config[key] for key in ("data", "model", "training", "verification", "seed")}
    return hashlib.sha256(canonical_json(relevant).encode("utf-8")).hexdigest()[:16]


def has_progress(out_dir: str) -> bool:
    """True when ``out_dir`` already holds some of a run's outputs (so starting it resumes)."""
    paths = RunPaths(out_dir)
    return os.path.exists(paths.init) or os.path.isdir(paths.round_dir(0))


def _check_config(paths: RunPaths, config: dict) -> None:
    """Store the config; refuse to resume a folder that holds a run with other settings.

    Runs compare by run id (the hash of their non-default settings), ignoring the device,
    so a run may resume on another machine and a setting added later with a default
    does not orphan it.
    """
    from .protocol import run_id
    if os.path.exists(paths.config):
        stored = files.load_json(paths.config)
        if run_id({**stored, "device": "auto"}) != run_id({**config, "device": "auto"}):
            raise ValueError(f"{paths.root} holds a run with a different configuration "
                             f"(see {paths.config}); use a new --out directory for this one")
    else:
        files.save_json(config, paths.config)


def _remove_temporaries(root: str) -> None:
    """Delete half-written files a killed run left behind (never a finished file: those have final names)."""
    for folder, _, names in os.walk(root):
        for name in names:
            if name.startswith(".") and name.endswith(".tmp"):
                os.remove(os.path.join(folder, name))


def prepare_run(config: dict, out_dir: str, emit, device=None, status: dict | None = None) -> Run:
    """Load the data, resolve the settings and the schedule, and store (or check) config.json."""
    from .data import load_dataset
    from .train import TrainingSettings, resolve_device
    data = config["data"]
    train_set = load_dataset(data["dataset"], "train", data.get("root"), data.get("trainSize"))
    test_set = load_dataset(data["dataset"], "test", data.get("root"), None)
    settings = TrainingSettings.from_config(config["training"], train_set.info, augment=data["augment"])
    method = config["pruning"]["method"]
    paths = RunPaths(out_dir)
    os.makedirs(paths.root, exist_ok=True)
    _check_config(paths, config)
    _remove_temporaries(paths.root)
    return Run(config=config, paths=paths, emit=emit,
               device=resolve_device(device if device is not None else config.get("device", "auto")),
               status=status if status is not None else {}, info=train_set.info, train_set=train_set,
               test_set=test_set, settings=settings, method=None if method == "none" else method,
               targets=round_targets(config), verify_eps=verification_eps(config))


def _phase(run: Run, k, name: str) -> None:
    run.status["name"] = name if k is None else f"round {k}: {name}"


def _log(run: Run, message: str, level: str = "info") -> None:
    run.emit("log", level=level, message=message)


def _artifact(run: Run, k, kind: str, path: str, size: int) -> None:
    run.emit("artifact", round=k, kind=kind, path=run.paths.relative(path), bytes=int(size))


# ------------------------------------------------------------------ models

def _new_model(run: Run):
    from .models import build_model
    model_cfg = run.config["model"]
    return build_model(model_cfg["arch"], run.info.input_shape, run.info.num_classes, run.info.mean,
                       run.info.std, model_cfg.get("widths", [100, 100]))


def _load_model(run: Run, state: dict):
    model = _new_model(run)
    model.load_state_dict(state)
    return model.to(run.device)


def phase_init(run: Run) -> dict:
    """The initial weights (init.pt), drawn from (seed, "init") on the CPU."""
    if os.path.exists(run.paths.init):
        return files.load_torch(run.paths.init)
    _phase(run, None, "init")
    seeded(run.seed, "init", "init")
    state = {k: v.detach().clone() for k, v in _new_model(run).state_dict().items()}
    size = files.save_torch(state, run.paths.init)
    _artifact(run, None, "init", run.paths.init, size)
    return state


def trained_model(run: Run, k: int):
    """(full-size trained model, its mask) of round ``k`` on the run's device, eval mode."""
    mask = files.load_torch(run.paths.mask(k))
    model = _load_model(run, files.load_torch(run.paths.checkpoint(k)))
    return model.eval(), mask


@torch.no_grad()
def evaluation_model(model, images: torch.Tensor):
    """The shrunk copy of an eval-mode trained model; raises unless it computes the same outputs.

    images: (B, C, H, W) a few inputs for the check, on the model's device.
    """
    small = shrink(model).eval()
    full_out, small_out = model(images), small(images)              # (B, K) each
    error = float((full_out - small_out).abs().max()) if images.shape[0] else 0.0
    scale = float(full_out.abs().max()) if images.shape[0] else 0.0
    if error > SHRINK_TOLERANCE * (1.0 + scale):
        raise RuntimeError(f"engine bug: the shrunk network's outputs differ from the pruned network's by {error:.3g}")
    return small


def load_round_model(run_dir: str, k: int, device="cpu"):
    """(trained network of round ``k``, shrunk and in eval mode, the run's config) from a run folder.

    For export and inspection: needs only config.json and round_<k>/checkpoint.pt.
    """
    from .data import dataset_info
    from .models import build_model
    paths = RunPaths(run_dir)
    if not os.path.exists(paths.config):
        raise FileNotFoundError(f"{paths.config} does not exist; is {run_dir} the --out folder of a run?")
    if not os.path.exists(paths.checkpoint(k)):
        done = [n for n in range(len(round_targets(files.load_json(paths.config))))
                if os.path.exists(paths.checkpoint(n))]
        raise FileNotFoundError(f"round {k} of {run_dir} has no trained network ({paths.checkpoint(k)} is missing); "
                                f"rounds with one: {done or 'none yet'}")
    config = files.load_json(paths.config)
    info = dataset_info(config["data"]["dataset"])
    model = build_model(config["model"]["arch"], info.input_shape, info.num_classes, info.mean, info.std,
                        config["model"].get("widths", [100, 100]))
    model.load_state_dict(files.load_torch(paths.checkpoint(k), device))
    return shrink(model.to(device).eval()).eval(), config


def verification_eps(config: dict) -> float:
    """verification.eps, or the training eps (training.eps, or the dataset's default)."""
    from .data import dataset_info
    for value in (config["verification"].get("eps"), config["training"].get("eps")):
        if value is not None:
            return float(value)
    return float(dataset_info(config["data"]["dataset"]).default_eps)


# ------------------------------------------------------------------ phases of a round

def _counted(run: Run, model, mask) -> tuple[float, float]:
    scope = run.config["pruning"]["scope"]
    try:
        remaining, total = count_weights(model, mask, scope)
        alive, channels = count_channels(model, mask, scope)
    except ValueError:  # e.g. an MLP with scope "conv": nothing prunable, nothing removed
        return 1.0, 1.0
    return remaining / total, alive / channels


def phase_mask(run: Run, k: int, init_state: dict) -> dict:
    """Round k's mask: dense for round 0, else the method applied to the source round."""
    path = run.paths.mask(k)
    if os.path.exists(path):
        return files.load_torch(path)
    _phase(run, k, "prune")
    started = time.perf_counter()
    if k == 0:
        mask = dense_mask(_new_model(run))
    else:
        model, source_mask = trained_model(run, source_round(run, k))
        source_mask = {n: m.to(run.device) for n, m in source_mask.items()}
        generator = seeded(run.seed, k, "prune")
        _log(run, f"round {k}: pruning with {run.method} to remaining ratio {run.targets[k]:.4f}")
        data = prune_data(run.method, run.train_set, run.settings, run.device, init_state, generator,
                          log=lambda message: _log(run, f"round {k}: {message}"))
        mask = get_method(run.method)(model, source_mask, prune_settings(run.config, run.targets[k]), data)
        mask = {n: m.detach().cpu() for n, m in mask.items()}
    ratio, channel_ratio = _counted(run, _new_model(run), mask)
    files.save_json({"method": run.method, "targetRatio": run.targets[k], "remainingRatio": ratio,
                     "remainingChannelRatio": channel_ratio, "seconds": time.perf_counter() - started},
                    run.paths.prune(k))
    size = files.save_torch(mask, path)
    _artifact(run, k, "mask", path, size)
    return mask


def source_round(run: Run, k: int) -> int:
    """The round whose trained network round k prunes (the dense round for one-shot)."""
    return 0 if run.config["pruning"]["schedule"] == "one-shot" else k - 1


def starting_model(run: Run, k: int, init_state: dict, mask: dict):
    """Round k's network before training: the initial weights (rewind "init") or, with
    rewind "finetune", the source round's trained weights; pruned entries zeroed."""
    finetune = run.config["pruning"]["rewind"] == "finetune" and k > 0
    start = files.load_torch(run.paths.checkpoint(source_round(run, k))) if finetune else init_state
    model = _load_model(run, start)
    return apply_mask(model, mask)


def phase_train(run: Run, k: int, init_state: dict, mask: dict) -> None:
    """Train round k from the rewound initial weights (or the source round's, for finetune)."""
    from .train import train
    if os.path.exists(run.paths.checkpoint(k)):   # resumed or shared round: replay its epochs
        for record in files.load_json(run.paths.history(k))["history"]:
            run.emit("epoch", round=k, **{key: record[key] for key in _EPOCH_FIELDS})
        return
    _phase(run, k, "train")
    model = starting_model(run, k, init_state, mask)
    generator = seeded(run.seed, k, "train")
    test_set = run.test_set.subset(run.config["data"].get("testSize"))
    started = time.perf_counter()

    def on_epoch(record: dict) -> None:
        run.emit("epoch", round=k, **{key: record[key] for key in _EPOCH_FIELDS})

    result = train(model, run.train_set, test_set, run.settings, masks=mask, on_epoch=on_epoch,
                   device=run.device, generator=generator)
    model.load_state_dict(result.state_dict)
    if not masked_entries_are_zero(model, mask):
        raise RuntimeError(f"engine bug: round {k} training left pruned weights non-zero")
    files.save_json({"history": result.history, "bestEpoch": result.best_epoch,
                     "seconds": time.perf_counter() - started}, run.paths.history(k))
    size = files.save_torch(result.state_dict, run.paths.checkpoint(k))
    _artifact(run, k, "checkpoint", run.paths.checkpoint(k), size)


_EPOCH_FIELDS = ("epoch", "epochs", "loss", "trainAccuracy", "testAccuracy", "robustAccuracy", "eps", "lr", "seconds")


def evaluation_sizes(config: dict) -> tuple:
    """(images for standard and adversarial accuracy, images for test accuracy, attack on?).

    Standard (clean) and adversarial (PGD) accuracy are measured on the SAME images, so
    that adversarial accuracy can never exceed standard accuracy: the first
    min(data.testSize, verification.attackSamples) test images when the attack runs (PGD
    on the whole test set is too dear on a CPU), else the first data.testSize. Sizes are
    None for "the whole test set". The clean accuracy on data.testSize images is kept
    beside them in evaluation.json ("testAccuracy") and the summary.
    """
    test_size = config["data"].get("testSize")
    verification = config["verification"]
    attack = (verification["mode"] != "none" and verification["pgdSteps"] > 0
              and verification.get("attackSamples") != 0)
    if not attack:
        return test_size, test_size, False
    attack_size = verification.get("attackSamples")
    sizes = [size for size in (test_size, attack_size) if size is not None]
    return (min(sizes) if sizes else None), test_size, True


def phase_evaluate(run: Run, k: int, small) -> dict:
    """Standard and PGD accuracy on the same images (evaluation_sizes), plus clean accuracy on data.testSize."""
    from .train import evaluate
    path = run.paths.evaluation(k)
    if os.path.exists(path):
        return files.load_json(path)
    _phase(run, k, "evaluate")
    started = time.perf_counter()
    size, test_size, attack = evaluation_sizes(run.config)
    images = run.test_set.subset(size)
    if attack:
        seeded(run.seed, k, "attack")  # PGD draws its random starts from the global RNG
        standard, adversarial = _clean_and_adversarial_accuracy(run, small, images)
    else:
        standard, adversarial = evaluate(small, images), None
    test_images = run.test_set.subset(test_size)
    test_accuracy = standard if len(test_images) == len(images) else evaluate(small, test_images)
    result = {"standardAccuracy": standard, "adversarialAccuracy": adversarial, "evaluationImages": len(images),
              "testAccuracy": test_accuracy, "testImages": len(test_images),
              "seconds": time.perf_counter() - started}
    files.save_json(result, path)
    return result


ATTACK_BATCH = 256


@torch.no_grad()
def _clean_correct(model, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    return model(x).argmax(dim=1) == y                                    # (B,) bool


def _clean_and_adversarial_accuracy(run: Run, model, dataset) -> tuple:
    """(clean accuracy, PGD accuracy) of ``model`` on the same images of ``dataset``.

    An image counts as robust only if it is classified correctly AND every point PGD tries
    (verification.pgdSteps/Restarts) is too, so PGD accuracy <= clean accuracy by
    construction. The attack's successes are confirmed by a plain forward pass (verify.pgd_attack).
    Misclassified images cannot count as robust, so only the correctly classified ones are
    attacked.
    """
    from . import verify
    from .train import batches
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


def phase_stability(run: Run, k: int, small) -> dict | None:
    """Per-layer stability (IBP bounds at the verification eps; see STABILITY_CROWN) on the verification samples."""
    if run.config["verification"]["mode"] == "none":
        return None
    path = run.paths.stability(k)
    if os.path.exists(path):
        stored = files.load_json(path)
        run.emit("stability", round=k, eps=stored["eps"], layers=stored["layers"])
        return stored
    from . import verify
    _phase(run, k, "stability")
    started = time.perf_counter()
    images, _ = _verification_samples(run)
    layers = verify.stability_statistics(small, images, run.verify_eps, crown=STABILITY_CROWN)
    stored = {"eps": run.verify_eps, "layers": layers, "seconds": time.perf_counter() - started}
    size = files.save_json(stored, path)
    run.emit("stability", round=k, eps=run.verify_eps, layers=layers)
    _artifact(run, k, "stability", path, size)
    return stored


def _verification_samples(run: Run):
    """(images (N, C, H, W), labels (N,)): the first verification.samples test images, on the device."""
    samples = run.test_set.subset(run.config["verification"]["samples"])
    return samples.images.to(run.device), samples.labels.to(run.device)


def phase_verify(run: Run, k: int, small) -> dict | None:
    """Verify each sample (verification.mode); per-sample results are kept as they finish."""
    settings = run.config["verification"]
    if settings["mode"] == "none":
        return None
    path, partial = run.paths.verification(k), run.paths.verification_partial(k)
    images, labels = _verification_samples(run)
    write_verification_samples(run.paths.root, images, labels, run.verify_eps)
    if os.path.exists(path):
        stored = files.load_json(path)
        for record in stored["results"]:
            run.emit("sample_verified", **sample_event(record))
        return stored
    from . import verify
    _phase(run, k, "verify")
    results = []
    for record in files.read_jsonl(partial):          # the samples a stopped run already decided
        if record.get("index") != len(results):
            break
        results.append(record)
    for record in results:
        run.emit("sample_verified", **sample_event(record))
    for index in range(len(results), images.shape[0]):
        seeded(run.seed, k, f"verify/{index}")
        outcome = verify.verify_samples(small, images[index:index + 1], labels[index:index + 1], run.verify_eps,
                                        settings["mode"], settings["timeout"], settings["pgdSteps"],
                                        settings["pgdRestarts"], first_index=index)[0]
        event = {"round": k, **outcome.to_event()}
        record = {**event, "counterexample": flat_counterexample(outcome.counterexample)}
        files.append_jsonl(record, partial)
        run.emit("sample_verified", **event)
        results.append(record)
    stored = {"eps": run.verify_eps, "mode": settings["mode"], **verification_totals(results), "results": results}
    size = files.save_json(stored, path)
    if os.path.exists(partial):
        os.remove(partial)
    _artifact(run, k, "verification", path, size)
    return stored


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


def verification_totals(results: list) -> dict:
    """Counts per status, verified accuracy and mean seconds of sample_verified records."""
    counts = {status: sum(1 for r in results if r["status"] == status)
              for status in ("verified", "falsified", "unknown", "misclassified")}
    samples = len(results)
    return {**counts, "samples": samples,
            "verifiedAccuracy": counts["verified"] / samples if samples else None,
            "meanVerifySeconds": sum(r["seconds"] for r in results) / samples if samples else None,
            "seconds": sum(r["seconds"] for r in results)}


def phase_export(run: Run, k: int, small) -> None:
    """The (shrunk) trained network as ONNX (round_<k>/model.onnx)."""
    path = run.paths.onnx(k)
    if os.path.exists(path) or run.config["verification"]["mode"] == "none":
        return
    from .onnx_io import export_onnx
    _phase(run, k, "export")
    tmp = os.path.join(os.path.dirname(path), ".model.onnx.tmp")     # renamed once complete
    export_onnx(small, tuple(run.info.input_shape), tmp)
    os.replace(tmp, path)
    _artifact(run, k, "onnx", path, os.path.getsize(path))


def _stability_total(stability: dict | None, name: str):
    """verify.unstable_ratio / verify.instability_total of the stored layers (None without statistics)."""
    if stability is None:
        return None
    from . import verify
    return getattr(verify, name)(stability["layers"])


def phase_metrics(run: Run, k: int, mask: dict, evaluation: dict, stability, verification) -> dict:
    """The round's summary: the round_finished fields, stored in metrics.json."""
    model = _new_model(run)
    ratio, channel_ratio = _counted(run, model, mask)
    totals = verification or {}
    stored = [files.load_json(p) for p in (run.paths.prune(k), run.paths.history(k)) if os.path.exists(p)]
    seconds = sum(s.get("seconds", 0.0) for s in stored) + evaluation.get("seconds", 0.0) \
        + (stability or {}).get("seconds", 0.0) + totals.get("seconds", 0.0)
    payload = {
        "round": k, "remainingRatio": ratio, "remainingChannelRatio": channel_ratio,
        "standardAccuracy": evaluation["standardAccuracy"],
        "adversarialAccuracy": evaluation["adversarialAccuracy"],
        "verifiedAccuracy": totals.get("verifiedAccuracy"),
        "verified": totals.get("verified", 0), "falsified": totals.get("falsified", 0),
        "unknown": totals.get("unknown", 0), "misclassified": totals.get("misclassified", 0),
        "samples": totals.get("samples", 0), "meanVerifySeconds": totals.get("meanVerifySeconds"),
        "unstableRatio": _stability_total(stability, "unstable_ratio"),
        "instability": _stability_total(stability, "instability_total"),
        "seconds": seconds, "layers": layer_report(model, mask),
    }
    size = files.save_json(payload, run.paths.metrics(k))
    _artifact(run, k, "metrics", run.paths.metrics(k), size)
    return payload


# ------------------------------------------------------------------ the run

def run_round(run: Run, k: int, init_state: dict) -> dict:
    """All phases of round k (each skipped when its output exists); emits round_finished."""
    if os.path.exists(run.paths.metrics(k)):
        payload = files.load_json(run.paths.metrics(k))
        run.emit("round_finished", **payload)
        return payload
    mask = phase_mask(run, k, init_state)
    ratio, _ = _counted(run, _new_model(run), mask)
    run.emit("round_started", round=k, rounds=len(run.targets), remainingRatio=ratio)
    phase_train(run, k, init_state, mask)
    model, mask = trained_model(run, k)
    small = evaluation_model(model, _verification_samples(run)[0][:8] if run.config["verification"]["samples"]
                             else run.test_set.subset(8).images.to(run.device))
    evaluation = phase_evaluate(run, k, small)
    stability = phase_stability(run, k, small)
    verification = phase_verify(run, k, small)
    phase_export(run, k, small)
    _phase(run, k, "metrics")
    payload = phase_metrics(run, k, mask, evaluation, stability, verification)
    run.emit("round_finished", **payload)
    return payload


def best_round(curve: list) -> tuple:
    """(round, verified accuracy) with the highest verified accuracy; the earliest on ties; (None, None) if none."""
    scored = [(r["verifiedAccuracy"], -r["round"]) for r in curve if r.get("verifiedAccuracy") is not None]
    if not scored:
        return None, None
    accuracy, negative_round = max(scored)
    return -negative_round, accuracy


def _dense_cache(run: Run, shared_dir: str | None) -> RunPaths | None:
    return RunPaths(os.path.join(shared_dir, f"dense_{dense_key(run.config)}")) if shared_dir else None


def _import_dense(run: Run, cache: RunPaths) -> None:
    """Copy a sweep's shared dense round into this run (all but metrics.json: the round then replays)."""
    if not os.path.exists(cache.metrics(0)) or os.path.exists(run.paths.metrics(0)):
        return
    _log(run, f"reusing the dense round and initial weights from {cache.root}")
    if not os.path.exists(run.paths.init):
        _artifact(run, None, "init", run.paths.init, files.copy_file(cache.init, run.paths.init))
    for name in ROUND_FILES[:-1]:
        source, target = os.path.join(cache.round_dir(0), name), os.path.join(run.paths.round_dir(0), name)
        if os.path.exists(source) and not os.path.exists(target):
            size = files.copy_file(source, target)
            if name in ARTIFACT_KINDS:
                _artifact(run, 0, ARTIFACT_KINDS[name], target, size)


def _export_dense(run: Run, cache: RunPaths) -> None:
    """Offer this run's finished dense round to the sweep (metrics.json last: it marks it complete)."""
    if os.path.exists(cache.metrics(0)):
        return
    files.copy_file(run.paths.init, cache.init)
    for name in ROUND_FILES:
        source = os.path.join(run.paths.round_dir(0), name)
        if os.path.exists(source):
            files.copy_file(source, os.path.join(cache.round_dir(0), name))


def run_experiment(config: dict, out_dir: str, emit: Callable, device=None, shared_dir: str | None = None,
                   phase: dict | None = None, until_round: int | None = None) -> dict:
    """Run (or resume) the experiment ``config`` (full, defaults filled) in ``out_dir``.

    emit(type, **fields) writes one event (round_started, epoch, sample_verified, stability,
    round_finished, artifact, log, finished); the caller emits started/failed. device:
    torch.device or None (config.device). shared_dir: a sweep's dense-round cache.
    phase: a dict whose "name" is kept up to date, for failure reports.
    until_round: stop after this round (a sweep driver that advances several runs round by
    round); the run is then not finished: no "finished" event, and "complete" is false.
    Returns {"curve": [round_finished fields per round], "bestRound", "bestVerifiedAccuracy",
    "rounds", "complete", "evaluation", "seconds"}; also written to summary.json.
    "evaluation" names the image sets: standard and adversarial accuracy on the first
    "standardAndAdversarialImages" test images, "testAccuracy" (per round, in
    "testAccuracies") on the first "testImages", verified accuracy on the first
    "verificationImages".
    """
    started = time.perf_counter()
    run = prepare_run(config, out_dir, emit, device, phase)
    cache = _dense_cache(run, shared_dir)
    if cache is not None:
        _import_dense(run, cache)
    init_state = phase_init(run)
    curve = []
    last = len(run.targets) if until_round is None else min(len(run.targets), int(until_round) + 1)
    for k in range(last):
        curve.append(run_round(run, k, init_state))
        if k == 0 and cache is not None:
            _export_dense(run, cache)
    best, best_accuracy = best_round(curve)
    complete = len(curve) == len(run.targets)
    summary = {"curve": curve, "bestRound": best, "bestVerifiedAccuracy": best_accuracy, "rounds": len(curve),
               "complete": complete, "evaluation": _evaluation_sets(run, len(curve)),
               "seconds": time.perf_counter() - started}
    files.save_json(summary, run.paths.summary)
    if not complete:
        return summary
    _phase(run, None, "finished")
    emit("finished", bestRound=best, bestVerifiedAccuracy=best_accuracy, rounds=len(curve),
         seconds=summary["seconds"])
    return summary


def _evaluation_sets(run: Run, rounds: int) -> dict:
    """Which test images each accuracy of the curve was measured on (see run_experiment)."""
    size, test_size, _ = evaluation_sizes(run.config)
    stored = [files.load_json(run.paths.evaluation(k)) if os.path.exists(run.paths.evaluation(k)) else {}
              for k in range(rounds)]
    return {"standardAndAdversarialImages": len(run.test_set.subset(size)),
            "testImages": len(run.test_set.subset(test_size)),
            "verificationImages": len(run.test_set.subset(run.config["verification"]["samples"]))
            if run.config["verification"]["mode"] != "none" else 0,
            "testAccuracies": [e.get("testAccuracy") for e in stored]}


# ------------------------------------------------------------------ seeds

AGGREGATED = ("remainingRatio", "remainingChannelRatio", "standardAccuracy", "adversarialAccuracy",
              "verifiedAccuracy", "meanVerifySeconds", "unstableRatio", "instability")


def aggregate_seeds(curves: list) -> list:
    """Mean and standard deviation over seeds, round by round.

    curves: one curve per seed (a list of round_finished dicts). Rounds present in every
    curve are aggregated: [{"round", "seeds", <metric>: {"mean", "std"} or None}] for the
    metrics in AGGREGATED. std is the sample standard deviation (n - 1; 0 for one seed).
    A metric that is null in some seed is averaged over the seeds that have it.
    """
    if not curves:
        return []
    by_round = [{r["round"]: r for r in curve} for curve in curves]
    common = sorted(set.intersection(*(set(rounds) for rounds in by_round)))
    aggregated = []
    for k in common:
        entry = {"round": k, "seeds": len(curves)}
        for metric in AGGREGATED:
            values = [rounds[k][metric] for rounds in by_round if rounds[k].get(metric) is not None]
            if not values:
                entry[metric] = None
                continue
            mean = sum(values) / len(values)
            var = sum((v - mean) ** 2 for v in values) / (len(values) - 1) if len(values) > 1 else 0.0
            entry[metric] = {"mean": mean, "std": math.sqrt(var)}
        aggregated.append(entry)
    return aggregated
