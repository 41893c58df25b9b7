"""Verification of FGSM+GradAlign-trained cnn4 / cnn7 on FashionMNIST at eps 0.1, per mode.

The paper's adversarial setting, where most samples need more than IBP. Two steps:

    # 1. train (with a FROZEN copy of the engine, so that edits to engine/ cannot break it)
    mkdir -p /tmp/a_tree && git archive HEAD | tar -x -C /tmp/a_tree
    .venv/bin/python bench/verify_adversarial.py train --engine /tmp/a_tree/engine --arch cnn4 \\
        --epochs 4 --save bench/cache/cnn4_fmnist_fgsm.pt
    # 2. verify with this checkout's engine and print the table
    CERTPRUNE_THREADS=1 .venv/bin/python bench/verify_adversarial.py verify --arch cnn4 \\
        --checkpoint bench/cache/cnn4_fmnist_fgsm.pt --samples 200 --timeout 60 --modes ibp,crown,alpha-crown,bab

Per mode: verified / falsified / unknown / misclassified, the share of correctly
classified samples left unknown, mean / median / max seconds per sample, and which step
of the ladder decided them. --first/--samples pick a slice of the test set.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ENGINE = os.path.join(os.path.dirname(HERE), "engine")
DATASET = "fashion-mnist"


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = p.add_subparsers(dest="command", required=True)
    t = sub.add_parser("train", help="FGSM+GradAlign training at eps 0.1 (full train set unless --train-size)")
    t.add_argument("--engine", default=ENGINE, help="the engine folder to train with (a frozen copy)")
    t.add_argument("--arch", choices=("cnn4", "cnn7"), required=True)
    t.add_argument("--epochs", type=int, default=4)
    t.add_argument("--train-size", type=int, default=None)
    t.add_argument("--eps", type=float, default=0.1)
    t.add_argument("--threads", type=int, default=1)
    t.add_argument("--save", required=True)
    v = sub.add_parser("verify", help="verify the first test images in each mode and print the table")
    v.add_argument("--arch", choices=("cnn4", "cnn7"), required=True)
    v.add_argument("--checkpoint", required=True)
    v.add_argument("--samples", type=int, default=200)
    v.add_argument("--first", type=int, default=0, help="index of the first test image")
    v.add_argument("--eps", type=float, default=0.1)
    v.add_argument("--timeout", type=float, default=60.0, help="seconds per sample")
    v.add_argument("--modes", default="ibp,crown,alpha-crown,bab")
    v.add_argument("--device", choices=("auto", "cpu", "cuda"), default="auto")
    v.add_argument("--verbose", action="store_true", help="print every sample's result")
    return p.parse_args(argv)


def train(args) -> int:
    sys.path.insert(0, os.path.abspath(args.engine))
    import torch
    from certprune.data import dataset_info, load_dataset
    from certprune.models import build_model
    from certprune.train import train as train_model
    from certprune.train.settings import TrainingSettings
    torch.set_num_threads(args.threads)
    info = dataset_info(DATASET)
    train_ds = load_dataset(DATASET, "train", size=args.train_size)
    test_ds = load_dataset(DATASET, "test", size=1000)  # FGSM accuracy picks the best epoch
    settings = TrainingSettings.from_config({"regime": "fgsm", "epochs": args.epochs, "eps": args.eps,
                                             "epsStart": 1, "epsLength": 1}, info, augment=True)
    torch.manual_seed(0)
    model = build_model(args.arch, info.input_shape, info.num_classes, info.mean, info.std)
    started = time.time()
    result = train_model(model, train_ds, test_ds, settings, device="cpu",
                         on_epoch=lambda r: print(json.dumps(r), flush=True))
    os.makedirs(os.path.dirname(os.path.abspath(args.save)), exist_ok=True)
    torch.save(result.state_dict, args.save)
    print(f"best epoch {result.best_epoch}; saved {args.save}; {time.time() - started:.0f}s", flush=True)
    return 0




def verify(args) -> int:
    sys.path.insert(0, ENGINE)
    from certprune.data import dataset_info, load_dataset
    from certprune.device import engine_device
    from certprune.models import build_model
    from certprune.paths import load_torch
    from certprune.verify import VerifySettings, summarize, verify_samples
    from certprune.verify.result import decided_by_text
    device = engine_device(args.device)
    info = dataset_info(DATASET)
    model = build_model(args.arch, info.input_shape, info.num_classes, info.mean, info.std).to(device)
    model.load_state_dict(load_torch(args.checkpoint, device))
    model.eval()
    test = load_dataset(DATASET, "test", size=args.first + args.samples)
    images, labels = test.images[args.first:].to(device), test.labels[args.first:].to(device)
    print(f"{args.arch} {args.checkpoint}; {len(labels)} test images from #{args.first}; eps {args.eps}; "
          f"timeout {args.timeout}s; device {device}; {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}; "
          f"load {os.getloadavg()[0]:.1f}", flush=True)
    header = (f"{'mode':<12}{'verified':>9}{'falsified':>10}{'unknown':>8}{'miscls':>7}{'unknown %':>10}"
              f"{'mean s':>8}{'median s':>9}{'max s':>7}")
    rows = []
    for mode in [m.strip() for m in args.modes.split(",") if m.strip()]:
        started = time.monotonic()

        def report(r, mode=mode):
            if args.verbose:
                print(f"  [{mode}] #{r.index} {r.status:<13} by {r.decided_by:<11} {r.seconds:6.2f}s "
                      f"margin {r.margin_lower if r.margin_lower is None else round(r.margin_lower, 4)} "
                      f"final {r.final_margin_lower if r.final_margin_lower is None else round(r.final_margin_lower, 4)} "
                      f"domains {r.domains}", flush=True)

        results = verify_samples(model, images, labels, args.eps, mode, args.timeout, on_result=report,
                                 settings=VerifySettings(), first_index=args.first)
        s = summarize(results)
        correct = s["samples"] - s["misclassified"]
        share = s["unknown"] / correct if correct else 0.0
        rows.append(f"{mode:<12}{s['verified']:>9}{s['falsified']:>10}{s['unknown']:>8}{s['misclassified']:>7}"
                    f"{share:>10.1%}{s['meanVerifySeconds']:>8.2f}{s['medianVerifySeconds']:>9.2f}"
                    f"{max(r.seconds for r in results):>7.1f}")
        print(header + "\n" + rows[-1] + f"   (wall {time.monotonic() - started:.0f}s, "
              f"load {os.getloadavg()[0]:.1f})", flush=True)
        print(f"  decided by: {decided_by_text(results)}", flush=True)
    print("\n" + header + "\n" + "\n".join(rows))
    return 0


def main(argv=None) -> int:
    args = parse_args(argv)
    return train(args) if args.command == "train" else verify(args)


if __name__ == "__main__":
    sys.exit(main())
