"""Branch and bound on close calls: eps a few percent either side of the exact radius.

    .venv/bin/python bench/bab_close_calls.py                        # the test cases + harder ones
    .venv/bin/python bench/bab_close_calls.py --timeout 60 --close 0.03 --cases mlp-a,cnn-a
    .venv/bin/python bench/bab_close_calls.py --engine /tmp/engine_before   # another copy of the engine
    .venv/bin/python bench/bab_close_calls.py --hard --cases none       # only the larger nets

Per case and side it prints: the exact radius (MILP, see tests/test_bab_close_calls.py),
eps, root-unstable ReLUs (CROWN intermediate bounds), the verdict, how it was decided,
seconds, and branch-and-bound subdomains. 'below' must be verified, 'above' falsified.
--hard adds larger conv nets (2x9x9 inputs, 4 classes, 60-170 unstable ReLUs) whose
radius is too costly for the MILP: eps is 0.85 of the smallest eps at which PGD finds a
violation, the truth is unknown ('?'), a falsification carries a checked counterexample.
One thread (the cases are tiny); report `uptime` beside the figures.
"""
from __future__ import annotations

import argparse
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))

#: harder cases than the tests (radius MILPs take a minute or more each).
EXTRA_CASES = [
    ("cnn-c", "cnn", 21, {"input_shape": (1, 7, 7)}),
    ("mlp-d", "mlp", 14, {"widths": (32, 32), "input_shape": (1, 4, 4)}),
]
#: (name, seed): random_cnn on 2x9x9 inputs with 4 classes, eps = HARD_FACTOR * PGD's radius.
HARD_CASES = [("cnn-h31", 31), ("cnn-h32", 32), ("cnn-h33", 33)]
HARD_FACTOR = 0.85


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--engine", default=os.path.join(os.path.dirname(HERE), "engine"),
                        help="engine folder whose certprune package is timed (default: this checkout's)")
    parser.add_argument("--timeout", type=float, default=60.0, help="seconds per verification")
    parser.add_argument("--close", type=float, default=0.03, help="relative distance of eps from the radius")
    parser.add_argument("--cases", default="", help="comma-separated case names (default: all)")
    parser.add_argument("--extra", action="store_true", help="also the harder EXTRA_CASES")
    parser.add_argument("--hard", action="store_true", help="also HARD_CASES (no exact radius)")
    args = parser.parse_args()
    # The MILP reference and the case list always come from this checkout's tests.
    sys.path.insert(0, os.path.abspath(args.engine))
    sys.path.insert(1, os.path.join(os.path.dirname(HERE), "engine", "tests"))
    import torch

    from certprune.bounds import build_graph
    from certprune.bounds.ibp import preactivation_bounds
    from certprune.verify import verify_sample
    from test_bab_close_calls import CASES, _attack_radius, close_settings, make_case
    from test_bounds_nets import random_cnn

    torch.set_num_threads(1)
    cases = CASES + (EXTRA_CASES if args.extra else [])
    wanted = {c for c in args.cases.split(",") if c}
    print(f"engine {args.engine}; timeout {args.timeout:g} s; eps = radius * (1 -/+ {args.close:g})")
    print(f"{'case':8} {'radius':>8} {'side':5} {'eps':>8} {'unstable':>8} {'verdict':>9} {'by':>11} "
          f"{'seconds':>8} {'domains':>8}  ok")
    def run(name, model, x, label, radius, side, eps, expected):
        xl, xu = (x - eps).clamp(0, 1).unsqueeze(0), (x + eps).clamp(0, 1).unsqueeze(0)
        with torch.no_grad():
            pre, _, _ = preactivation_bounds(build_graph(model, x.shape), xl, xu, crown=True)
        unstable = sum(int(((l < 0) & (u > 0)).sum()) for l, u in pre.values())
        began = time.monotonic()
        res = verify_sample(model, x, label, eps, mode="bab", timeout=args.timeout, settings=close_settings())
        seconds = time.monotonic() - began
        ok = "?" if expected is None else ("yes" if res.status == expected else "NO")
        print(f"{name:8} {radius:8.5f} {side:5} {eps:8.5f} {unstable:8d} {res.status:>9} "
              f"{res.decided_by:>11} {seconds:8.2f} {res.domains:8d}  {ok}", flush=True)

    for name, kind, seed, shape in cases:
        if wanted and name not in wanted:
            continue
        case = make_case(name, kind, seed, **shape)
        if case is None:
            print(f"{name:8} no radius found")
            continue
        for side, factor, expected in (("below", 1 - args.close, "verified"), ("above", 1 + args.close, "falsified")):
            run(name, case.model, case.x, case.label, case.radius, side, case.radius * factor, expected)
    for name, seed in HARD_CASES if args.hard else []:
        gen = torch.Generator().manual_seed(seed)
        model = random_cnn(gen, (2, 9, 9), classes=4)
        x = torch.rand(2, 9, 9, generator=gen)
        with torch.no_grad():
            label = int(model(x.unsqueeze(0)).argmax())
        torch.manual_seed(seed)
        attack = _attack_radius(model, x, label, 4)  # the radius column: PGD's, not the exact one
        run(name, model, x, label, attack, "pgd", HARD_FACTOR * attack, None)


if __name__ == "__main__":
    main()
