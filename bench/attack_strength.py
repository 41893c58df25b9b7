"""How many test images the verification attack breaks, for one engine or several side by side.

    CERTPRUNE_THREADS=1 .venv/bin/python bench/attack_strength.py --arch cnn4 \\
        --checkpoint bench/cache/cnn4_fmnist_fgsm.pt --samples 300 --steps 100 --restarts 30 \\
        [--engine <an unpacked copy of another commit>/engine]

Runs ``pgd_attack`` (certprune.verify.pgd: the attack `verify` runs before any bound) on
the first --samples FashionMNIST test images at --eps, with a fixed seed, and prints how
many of the correctly classified ones it falsifies, which ones, and the seconds. Run it
once per engine (e.g. one per core, at the same time) and compare the counts: every
success is checked by a forward pass, so more is strictly better at the same budget.
"""
from __future__ import annotations

import argparse
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--engine", default=os.path.join(os.path.dirname(HERE), "engine"))
    p.add_argument("--arch", default="cnn4")
    p.add_argument("--checkpoint", required=True)
    p.add_argument("--samples", type=int, default=300)
    p.add_argument("--first", type=int, default=0, help="index of the first test image")
    p.add_argument("--eps", type=float, default=0.1)
    p.add_argument("--steps", type=int, default=100)
    p.add_argument("--restarts", type=int, default=30)
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args(argv)
    sys.path.insert(0, os.path.abspath(args.engine))
    import torch

    from certprune.data import dataset_info, load_dataset
    from certprune.device import use_all_cores
    from certprune.models import build_model
    from certprune.paths import load_torch
    from certprune.verify.pgd import pgd_attack

    use_all_cores()
    torch.manual_seed(args.seed)
    info = dataset_info("fashion-mnist")
    model = build_model(args.arch, info.input_shape, info.num_classes, info.mean, info.std)
    model.load_state_dict(load_torch(args.checkpoint, "cpu"))
    model.eval()
    test = load_dataset("fashion-mnist", "test", size=args.first + args.samples)
    images, labels = test.images[args.first:], test.labels[args.first:]
    with torch.no_grad():
        correct = model(images).argmax(1) == labels
    started, hits = time.monotonic(), []
    for i in correct.nonzero().flatten().tolist():
        _, success = pgd_attack(model, images[i:i + 1], labels[i:i + 1], args.eps, args.steps, args.restarts)
        if bool(success[0]):
            hits.append(args.first + i)
    print(f"engine {os.path.abspath(args.engine)}; {args.arch} {args.checkpoint}; images {args.first}-"
          f"{args.first + len(labels) - 1}; eps {args.eps}; PGD {args.steps} x {args.restarts}; threads "
          f"{torch.get_num_threads()}; {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}; "
          f"load {os.getloadavg()[0]:.1f}")
    print(f"correctly classified {int(correct.sum())}, falsified {len(hits)} "
          f"({len(hits) / max(1, int(correct.sum())):.1%}) in {time.monotonic() - started:.0f} s")
    print("falsified images:", " ".join(map(str, hits)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
