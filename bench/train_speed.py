"""Training speed of each regime on FashionMNIST cnn7, and its ratio to natural training.

    /usr/bin/python3 bench/train_speed.py --device cpu --batches 8
    /usr/bin/python3 bench/train_speed.py --device cuda --batches 50

Times --batches optimizer steps (after --warmup untimed steps) of the real training step
(certprune.train.train_epoch: loss, backward, mask, clip, step) at batch 128 and
EXTRAPOLATES seconds per epoch = seconds per batch x batches per epoch (469 for the 60k
FashionMNIST training images). IBP and FGSM run at the full eps (0.1); CROWN-IBP runs
inside the eps ramp, where it computes both the CROWN-IBP and the IBP bound (after the ramp
it is plain IBP). Targets: IBP <= 2x natural, FGSM+GradAlign <= 4x, CROWN-IBP <= 6x.
"""
from __future__ import annotations

import argparse
import os
import sys
import time

import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "engine"))

from certprune.data import load_dataset  # noqa: E402
from certprune.models import build_model  # noqa: E402
from certprune.train import (TrainingSettings, make_optimizer, num_batches, resolve_device,  # noqa: E402
                             train_epoch, use_all_cores)

REGIMES = ("natural", "fgsm", "ibp", "crown-ibp")
TARGETS = {"fgsm": 4.0, "ibp": 2.0, "crown-ibp": 6.0}


def time_regime(regime, train_ds, device, batches, warmup, batch_size):
    info = train_ds.info
    torch.manual_seed(0)
    model = build_model("cnn7", info.input_shape, info.num_classes, info.mean, info.std).to(device)
    # Full eps from the first batch, except CROWN-IBP which we keep inside its (long) ramp.
    ramp = {"epsStart": 1, "epsLength": 10_000 if regime == "crown-ibp" else 0}
    settings = TrainingSettings.from_config({"regime": regime, "batchSize": batch_size, **ramp}, info)
    optimizer = make_optimizer(model.parameters(), settings)
    generator = torch.Generator().manual_seed(0)
    train_epoch(model, train_ds, optimizer, settings, 1, generator=generator, max_batches=warmup)
    if device.type == "cuda":
        torch.cuda.synchronize()
    started = time.perf_counter()
    train_epoch(model, train_ds, optimizer, settings, 1, generator=generator, max_batches=batches)
    if device.type == "cuda":
        torch.cuda.synchronize()
    return (time.perf_counter() - started) / batches


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda"])
    parser.add_argument("--threads", type=int, default=None,
                        help="CPU threads (default: all cores; fewer is faster on a machine shared with other jobs)")
    parser.add_argument("--batches", type=int, default=8, help="timed steps per regime")
    parser.add_argument("--warmup", type=int, default=2, help="untimed steps first")
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--regimes", default=",".join(REGIMES))
    args = parser.parse_args()
    device = resolve_device(args.device)
    threads = use_all_cores() if args.threads is None else args.threads
    torch.set_num_threads(threads)
    train_ds = load_dataset("fashion-mnist", "train")
    per_epoch = num_batches(train_ds, args.batch_size)
    print(f"device={device} threads={threads} torch={torch.__version__} model=cnn7 dataset=fashion-mnist "
          f"batch={args.batch_size} timed_batches={args.batches} (extrapolated to {per_epoch} batches/epoch)")
    results = {}
    for regime in args.regimes.split(","):
        seconds = time_regime(regime, train_ds, device, args.batches, args.warmup, args.batch_size)
        results[regime] = seconds
        line = f"{regime:10s} {seconds * 1000:8.1f} ms/batch  {seconds * per_epoch:8.1f} s/epoch (extrapolated)"
        if "natural" in results and regime != "natural":
            ratio = seconds / results["natural"]
            line += f"  {ratio:4.2f}x natural (target <= {TARGETS[regime]:.0f}x)"
        print(line, flush=True)


if __name__ == "__main__":
    main()
