"""Training speed of each regime on FashionMNIST cnn7, and its ratio to natural training.

    .venv/bin/python bench/train_speed.py --device cpu --threads 1 --batches 8 --warmup 3 --repeat 3
    .venv/bin/python bench/train_speed.py --device cuda --batches 50

Times --batches optimizer steps (after --warmup untimed steps, which also let the process
heap grow to its working size) of the real training step (certprune.train.train_epoch:
loss, backward, mask, clip, step) at batch 128 and EXTRAPOLATES seconds per epoch =
seconds per batch x batches per epoch (469 for the 60k FashionMNIST training images).

Each regime is timed where its cost is what it is for most of a run:
  * FGSM and IBP at the full eps (0.1);
  * CROWN-IBP inside the eps ramp at eps = eps_max / 2 (beta = 0.5), where it computes both
    the CROWN-IBP and the IBP bound. This beta > 0 figure is the HEADLINE one for the
    CROWN-IBP target. Once the ramp is over beta = 0 and the CROWN part has weight 0, so
    it is skipped (exactly): those epochs cost what IBP costs.
The "schedule" line averages each certified regime over the paper's whole schedule (the
paper's FashionMNIST defaults: 200 epochs, eps 0 for epochs 1-10, ramp over epochs 11-90,
full eps after), counting eps-0 batches at the natural cost (the loss is then the clean
cross-entropy, one forward and backward), ramp batches at the CROWN-IBP cost and full-eps
batches at the IBP cost.

After the timed batches one more batch runs under certprune.flops.MacCounter: the
multiply-accumulates of its convolutions and matrix products, forward and backward, as
executed. Their ratio to natural training is the arithmetic a regime needs; a time ratio
above it is overhead (element-wise work, memory traffic), one at it is the floor for this
implementation of the regime.

On a CPU shared with other jobs wall-clock times swing with the load; the process CPU
time per batch (``cpu ms``) is also printed and, with --threads 1, is the steadier basis
for ratios. Targets: IBP <= 2x natural, FGSM+GradAlign <= 4x, CROWN-IBP <= 6x.
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
from certprune.train import (TrainingSettings, eps_at, make_optimizer, num_batches,  # noqa: E402
                             resolve_device, train_epoch, use_all_cores)

import certprune.train.losses as losses  # noqa: E402
from certprune.train.input_gradient import autograd_input_gradient  # noqa: E402

REGIMES = ("natural", "fgsm", "ibp", "crown-ibp")
#: also accepted by --regimes: FGSM with autograd's generic double backward instead of the
#: engine's written-out input gradient (certprune.train.input_gradient), for comparison.
FGSM_AUTOGRAD = "fgsm-autograd"
TARGETS = {"fgsm": 4.0, FGSM_AUTOGRAD: 4.0, "ibp": 2.0, "crown-ibp": 6.0}
RAMP_LENGTH = 20  # a short ramp just to place the timed batches at eps_max / 2


def half_eps_epoch(settings) -> int:
    """The 1-based epoch of a (start 1, length RAMP_LENGTH) ramp whose first batches have eps
    closest to eps_max / 2."""
    return min(range(1, RAMP_LENGTH + 1), key=lambda e: abs(eps_at(e - 1, settings) - settings.eps / 2))


def time_regime(regime, train_ds, device, batches, warmup, batch_size, count_macs=True):
    """(wall seconds, process CPU seconds) per batch, the eps of the timed batches, and the
    multiply-accumulates of one more batch (None unless count_macs)."""
    if regime == FGSM_AUTOGRAD:
        written_out = losses.differentiable_input_gradient
        losses.differentiable_input_gradient = autograd_input_gradient  # the generic way
        try:
            return time_regime("fgsm", train_ds, device, batches, warmup, batch_size, count_macs)
        finally:
            losses.differentiable_input_gradient = written_out
    info = train_ds.info
    torch.manual_seed(0)
    model = build_model("cnn7", info.input_shape, info.num_classes, info.mean, info.std).to(device)
    ramp = {"epsStart": 1, "epsLength": RAMP_LENGTH if regime == "crown-ibp" else 0}
    settings = TrainingSettings.from_config({"regime": regime, "batchSize": batch_size, **ramp}, info)
    epoch = half_eps_epoch(settings) if regime == "crown-ibp" else 1
    optimizer = make_optimizer(model.parameters(), settings)
    generator = torch.Generator().manual_seed(0)
    if warmup:
        train_epoch(model, train_ds, optimizer, settings, epoch, generator=generator, max_batches=warmup)
    if device.type == "cuda":
        torch.cuda.synchronize()
    wall, cpu = time.perf_counter(), time.process_time()
    stats = train_epoch(model, train_ds, optimizer, settings, epoch, generator=generator, max_batches=batches)
    if device.type == "cuda":
        torch.cuda.synchronize()
    wall, cpu = (time.perf_counter() - wall) / batches, (time.process_time() - cpu) / batches
    if not count_macs:
        return wall, cpu, stats["eps"], None
    with MacCounter() as counter:
        train_epoch(model, train_ds, optimizer, settings, epoch, generator=generator, max_batches=1)
    return wall, cpu, stats["eps"], counter.total


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


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda"])
    parser.add_argument("--threads", type=int, default=None,
                        help="CPU threads (default: all cores; fewer is faster on a machine shared with other jobs)")
    parser.add_argument("--batches", type=int, default=8, help="timed steps per regime")
    parser.add_argument("--warmup", type=int, default=3,
                        help="untimed steps first (the first few also grow the process heap: keep >= 3)")
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--regimes", default=",".join(REGIMES),
                        help=f"comma-separated; also {FGSM_AUTOGRAD} (FGSM with autograd's double backward)")
    parser.add_argument("--repeat", type=int, default=1,
                        help="time every regime this many times, interleaved, and report the medians (the "
                             "development machine's speed swings by ~20%% between runs)")
    args = parser.parse_args()
    device = resolve_device(args.device)
    threads = use_all_cores() if args.threads is None else args.threads
    torch.set_num_threads(threads)
    train_ds = load_dataset("fashion-mnist", "train")
    per_epoch = num_batches(train_ds, args.batch_size)
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"device={device} threads={threads} torch={torch.__version__} model=cnn7 dataset=fashion-mnist "
          f"batch={args.batch_size} timed_batches={args.batches} warmup={args.warmup} repeat={args.repeat} "
          f"(extrapolated to {per_epoch} batches/epoch) load_average_1min={load:.2f}")
    results = {}
    regimes = args.regimes.split(",")
    unknown = [r for r in regimes if r not in REGIMES + (FGSM_AUTOGRAD,)]
    if unknown:
        parser.error(f"unknown regime(s) {', '.join(unknown)}; choose from {', '.join(REGIMES + (FGSM_AUTOGRAD,))}")
    samples = {regime: [] for regime in regimes}
    for rep in range(args.repeat):
        # Every regime once per repetition, so that a change in the machine's load touches
        # all of them, not one regime's whole series.
        for regime in regimes:
            samples[regime].append(time_regime(regime, train_ds, device, args.batches, args.warmup, args.batch_size,
                                               count_macs=rep == 0))  # the same every repetition
        if args.repeat > 1:
            print(f"repetition {rep + 1}/{args.repeat}: " + ", ".join(
                f"{regime} {samples[regime][-1][0] * 1000:.0f} ms" for regime in regimes), flush=True)
    for regime in regimes:
        wall = statistics.median(sample[0] for sample in samples[regime])
        cpu = statistics.median(sample[1] for sample in samples[regime])
        eps, macs = samples[regime][0][2:]
        results[regime] = (wall, cpu, macs)
        line = (f"{regime:13s} eps={eps:.4f}  {wall * 1000:8.1f} ms/batch wall {cpu * 1000:8.1f} cpu ms/batch  "
                f"{wall * per_epoch:8.1f} s/epoch (extrapolated, wall)  {macs / 1e9:6.2f} GMAC/batch")
        if "natural" in results and regime != "natural":
            ratio_wall, ratio_cpu = wall / results["natural"][0], cpu / results["natural"][1]
            ratio_macs = macs / results["natural"][2]
            line += (f"  {ratio_wall:5.2f}x natural wall, {ratio_cpu:5.2f}x cpu, {ratio_macs:5.2f}x MACs "
                     f"(target <= {TARGETS[regime]:.0f}x)")
            if regime == "crown-ibp":
                line += " [beta > 0, inside the ramp]"
        print(line, flush=True)
    if "natural" in results and "crown-ibp" in results and "ibp" not in results:
        print("schedule averages: add the ibp regime (after the ramp CROWN-IBP batches cost what IBP's do)")
    if "natural" in results and "ibp" in results:
        (zero, ramp, full), settings = schedule_fractions(train_ds.info, per_epoch)
        print(f"schedule ({settings.epochs} epochs, ramp from epoch {settings.eps_start} over "
              f"{settings.eps_length}): {zero:.1%} of batches at eps 0, {ramp:.1%} in the ramp (beta > 0), "
              f"{full:.1%} at the full eps")
        for which, k in (("wall", 0), ("cpu", 1), ("MACs", 2)):
            nat = results["natural"][k]
            parts = []
            if "ibp" in results:
                ibp = results["ibp"][k] / nat
                parts.append(f"ibp {zero + (ramp + full) * ibp:.2f}x")
                if "crown-ibp" in results:
                    crown = results["crown-ibp"][k] / nat
                    parts.append(f"crown-ibp {zero + ramp * crown + full * ibp:.2f}x")
            print(f"  whole-schedule average vs natural ({which}): " + ", ".join(parts))


if __name__ == "__main__":
    main()
