"""Trace one instance through the verifier: each stage's margins, branch and bound's progress.

    CERTPRUNE_THREADS=1 .venv/bin/python bench/bab_trace.py --onnx bench/cache/fc/fc_256x4.onnx \\
        --vnnlib bench/cache/fc/prop_0_0.02.vnnlib --timeout 150 [--every 10] [--share 8] [--iterations 20]

Runs `verify`'s own `decide` in this process and prints, as they happen: the best bound of
every clause after IBP, CROWN and alpha-CROWN; every --every-th batch of branch and bound
(subdomains in the batch, their worst and median bound, the share proven safe, the mean
unstable ReLUs per layer); and each clause's outcome (status, subdomains, seconds).
--share / --iterations / --batch / --lr-alpha / --lr-beta override the re-bounding budget
(beta_crown.TIGHTEN_SHARE), the alpha/beta steps per batch, the parents per batch and the
two step sizes, to compare settings on one case.
--engine picks the engine folder (e.g. an unpacked copy of another commit).
"""
from __future__ import annotations

import argparse
import inspect
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--onnx", required=True)
    p.add_argument("--vnnlib", required=True)
    p.add_argument("--timeout", type=float, default=30.0)
    p.add_argument("--engine", default=os.path.join(os.path.dirname(HERE), "engine"))
    p.add_argument("--every", type=int, default=10, help="print every Nth branch-and-bound batch")
    p.add_argument("--share", type=float, default=None, help="re-bounding budget, x the optimisation")
    p.add_argument("--iterations", type=int, default=None, help="alpha/beta steps per batch")
    p.add_argument("--batch", type=int, default=None, help="parents split per batch")
    p.add_argument("--lr-alpha", type=float, default=None, help="branch and bound's step size for the slopes")
    p.add_argument("--lr-beta", type=float, default=None, help="branch and bound's step size for the betas")
    args = p.parse_args(argv)
    sys.path.insert(0, os.path.abspath(args.engine))
    import torch

    from certprune.commands import verify as cli
    from certprune.device import engine_device
    from certprune.verify import beta_crown, stages

    if args.share is not None:
        beta_crown.TIGHTEN_SHARE = args.share
    t0 = [time.monotonic()]
    batches = [0]

    def traced_bound_domains(root, doms, *a, _inner=beta_crown.bound_domains, **k):
        result = _inner(root, doms, *a, **k)
        batches[0] += 1
        if batches[0] % args.every == 0 or batches[0] <= 3:
            unstable = {q: round(float(((doms.lower[q] < 0) & (doms.upper[q] > 0)).sum(1).float().mean()))
                        for q in root.positions}
            print(f"  batch {batches[0]:>4} t={time.monotonic() - t0[0]:6.1f}s subdomains {len(doms):>5} "
                  f"worst {float(result.bound.min()):9.4f} median {float(result.bound.median()):9.4f} "
                  f"safe {float((result.bound > 1e-4).float().mean()):.2f} unstable/layer {unstable}", flush=True)
        return result

    def traced_bab(*a, _inner=stages.branch_and_bound, **k):
        settings = inspect.signature(_inner).bind(*a, **k).arguments["settings"]
        if args.iterations is not None:
            settings.iterations = args.iterations
        if args.batch is not None:
            settings.batch = args.batch
        if args.lr_alpha is not None:
            settings.lr_alpha = args.lr_alpha
        if args.lr_beta is not None:
            settings.lr_beta = args.lr_beta
        started = time.monotonic()
        result = _inner(*a, **k)
        print(f" clause: {result.status} ({result.reason}), {result.domains} subdomains, worst open bound "
              f"{result.lower:.4f}, {time.monotonic() - started:.1f}s (t={time.monotonic() - t0[0]:.1f}s)", flush=True)
        return result

    from certprune.verify import bab
    bab.bound_domains = traced_bound_domains
    stages.branch_and_bound = traced_bab
    for stage in stages.STAGES:
        if stage.name == "bab":
            continue

        def traced(state, _run=stage.run, _name=stage.name):
            verdict = _run(state)
            best = [round(float(v), 4) for v in state.best] if getattr(state, "best", None) is not None else None
            print(f" {_name:<12} t={time.monotonic() - t0[0]:6.2f}s best bound per clause {best}", flush=True)
            return verdict
        object.__setattr__(stage, "run", traced)

    parser = argparse.ArgumentParser()
    cli.add_arguments(parser)
    vargs = parser.parse_args(["--onnx", args.onnx, "--vnnlib", args.vnnlib, "--timeout", str(args.timeout)])
    device = engine_device("auto")
    model, shape, outputs = cli.load_model(args.onnx, device)
    prop = cli.load_property(args.vnnlib, shape, outputs)
    print(f"{args.onnx} {args.vnnlib}; timeout {args.timeout:g}s; threads {torch.get_num_threads()}; "
          f"share {beta_crown.TIGHTEN_SHARE:g}; {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}; "
          f"load {os.getloadavg()[0]:.1f}", flush=True)
    t0[0] = time.monotonic()
    answer = cli.decide(model, shape, prop, time.monotonic() + args.timeout, vargs, device)
    print(f"answer: {answer.splitlines()[0]} in {time.monotonic() - t0[0]:.1f}s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
