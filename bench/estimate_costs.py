"""Per-image training cost of each model x regime x input shape: the figures behind lib/estimate.ts.

    .venv/bin/python bench/estimate_costs.py                 # all combinations, ~1 min on 2 cores
    .venv/bin/python bench/estimate_costs.py --batches 12 --repeat 3   # steadier: medians, ~10 min
    .venv/bin/python bench/estimate_costs.py --archs cnn4 --regimes natural,ibp

Times --batches optimizer steps (after --warmup untimed steps) of the real training step
(certprune.train.train_epoch) at batch 128 on random images of each input shape, and prints
microseconds per training image, as a TypeScript table to paste into lib/estimate.ts.
CROWN-IBP is timed inside its eps ramp (CROWN-IBP + IBP bounds), the expensive part.
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import time

import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "engine"))

from certprune.data.dataset import Dataset, DatasetInfo  # noqa: E402
from certprune.models import build_model  # noqa: E402
from certprune.train import TrainingSettings, make_optimizer, train_epoch, use_all_cores  # noqa: E402

SHAPES = {"1x16x16": (1, 16, 16), "1x28x28": (1, 28, 28), "3x32x32": (3, 32, 32)}
ARCHS = ("mlp", "cnn4", "cnn7")
REGIMES = ("natural", "fgsm", "ibp", "crown-ibp")


def random_dataset(shape, count: int) -> Dataset:
    info = DatasetInfo(name="bench", input_shape=shape, num_classes=10, mean=(0.5,) * shape[0],
                       std=(0.25,) * shape[0], default_eps=0.05, flip=False, crop_padding=0)
    generator = torch.Generator().manual_seed(0)
    images = torch.rand((count, *shape), generator=generator)        # (N, C, H, W)
    labels = torch.randint(0, 10, (count,), generator=generator)     # (N,)
    return Dataset(images, labels, info, "train")


def seconds_per_batch(arch, regime, dataset, batches, warmup, batch_size) -> float:
    info = dataset.info
    torch.manual_seed(0)
    model = build_model(arch, info.input_shape, info.num_classes, info.mean, info.std, (100, 100))
    ramp = {"epsStart": 1, "epsLength": 10_000 if regime == "crown-ibp" else 0}
    settings = TrainingSettings.from_config({"regime": regime, "batchSize": batch_size, **ramp}, info)
    optimizer = make_optimizer(model.parameters(), settings)
    generator = torch.Generator().manual_seed(0)
    train_epoch(model, dataset, optimizer, settings, 1, generator=generator, max_batches=warmup)
    started = time.perf_counter()
    train_epoch(model, dataset, optimizer, settings, 1, generator=generator, max_batches=batches)
    return (time.perf_counter() - started) / batches


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batches", type=int, default=4)
    parser.add_argument("--warmup", type=int, default=3, help="untimed steps first (the first batches also fault their memory in)")
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--archs", default=",".join(ARCHS))
    parser.add_argument("--regimes", default=",".join(REGIMES))
    parser.add_argument("--shapes", default=",".join(SHAPES))
    parser.add_argument("--repeat", type=int, default=1,
                        help="time each cell this many times and print the median (small models are noisy)")
    args = parser.parse_args()
    threads = use_all_cores()
    print(f"// threads={threads} torch={torch.__version__} batch={args.batch_size} timed_batches={args.batches} "
          f"repeat={args.repeat}")
    for shape_name in args.shapes.split(","):
        dataset = random_dataset(SHAPES[shape_name], args.batch_size * (args.batches + args.warmup))
        for arch in args.archs.split(","):
            row = []
            for regime in args.regimes.split(","):
                seconds = statistics.median(seconds_per_batch(arch, regime, dataset, args.batches, args.warmup,
                                                              args.batch_size) for _ in range(max(1, args.repeat)))
                row.append(f'"{regime}": {seconds / args.batch_size * 1e6:.0f}')
            print(f'  "{shape_name}/{arch}": {{ {", ".join(row)} }},', flush=True)


if __name__ == "__main__":
    main()
