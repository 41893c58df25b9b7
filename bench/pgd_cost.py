"""What one PGD step of the verification attack costs, and whether that is arithmetic.

    CERTPRUNE_THREADS=1 .venv/bin/python bench/pgd_cost.py --arch cnn7 --restarts 30 --steps 20
    .venv/bin/python bench/pgd_cost.py --arch cnn4 --checkpoint bench/cache/cnn4_fmnist_fgsm.pt

Times ``attack_box`` (certprune.verify.pgd, the attack verify runs before the bounds) on
one FashionMNIST-shaped box at eps 0.1 with --restarts restarts for --steps steps (after
one untimed warm-up attack), and counts the multiply-accumulates of one step (forward and
input gradient, certprune.flops.MacCounter). It prints milliseconds per step, MACs per
step and the rate in GMAC/s: a rate near the core's peak says the step is compute-bound
and only fewer or smaller steps make the attack cheaper. The model's weights do not
change the cost; without --checkpoint a freshly initialised network is timed.
"""
from __future__ import annotations

import argparse
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "engine"))

import torch  # noqa: E402

from certprune.device import engine_device  # noqa: E402
from certprune.flops import MacCounter  # noqa: E402
from certprune.models import build_model  # noqa: E402
from certprune.paths import load_torch  # noqa: E402
from certprune.verify.pgd import attack_box, spec_values  # noqa: E402
from certprune.bounds.spec import margin_spec  # noqa: E402


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--arch", choices=("cnn4", "cnn7"), default="cnn7")
    p.add_argument("--checkpoint", help="a state dict of the architecture (optional)")
    p.add_argument("--restarts", type=int, default=30)
    p.add_argument("--steps", type=int, default=20)
    p.add_argument("--repeat", type=int, default=3, help="timed attacks; the fastest is reported")
    return p.parse_args(argv)


def main(argv=None) -> None:
    args = parse_args(argv)
    engine_device("cpu")  # applies CERTPRUNE_THREADS
    torch.manual_seed(0)
    model = build_model(args.arch, input_shape=(1, 28, 28), num_classes=10, mean=(0.286,), std=(0.353,))
    if args.checkpoint:
        state = load_torch(args.checkpoint)
        model.load_state_dict(state.get("model", state))
    model.eval()
    x = torch.rand(1, 1, 28, 28)
    lo, hi = (x - 0.1).clamp(0, 1), (x + 0.1).clamp(0, 1)
    spec = margin_spec(torch.tensor([0]), 10)
    # An offset no point reaches, so the attack never stops early: every step is timed.
    offset = torch.full((1, spec.shape[1]), 1e6)

    def attack():
        return attack_box(model, lo, hi, spec, offset, steps=args.steps, restarts=args.restarts, start=x)

    attack()
    times = []
    for _ in range(args.repeat):
        started = time.perf_counter()
        attack()
        times.append(time.perf_counter() - started)
    per_step = min(times) / (args.steps + 1)  # attack_box evaluates steps + 1 points

    xr = (lo + torch.rand(args.restarts, 1, 28, 28) * (hi - lo)).requires_grad_(True)
    with MacCounter() as counter:
        values = spec_values(model, xr, spec.repeat(args.restarts, 1, 1))
        torch.autograd.grad(values.min(dim=1).values.sum(), xr)
    macs = counter.total
    print(f"{args.arch}, batch {args.restarts}, {torch.__version__}, {torch.get_num_threads()} thread(s)")
    print(f"  {per_step * 1e3:.1f} ms per step (fastest of {args.repeat} attacks of {args.steps} steps)")
    print(f"  {macs / 1e6:.0f} M MACs per step ({macs / args.restarts / 1e6:.1f} M per restart), "
          f"{macs / per_step / 1e9:.1f} GMAC/s")
    print(f"  so 100 steps x 30 restarts: {per_step * 101 * 30 / args.restarts:.2f} s per image")


if __name__ == "__main__":
    main()
