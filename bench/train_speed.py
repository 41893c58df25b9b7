"""Training speed of each regime on FashionMNIST cnn4 and cnn7, and its ratio to natural.

    .venv/bin/python bench/train_speed.py --device cpu --threads 1 --batches 8 --warmup 3 --repeat 3
    .venv/bin/python bench/train_speed.py --device cuda --batches 50
    .venv/bin/python bench/train_speed.py --models cnn7 --regimes natural,crown-ibp,crown-ibp-fused

Times --batches optimizer steps (after --warmup untimed steps, which also let the process
heap grow to its working size) of one training step (loss, backward, gradient clip,
Adam/SGD step: certprune.train.train_epoch's step without masks) at batch 128 and
EXTRAPOLATES seconds per epoch = seconds per batch x batches per epoch (469 for the 60k
FashionMNIST training images). Every regime runs the same step code, side by side:

  natural          clean cross-entropy
  fgsm             FGSM + GradAlign (certprune.train.losses), eps 0.1
  ibp              IBP, eps 0.1
  crown-ibp        plain CROWN-IBP (one CROWN row per margin), eps 0.05 of 0.1 (beta 0.5)
  crown-ibp-fused  CROWN-IBP with loss fusion (certprune.train.loss_fusion: one CROWN row
                   per sample; a different, documented objective), eps 0.05 of 0.1
  sabr             SABR (certprune.train.sabr): 8-step PGD + IBP of a box of 0.4 eps, eps 0.1
  mtl-ibp          MTL-IBP (certprune.train.mtl_ibp): 1-step attack + IBP, alpha 0.01, eps 0.1
  fgsm-autograd    (only on request) FGSM with autograd's generic double backward

Where each regime is timed is where its cost is what it is for most of a run: the
CROWN-IBP variants inside the eps ramp, where they compute the CROWN bound (once the ramp
is over beta = 0, the CROWN part is skipped, exactly, and a batch costs what IBP's does);
the others at the full eps. The "schedule" lines average each regime over the paper's
whole schedule (200 epochs, eps 0 for epochs 1-10, ramp over 11-90, full eps after),
counting eps-0 batches at the natural cost, ramp batches at the timed cost (CROWN-IBP:
full-eps batches at the IBP cost).

After the timed batches one more batch runs under certprune.flops.MacCounter: the
multiply-accumulates of its convolutions and matrix products, forward and backward, as
executed. Their ratio to natural training is the arithmetic a regime needs; a time ratio
above it is overhead (element-wise work, memory traffic).

On a CPU shared with other jobs wall-clock times swing with the load; the process CPU
time per batch (``cpu ms``) is also printed and, with --threads 1, is the steadier basis
for ratios. The load average is printed at the start and the end. Targets: IBP <= 2x
natural, FGSM+GradAlign <= 4x, CROWN-IBP <= 6x.
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import time


def _pin_openmp_threads() -> None:
    """--threads N: also OMP_NUM_THREADS=N, before torch starts its OpenMP pool. Without it
    the pool keeps a thread per core that spins beside the one torch.set_num_threads leaves
    working, which doubles the process CPU time of one-thread runs (measured: 285 cpu ms
    against 157 ms wall per natural batch) without changing the wall time."""
    early = argparse.ArgumentParser(add_help=False)
    early.add_argument("--threads", type=int, default=None)
    threads = early.parse_known_args()[0].threads
    if threads is not None and threads > 0:
        os.environ.setdefault("OMP_NUM_THREADS", str(threads))


_pin_openmp_threads()

import torch  # noqa: E402

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "engine"))

from certprune.data import load_dataset  # noqa: E402
from certprune.flops import MacCounter  # noqa: E402
from certprune.models import build_model  # noqa: E402
from certprune.train import (TrainingSettings, batch_loss, batches, eps_at, make_optimizer,  # noqa: E402
                             num_batches, resolve_device, use_all_cores)

import certprune.train.losses as losses  # noqa: E402
from certprune.train.input_gradient import autograd_input_gradient  # noqa: E402
from certprune.train.loss_fusion import fused_crown_ibp_loss  # noqa: E402
from certprune.train.mtl_ibp import mtl_ibp_loss  # noqa: E402
from certprune.train.sabr import sabr_loss  # noqa: E402

EPS = 0.1
REGIMES = ("natural", "fgsm", "ibp", "crown-ibp", "crown-ibp-fused", "sabr", "mtl-ibp")
FGSM_AUTOGRAD = "fgsm-autograd"
MODELS = ("cnn4", "cnn7")
TARGETS = {"fgsm": 4.0, FGSM_AUTOGRAD: 4.0, "ibp": 2.0, "crown-ibp": 6.0, "crown-ibp-fused": 6.0}
#: timed inside the eps ramp (eps_max / 2: beta 0.5)
IN_RAMP = ("crown-ibp", "crown-ibp-fused")


def _loss_function(regime, settings):
    """loss(model, x, y, generator) -> (loss, stats) for the timed batches."""
    if regime in ("natural", "fgsm", "ibp", "crown-ibp"):
        eps = EPS / 2 if regime in IN_RAMP else EPS
        return lambda m, x, y, g: batch_loss(m, x, y, eps, settings, eps_max=EPS, generator=g)
    if regime == "crown-ibp-fused":
        return lambda m, x, y, g: fused_crown_ibp_loss(m, x, y, EPS / 2, EPS)[:2]
    if regime == "sabr":
        return lambda m, x, y, g: sabr_loss(m, x, y, EPS, generator=g)[:2]
    if regime == "mtl-ibp":
        return lambda m, x, y, g: mtl_ibp_loss(m, x, y, EPS, generator=g)[:2]
    raise ValueError(regime)


def _steps(model, loss_fn, optimizer, settings, data, generator, count):
    """``count`` training steps over batches drawn from ``data`` (an iterator)."""
    for _ in range(count):
        x, y = next(data)
        loss, _ = loss_fn(model, x, y, generator)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        if settings.grad_clip and settings.grad_clip > 0:
            torch.nn.utils.clip_grad_norm_(model.parameters(), settings.grad_clip)
        optimizer.step()


def time_regime(arch, regime, train_ds, device, batches_timed, warmup, batch_size, count_macs=True):
    """(wall seconds, process CPU seconds) per batch and the multiply-accumulates of one
    more batch (None unless count_macs)."""
    if regime == FGSM_AUTOGRAD:
        written_out = losses.differentiable_input_gradient
        losses.differentiable_input_gradient = autograd_input_gradient  # the generic way
        try:
            return time_regime(arch, "fgsm", train_ds, device, batches_timed, warmup, batch_size, count_macs)
        finally:
            losses.differentiable_input_gradient = written_out
    info = train_ds.info
    torch.manual_seed(0)
    model = build_model(arch, info.input_shape, info.num_classes, info.mean, info.std).to(device)
    model.train()
    base = regime if regime in ("natural", "fgsm", "ibp", "crown-ibp") else "ibp"  # Adam, like IBP
    settings = TrainingSettings.from_config({"regime": base, "batchSize": batch_size}, info)
    optimizer = make_optimizer(model.parameters(), settings)
    loss_fn = _loss_function(regime, settings)
    generator = torch.Generator().manual_seed(0)
    data = iter(batches(train_ds, batch_size, shuffle=True, generator=generator, device=device, drop_last=True))
    _steps(model, loss_fn, optimizer, settings, data, generator, warmup)
    if device.type == "cuda":
        torch.cuda.synchronize()
    wall, cpu = time.perf_counter(), time.process_time()
    _steps(model, loss_fn, optimizer, settings, data, generator, batches_timed)
    if device.type == "cuda":
        torch.cuda.synchronize()
    wall, cpu = (time.perf_counter() - wall) / batches_timed, (time.process_time() - cpu) / batches_timed
    if not count_macs:
        return wall, cpu, None
    with MacCounter() as counter:
        _steps(model, loss_fn, optimizer, settings, data, generator, 1)
    return wall, cpu, counter.total


def schedule_fractions(info, per_epoch: int):
    """Fractions of the paper's default schedule's batches at eps 0, inside the ramp
    (0 < eps < eps_max: beta > 0) and at the full eps."""
    settings = TrainingSettings.from_config({"regime": "crown-ibp"}, info)
    counts = [0, 0, 0]
    for epoch in range(1, settings.epochs + 1):
        for index in range(per_epoch):
            eps = eps_at(epoch - 1 + (index + 1) / per_epoch, settings)
            counts[0 if eps <= 0 else (2 if eps >= settings.eps else 1)] += 1
    total = sum(counts)
    return [c / total for c in counts], settings


def report(arch, results, per_epoch, fractions, batch_size):
    """A markdown table for one model, then the whole-schedule averages."""
    nat = results.get("natural")
    print(f"\n### {arch}, FashionMNIST, batch {batch_size}\n")
    print("| regime | eps timed | wall ms/batch | cpu ms/batch | s/epoch (wall) | x natural wall | "
          "x natural cpu | GMAC/batch | x natural MACs | target |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for regime, (wall, cpu, macs) in results.items():
        eps = 0.0 if regime == "natural" else (EPS / 2 if regime in IN_RAMP else EPS)
        ratios = ["", "", ""]
        if nat and regime != "natural":
            ratios = [f"{wall / nat[0]:.2f}x", f"{cpu / nat[1]:.2f}x", f"{macs / nat[2]:.2f}x"]
        target = f"<= {TARGETS[regime]:.0f}x" if regime in TARGETS else ""
        print(f"| {regime} | {eps:g} | {wall * 1000:.0f} | {cpu * 1000:.0f} | {wall * per_epoch:.0f} | "
              f"{ratios[0]} | {ratios[1]} | {macs / 1e9:.2f} | {ratios[2]} | {target} |")
    if not nat:
        return
    zero, ramp, full = fractions
    for which, k in (("wall", 0), ("cpu", 1), ("MACs", 2)):
        parts = []
        ibp = results["ibp"][k] / nat[k] if "ibp" in results else None
        for regime, values in results.items():
            if regime == "natural":
                continue
            ratio = values[k] / nat[k]
            if regime in IN_RAMP:
                if ibp is None:
                    continue
                parts.append(f"{regime} {zero + ramp * ratio + full * ibp:.2f}x")
            else:
                parts.append(f"{regime} {zero + (ramp + full) * ratio:.2f}x")
        print(f"  whole-schedule average vs natural ({which}): " + ", ".join(parts))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda"])
    parser.add_argument("--threads", type=int, default=None,
                        help="CPU threads (default: all cores; fewer is faster on a machine shared with other jobs)")
    parser.add_argument("--batches", type=int, default=8, help="timed steps per regime")
    parser.add_argument("--warmup", type=int, default=3,
                        help="untimed steps first (the first few also grow the process heap: keep >= 3)")
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--models", default=",".join(MODELS), help="comma-separated: cnn4, cnn7 (or mlp)")
    parser.add_argument("--regimes", default=",".join(REGIMES),
                        help=f"comma-separated; also {FGSM_AUTOGRAD} (FGSM with autograd's double backward)")
    parser.add_argument("--repeat", type=int, default=1,
                        help="time every regime this many times, interleaved, and report the medians (the "
                             "development machine's speed swings by ~20%% between runs)")
    args = parser.parse_args()
    device = resolve_device(args.device)
    threads = use_all_cores() if args.threads is None else args.threads
    torch.set_num_threads(threads)
    regimes, models = args.regimes.split(","), args.models.split(",")
    unknown = [r for r in regimes if r not in REGIMES + (FGSM_AUTOGRAD,)]
    if unknown:
        parser.error(f"unknown regime(s) {', '.join(unknown)}; choose from {', '.join(REGIMES + (FGSM_AUTOGRAD,))}")
    train_ds = load_dataset("fashion-mnist", "train")
    per_epoch = num_batches(train_ds, args.batch_size)
    fractions, settings = schedule_fractions(train_ds.info, per_epoch)
    load = os.getloadavg() if hasattr(os, "getloadavg") else (float("nan"),) * 3
    print(f"device={device} threads={threads} torch={torch.__version__} models={','.join(models)} "
          f"dataset=fashion-mnist batch={args.batch_size} timed_batches={args.batches} warmup={args.warmup} "
          f"repeat={args.repeat} (extrapolated to {per_epoch} batches/epoch) "
          f"start={time.strftime('%Y-%m-%d %H:%M:%S', time.gmtime())} UTC load_average={load[0]:.2f},{load[1]:.2f},"
          f"{load[2]:.2f} cores={os.cpu_count()}")
    print(f"schedule ({settings.epochs} epochs, ramp from epoch {settings.eps_start} over {settings.eps_length}): "
          f"{fractions[0]:.1%} of batches at eps 0, {fractions[1]:.1%} in the ramp, {fractions[2]:.1%} at the full eps")
    samples = {(m, r): [] for m in models for r in regimes}
    for rep in range(args.repeat):
        # Every (model, regime) once per repetition, so that a change in the machine's load
        # touches all of them, not one regime's whole series.
        for arch in models:
            for regime in regimes:
                samples[arch, regime].append(time_regime(arch, regime, train_ds, device, args.batches, args.warmup,
                                                         args.batch_size, count_macs=rep == 0))
            print(f"repetition {rep + 1}/{args.repeat} {arch}: " + ", ".join(
                f"{r} {samples[arch, r][-1][0] * 1000:.0f} ms" for r in regimes), flush=True)
    for arch in models:
        results = {}
        for regime in regimes:
            runs = samples[arch, regime]
            results[regime] = (statistics.median(s[0] for s in runs), statistics.median(s[1] for s in runs), runs[0][2])
        report(arch, results, per_epoch, fractions, args.batch_size)
    load = os.getloadavg() if hasattr(os, "getloadavg") else (float("nan"),) * 3
    print(f"\nend={time.strftime('%Y-%m-%d %H:%M:%S', time.gmtime())} UTC "
          f"load_average={load[0]:.2f},{load[1]:.2f},{load[2]:.2f}")

if __name__ == "__main__":
    main()
