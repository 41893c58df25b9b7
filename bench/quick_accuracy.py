"""Quick accuracy checks on real FashionMNIST with the small cnn4.

    .venv/bin/python bench/quick_accuracy.py                  # both checks
    .venv/bin/python bench/quick_accuracy.py --ibp-epochs 4 --train-size 20000

(a) natural training, 1 epoch on the full training set -> clean test accuracy (want >= 0.80);
(b) IBP training at eps 0.1 (ramp from the first epoch over all but the last epoch) ->
    IBP-verified test accuracy at eps 0.1 (want > 0), on the first --test-size test images.
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
from certprune.train import TrainingSettings, evaluate, train, use_all_cores, verified_accuracy  # noqa: E402


def _model(info, seed=0):
    torch.manual_seed(seed)
    return build_model("cnn4", info.input_shape, info.num_classes, info.mean, info.std)


def _print_epoch(event):
    rounded = {k: round(v, 4) if isinstance(v, float) else v for k, v in event.items()}
    print("   ", rounded, flush=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda"])
    parser.add_argument("--threads", type=int, default=None,
                        help="CPU threads (default: all cores; fewer is faster on a machine shared with other jobs)")
    parser.add_argument("--ibp-epochs", type=int, default=4)
    parser.add_argument("--train-size", type=int, default=None, help="training images for (b) (default all)")
    parser.add_argument("--test-size", type=int, default=1000)
    parser.add_argument("--skip", choices=["natural", "ibp"], default=None)
    args = parser.parse_args()
    torch.set_num_threads(use_all_cores() if args.threads is None else args.threads)
    train_ds = load_dataset("fashion-mnist", "train")
    test_ds = load_dataset("fashion-mnist", "test", size=args.test_size)
    info = train_ds.info

    if args.skip != "natural":
        started = time.perf_counter()
        settings = TrainingSettings.from_config({"regime": "natural", "epochs": 1, "lrMilestones": []}, info)
        model = _model(info)
        train(model, train_ds, None, settings, on_epoch=_print_epoch, device=args.device)
        accuracy = evaluate(model, test_ds)
        print(f"(a) cnn4 natural, 1 epoch, 60000 images: test accuracy {accuracy:.4f} on {len(test_ds)} test images "
              f"({'PASS' if accuracy >= 0.80 else 'FAIL'} >= 0.80) in {time.perf_counter() - started:.1f} s", flush=True)

    if args.skip != "ibp":
        started = time.perf_counter()
        epochs = args.ibp_epochs
        settings = TrainingSettings.from_config({"regime": "ibp", "epochs": epochs, "eps": 0.1, "epsStart": 1,
                                                 "epsLength": max(epochs - 1, 1), "lrMilestones": []}, info)
        model = _model(info)
        subset = train_ds.subset(args.train_size)
        train(model, subset, None, settings, on_epoch=_print_epoch, device=args.device)
        clean = evaluate(model, test_ds)
        verified = verified_accuracy(model, test_ds, 0.1, "ibp")
        print(f"(b) cnn4 IBP eps 0.1, {epochs} epochs on {len(subset)} images: clean {clean:.4f}, "
              f"IBP-verified {verified:.4f} on {len(test_ds)} test images "
              f"({'PASS' if verified > 0 else 'FAIL'} > 0) in {time.perf_counter() - started:.1f} s", flush=True)


if __name__ == "__main__":
    main()
