"""Verification speed on FashionMNIST cnn7 (certified-trained), per mode.

    .venv/bin/python bench/verify_speed.py --checkpoint runs/X/round_0/checkpoint.pt
    .venv/bin/python bench/verify_speed.py --run runs/X --round 3            # a run's round (shrunk)
    .venv/bin/python bench/verify_speed.py --samples 50 --modes crown,bab --timeout 60 --device cuda
    .venv/bin/python bench/verify_speed.py                   # no checkpoint: train a quick one first

Verifies the first N test images at eps 0.1 in each mode and prints, per mode, the
verified / falsified / unknown / misclassified counts, mean and median seconds per
sample, the share of samples settled (not unknown), branch-and-bound subdomains per
second, and which step of the ladder (PGD, IBP, CROWN, alpha-CROWN, BaB) decided them.
Without --checkpoint/--run it trains a small certified cnn7 (a few epochs on a subset; IBP
unless --train-regime crown-ibp; see --train-*) and saves it to --save for the next time.
CERTPRUNE_THREADS=1 keeps it to one core.
"""
from __future__ import annotations

import argparse
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "engine"))

import torch  # noqa: E402

from certprune.data import dataset_info, load_dataset  # noqa: E402
from certprune.device import engine_device  # noqa: E402
from certprune.models import build_model  # noqa: E402
from certprune.paths import load_torch, save_torch  # noqa: E402
from certprune.verify import BabSettings, VerifySettings, summarize, verify_samples  # noqa: E402
from certprune.verify.result import decided_by_text  # noqa: E402

DATASET = "fashion-mnist"
DEFAULT_SAVE = os.path.join(HERE, "cache", "cnn7_fmnist_quick.pt")


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--checkpoint", help="state dict of cnn7 for FashionMNIST (or {'model': state_dict})")
    p.add_argument("--run", help="a run folder (uses its round's shrunk network); with --round")
    p.add_argument("--round", type=int, default=0)
    p.add_argument("--samples", type=int, default=200)
    p.add_argument("--eps", type=float, default=0.1)
    p.add_argument("--timeout", type=float, default=60.0, help="seconds per sample")
    p.add_argument("--modes", default="ibp,crown,alpha-crown,bab")
    p.add_argument("--device", choices=("auto", "cpu", "cuda"), default="auto")
    p.add_argument("--batch", type=int, default=None, help="BaB parents per step (default 1024 GPU / 64 CPU)")
    p.add_argument("--bab-iterations", type=int, default=20)
    p.add_argument("--pgd-steps", type=int, default=100)
    p.add_argument("--pgd-restarts", type=int, default=30)
    p.add_argument("--save", default=DEFAULT_SAVE, help="where a quickly trained model is kept")
    p.add_argument("--train-epochs", type=int, default=12)
    p.add_argument("--train-size", type=int, default=20000)
    p.add_argument("--train-regime", choices=("ibp", "crown-ibp"), default="ibp",
                   help="regime of the quick model (ibp: cheaper on CPU; both are certified training)")
    p.add_argument("--verbose", action="store_true", help="print every sample's result")
    return p.parse_args(argv)


def fresh_model():
    info = dataset_info(DATASET)
    return build_model("cnn7", info.input_shape, info.num_classes, info.mean, info.std)


def load_model(args, device):
    if args.run:
        from certprune.experiment import load_round_model
        model, _ = load_round_model(args.run, args.round, device)
        return model.eval(), f"{args.run} round {args.round}"
    path = args.checkpoint or (args.save if os.path.exists(args.save) else None)
    if path is None:
        return train_quick(args, device), f"quick {args.train_regime} model saved to {args.save}"
    state = load_torch(path, device)
    if isinstance(state, dict) and ("model" in state or "state_dict" in state):
        state = state.get("model", state.get("state_dict"))
    model = fresh_model().to(device)
    model.load_state_dict(state)
    return model.eval(), path


def train_quick(args, device):
    """A small certified-trained cnn7: enough stable neurons to make BaB meaningful."""
    from certprune.train import TrainingSettings, train
    info = dataset_info(DATASET)
    train_ds = load_dataset(DATASET, "train", None, args.train_size)
    epochs = args.train_epochs
    settings = TrainingSettings(regime=args.train_regime, epochs=epochs, eps=args.eps, eps_start=1,
                                eps_length=max(1, epochs // 2), lr_milestones=[max(1, int(0.8 * epochs))],
                                crop_padding=info.crop_padding, flip=info.flip, augment=False)
    model = fresh_model()
    print(f"training a quick cnn7 ({epochs} epochs on {args.train_size} images, {args.train_regime} eps {args.eps}) ...",
          flush=True)
    train(model, train_ds, None, settings, device=str(device) if device.type == "cuda" else "cpu",
          on_epoch=lambda r: print(f"  epoch {r['epoch']}/{r['epochs']} loss {r['loss']:.3f} "
                                   f"acc {r['trainAccuracy']:.3f} robust {r['robustAccuracy']} "
                                   f"({r['seconds']:.0f}s)", flush=True))
    os.makedirs(os.path.dirname(os.path.abspath(args.save)), exist_ok=True)
    save_torch(model.state_dict(), args.save)
    return model.to(device).eval()




def main(argv=None) -> int:
    args = parse_args(argv)
    device = engine_device(args.device)  # as the engine's commands: all cores (CERTPRUNE_THREADS), tuned allocator
    model, source = load_model(args, device)
    test = load_dataset(DATASET, "test", None, args.samples)
    images, labels = test.images.to(device), test.labels.to(device)
    batch = args.batch or (1024 if device.type == "cuda" else 64)
    print(f"model: {source}; device {device}; {len(labels)} samples; eps {args.eps}; timeout {args.timeout}s; "
          f"PGD {args.pgd_steps}x{args.pgd_restarts}; BaB batch {batch}", flush=True)
    header = f"{'mode':<12}{'verified':>9}{'falsified':>10}{'unknown':>8}{'miscls':>7}{'settled':>9}" \
             f"{'mean s':>9}{'median s':>9}{'max s':>8}{'domains/s':>11}"
    rows = []
    for mode in [m.strip() for m in args.modes.split(",") if m.strip()]:
        settings = VerifySettings(bab=BabSettings(batch=batch, iterations=args.bab_iterations))
        started = time.monotonic()

        def report(r):
            if args.verbose:
                print(f"  [{mode}] #{r.index} {r.status:<13} by {r.decided_by:<11} {r.seconds:7.2f}s "
                      f"margin {r.margin_lower if r.margin_lower is None else round(r.margin_lower, 4)} "
                      f"domains {r.domains} (BaB {r.bab_seconds:.2f}s)", flush=True)

        results = verify_samples(model, images, labels, args.eps, mode, args.timeout, args.pgd_steps,
                                 args.pgd_restarts, on_result=report, settings=settings)
        s = summarize(results)
        bab = [r for r in results if r.domains > 0]
        rate = sum(r.domains for r in bab) / max(1e-9, sum(r.bab_seconds for r in bab)) if bab else 0.0
        correct = s["samples"] - s["misclassified"]
        settled = (correct - s["unknown"]) / correct if correct else 1.0
        secs = [r.seconds for r in results]
        rows.append(f"{mode:<12}{s['verified']:>9}{s['falsified']:>10}{s['unknown']:>8}{s['misclassified']:>7}"
                    f"{settled:>9.1%}{s['meanVerifySeconds']:>9.2f}{s['medianVerifySeconds']:>9.2f}"
                    f"{max(secs):>8.1f}{rate:>11.1f}")
        print(header + "\n" + rows[-1] + f"   (wall {time.monotonic() - started:.0f}s)", flush=True)
        print(f"  decided by: {decided_by_text(results)}", flush=True)
    print("\n" + header + "\n" + "\n".join(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
