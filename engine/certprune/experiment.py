"""The round-by-round experiment: train, evaluate, verify, prune, rewind; resumable.

    summary = run_experiment(config, out_dir, emit)        # emit(type, **fields) writes one event

Round 0 trains the dense network from the initial weights. Each later round prunes
what the previous round trained (pruning.method, a fraction ``rate`` of what remains:
20% of weights or 11% of channels), rewinds the surviving weights to the initial
weights (or keeps the trained ones: rewind "finetune"), and trains again with a fresh
optimizer, learning-rate and epsilon schedule. "one-shot" prunes once, to targetRatio.

Every round runs the phases of certprune/phases/; each writes one file (paths.py) and
is skipped when that file exists, so a run that stops resumes at its first unfinished phase:

    prune (mask) -> train -> evaluate -> stability -> verify -> export -> results (metrics)

Every phase draws its random numbers from a seed derived from (seed, round, phase)
(seeding.py), so a resumed run repeats an uninterrupted one exactly (on the same device).
Channel-pruned networks are physically shrunk (round_model.evaluation_model) before
evaluation, verification and export; a check confirms the shrunk network's outputs match.

Sweeps: runs given the same ``shared_dir`` reuse one dense round (sweep_cache.py).
"""
from __future__ import annotations

import os
import time
from typing import Callable

from . import paths as files
from .phases import (RoundContext, emit_finished, finish_round, mask_sparsity, phase_evaluate, phase_export,
                     phase_prune, phase_stability, phase_train, phase_verify, replay_round, starting_model,
                     write_summary)
from .plan import evaluation_sizes, round_targets, verification_eps
from .round_model import evaluation_model, load_round_model, new_model, trained_model
from .run_setup import Run, has_progress, prepare_run, verification_samples
from .seeding import seeded
from .sweep_cache import dense_cache, dense_key, export_dense, import_dense

__all__ = ["run_experiment", "run_round", "phase_init", "prepare_run", "has_progress", "Run", "round_targets",
           "verification_eps", "evaluation_sizes", "trained_model", "load_round_model", "starting_model",
           "dense_key"]


def phase_init(run: Run) -> dict:
    """The initial weights (init.pt), drawn from (seed, "init") on the CPU; with
    training.ibpInit, Shi et al. 2021's IBP initialisation (train/fast_ibp.py)."""
    if os.path.exists(run.paths.init):
        return files.load_torch(run.paths.init)
    run.set_status(None, "init")
    generator = seeded(run.seed, "init", "init")
    model = new_model(run)
    if run.config["training"].get("ibpInit"):
        from .train.fast_ibp import ibp_init
        ibp_init(model, generator)
    state = {k: v.detach().clone() for k, v in model.state_dict().items()}
    size = files.save_torch(state, run.paths.init)
    run.artifact(None, "init", run.paths.init, size)
    return state


def _stored_seconds(run: Run, k: int, *phases) -> float:
    """Seconds the round's phases took: prune.json and history.json, plus the given stored phases."""
    stored = [files.load_json(p) for p in (run.paths.prune(k), run.paths.history(k)) if os.path.exists(p)]
    return sum(s.get("seconds", 0.0) for s in stored) + sum((p or {}).get("seconds", 0.0) for p in phases)


def run_round(run: Run, k: int, init_state: dict) -> dict:
    """All phases of round k (each skipped when its output exists); emits round_finished."""
    ctx = RoundContext(run, k)
    if os.path.exists(run.paths.metrics(k)):
        ctx.log(f"round {k}: finished earlier; its results are reused")
        return replay_round(ctx)
    ctx.mask = phase_prune(ctx, init_state)
    _, counted = mask_sparsity(run, ctx.mask)
    run.emit("round_started", round=k, rounds=len(run.targets), remainingRatio=counted["remainingRatio"])
    phase_train(ctx, init_state)
    model, ctx.mask = trained_model(run, k)
    check = (verification_samples(run)[0][:8] if run.config["verification"]["samples"]
             else run.test_set.subset(8).images.to(run.device))
    ctx.model = evaluation_model(model, check)
    evaluation = phase_evaluate(ctx)
    stability = phase_stability(ctx)
    verification = phase_verify(ctx)
    phase_export(ctx)
    run.set_status(k, "metrics")
    layers, counted = mask_sparsity(run, ctx.mask)
    return finish_round(ctx, counted, layers, evaluation, stability, verification,
                        _stored_seconds(run, k, evaluation, stability, verification))


def run_experiment(config: dict, out_dir: str, emit: Callable, device=None, shared_dir: str | None = None,
                   phase: dict | None = None, until_round: int | None = None) -> dict:
    """Run (or resume) the experiment ``config`` (full, defaults filled) in ``out_dir``.

    emit(type, **fields) writes one event (round_started, epoch, progress, sample_verified,
    stability, round_finished, artifact, log, finished); the caller emits started/failed.
    device: torch.device or None (config.device). shared_dir: a sweep's dense-round cache.
    phase: a dict whose "name" is kept up to date, for failure reports.
    until_round: stop after this round (a sweep driver that advances several runs round by
    round); the run is then not finished: no "finished" event, and "complete" is false.
    Returns summary.json's content (phases/results.write_summary): {"curve": [round_finished
    fields per round], "bestRound", "bestVerifiedAccuracy", "bestRoundRule",
    "indistinguishableRounds", "roundTests", "rounds", "complete", "evaluation", "seconds"}.
    "evaluation" names the image sets: standard and adversarial accuracy on the first
    "standardAndAdversarialImages" test images, "testAccuracy" (per round, in
    "testAccuracies") on the first "testImages", verified accuracy on the first
    "verificationImages".
    """
    started = time.perf_counter()
    run = prepare_run(config, out_dir, emit, device, phase)
    run.log(f"set up: {len(run.train_set):,} training and {len(run.test_set):,} test images of "
            f"{config['data']['dataset']}, {len(run.targets)} round{'s' if len(run.targets) > 1 else ''} "
            f"on {run.device.type}", None, "setup")
    cache = dense_cache(run, shared_dir)
    if cache is not None:
        import_dense(run, cache)
    init_state = phase_init(run)
    curve = []
    last = len(run.targets) if until_round is None else min(len(run.targets), int(until_round) + 1)
    for k in range(last):
        curve.append(run_round(run, k, init_state))
        if k == 0 and cache is not None:
            export_dense(run, cache)
    complete = len(curve) == len(run.targets)
    summary = write_summary(run, curve, time.perf_counter() - started, complete=complete,
                            evaluation=_evaluation_sets(run, len(curve)))
    if complete:
        emit_finished(run, summary)
    return summary


def _evaluation_sets(run: Run, rounds: int) -> dict:
    """Which test images each accuracy of the curve was measured on (see run_experiment)."""
    size, test_size, _ = evaluation_sizes(run.config)
    stored = [files.load_json(run.paths.evaluation(k)) if os.path.exists(run.paths.evaluation(k)) else {}
              for k in range(rounds)]
    return {"standardAndAdversarialImages": len(run.test_set.subset(size)),
            "testImages": len(run.test_set.subset(test_size)),
            "verificationImages": len(run.test_set.subset(run.config["verification"]["samples"]))
            if run.verifies else 0,
            "testAccuracies": [e.get("testAccuracy") for e in stored]}
