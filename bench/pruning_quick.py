"""Quick pruning benchmark: certified accuracy vs sparsity for IMP, IMP+NRS and Random.

    .venv/bin/python bench/pruning_quick.py                       # the quick preset (FashionMNIST, cnn4, CPU)
    .venv/bin/python bench/pruning_quick.py --epochs 4 --rounds 4 --samples 50 --out /tmp/pruning-quick

Runs the three methods as one sweep (IMP and Random share their dense round) with
certprune.experiment.run_experiment, then prints each method's curve and a line in the
form of the paper's Table I: the best round by verified accuracy, "remaining ratio;
standard/verified accuracy" in percent. A finished run is reused when started again
with the same --out (phases are skipped), so the table can be reprinted for free.

Measured 2026-11-24 (2 shared CPU cores, load average 7-12): 232 s of CPU time, 632 s wall;
dense 75.5/58.0, IMP .25; 77.5/60.0, IMP+NRS .06; 79.0/62.0, Random .12; 76.5/60.0
(docs/benchmarks.md). Standard and PGD accuracy are measured on the same attack_samples images.
"""
from __future__ import annotations

import argparse
import os
import resource
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "engine"))

from certprune.experiment import run_experiment  # noqa: E402
from certprune.protocol import load_config  # noqa: E402

# (label, pruning.method, training.regularizer)
METHODS = (("IMP", "imp", "none"), ("IMP+NRS", "imp", "nrs"), ("Random", "random", "none"))

# The quick preset: small enough for 2 CPU cores in about a quarter of an hour.
# - regime "ibp" (interval bound training): CROWN-IBP's backward pass through the bounds
#   currently costs ~10x IBP's on CPU; pass --regime crown-ibp for the paper's regime;
# - eps 0.05 (the paper: 0.1): with only ~150 steps per round, IBP training at 0.1
#   collapses to a constant classifier; at 0.05 cnn4 reaches ~50% std / ~35% IBP-verified;
# - rate 0.5 reaches 6% of the conv weights in 4 rounds (the paper: 0.2 per round, 16 rounds).
PRESET = {
    "dataset": "fashion-mnist", "arch": "cnn4", "regime": "ibp", "eps": 0.05, "epochs": 8, "eps_start": 2,
    "eps_length": 4, "train_size": 4000, "test_size": 2000, "augment": 0, "rounds": 4, "rate": 0.5,
    "samples": 50, "mode": "bab", "timeout": 2.0, "pgd_steps": 20, "pgd_restarts": 2, "attack_samples": 200,
    "seed": 0,
}


def config_for(method: str, regularizer: str, args) -> dict:
    """The run configuration of one method under the preset (camelCase, as the dashboard writes it)."""
    return load_config({
        "data": {"dataset": args.dataset, "trainSize": args.train_size, "testSize": args.test_size,
                 "augment": bool(args.augment)},
        "model": {"arch": args.arch},
        "training": {"regime": args.regime, "eps": args.eps, "epochs": args.epochs, "regularizer": regularizer,
                     # natural warm-up, eps ramp, then the full eps; lr x0.1 for the last epoch
                     "epsStart": args.eps_start, "epsLength": args.eps_length,
                     "lrMilestones": [max(1, args.epochs - 1)]},
        "pruning": {"method": method, "rounds": args.rounds, "rate": args.rate},
        "verification": {"mode": args.mode, "samples": args.samples, "timeout": args.timeout,
                         "pgdSteps": args.pgd_steps, "pgdRestarts": args.pgd_restarts,
                         "attackSamples": args.attack_samples},
        "seed": args.seed, "device": "auto",
    })


def progress(label: str):
    """An emit() that prints one line per finished round to stderr and ignores the rest."""
    def emit(type, **fields):
        if type == "round_finished":
            ver = fields["verifiedAccuracy"]
            print(f"  {label:8s} round {fields['round']}: remaining {fields['remainingRatio']:.3f} "
                  f"std {fields['standardAccuracy']:.3f} ver {'-' if ver is None else f'{ver:.3f}'} "
                  f"({fields['seconds']:.0f}s)", file=sys.stderr, flush=True)
        elif type == "log" and fields["level"] in ("warning", "error"):
            print(f"  {label}: {fields['message']}", file=sys.stderr, flush=True)
    return emit


def percent(value) -> str:
    return "-" if value is None else f"{100 * value:.1f}"


def ratio(value: float) -> str:
    return "1" if value >= 0.9995 else f"{value:.2f}".lstrip("0")


def table(summaries: dict) -> str:
    """Curves and the Table I lines (best round per method: remaining ratio; std/ver)."""
    lines = ["curves (remaining ratio: standard / verified accuracy, %):"]
    for label, summary in summaries.items():
        points = [f"{ratio(r['remainingRatio'])}: {percent(r['standardAccuracy'])}/{percent(r['verifiedAccuracy'])}"
                  for r in summary["curve"]]
        lines.append(f"  {label:8s} " + "  ".join(points))
    dense = next(iter(summaries.values()))["curve"][0]
    lines += ["", "Table I form (best round by verified accuracy: remaining ratio; std/ver):",
              f"  {'dense':8s} 1; {percent(dense['standardAccuracy'])}/{percent(dense['verifiedAccuracy'])}"]
    for label, summary in summaries.items():
        best = summary["bestRound"]
        if best is None:
            lines.append(f"  {label:8s} (no verified accuracy: verification.mode none)")
            continue
        row = summary["curve"][best]
        lines.append(f"  {label:8s} {ratio(row['remainingRatio'])}; "
                     f"{percent(row['standardAccuracy'])}/{percent(row['verifiedAccuracy'])}  (round {best})")
    return "\n".join(lines)


def cpu_seconds() -> float:
    """User + system CPU time of this process (all threads): the cost on an otherwise idle machine."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="/tmp/certprune-pruning-quick", help="folder for the runs")
    for key, value in PRESET.items():
        flag = "--" + key.replace("_", "-")
        parser.add_argument(flag, type=type(value), default=value, help=f"(default {value})")
    return parser.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    started = time.time()
    summaries = {}
    shared = os.path.join(args.out, "shared")
    for label, method, regularizer in METHODS:
        print(f"{label}: {method} with regulariser {regularizer}", file=sys.stderr, flush=True)
        summaries[label] = run_experiment(config_for(method, regularizer, args), os.path.join(args.out, label),
                                          progress(label), shared_dir=shared)
    print(table(summaries))
    print(f"\n{args.dataset}, {args.arch}, {args.regime} at eps {args.eps:g}, {args.epochs} epochs/round, {args.rounds} rounds at "
          f"rate {args.rate}, {args.samples} samples verified by {args.mode} ({args.timeout:g}s timeout); "
          f"{time.time() - started:.0f}s wall, {cpu_seconds():.0f}s CPU")
    return 0


if __name__ == "__main__":
    sys.exit(main())
