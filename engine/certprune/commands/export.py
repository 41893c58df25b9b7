"""certprune-engine export: a trained round as a VNN-COMP benchmark folder.

    certprune-engine export --run DIR --round K --out BUNDLE [--samples N]

Writes BUNDLE/model.onnx (the round's network, channel-pruned layers shrunk), one
VNNLIB property per verification sample (the first N test images, L-inf ball of the
run's verification eps) and instances.csv; prints the bundle's path.
"""
from __future__ import annotations

import os
import sys


def add_arguments(parser) -> None:
    parser.add_argument("--run", required=True, help="the --out folder of a run")
    parser.add_argument("--round", required=True, type=int, help="which round's trained network (0 = dense)")
    parser.add_argument("--out", required=True, help="folder to write the benchmark into")
    parser.add_argument("--samples", type=int, default=None,
                        help="properties for the first N test images (default: the run's verification.samples)")


def main(args) -> int:
    from certprune.data import DatasetError, load_dataset
    from certprune.experiment import load_round_model, verification_eps
    from certprune.onnx_io import export_bundle
    try:
        model, config = load_round_model(args.run, args.round)
    except FileNotFoundError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    samples = args.samples if args.samples is not None else config["verification"]["samples"]
    if samples < 1:
        print(f"error: --samples must be at least 1, got {samples}", file=sys.stderr)
        return 2
    data = config["data"]
    try:
        test = load_dataset(data["dataset"], "test", data.get("root"), samples)
    except DatasetError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    os.makedirs(args.out, exist_ok=True)
    export_bundle(model, test.images, test.labels, verification_eps(config), args.out,
                  config["verification"]["timeout"])
    print(os.path.abspath(args.out))
    return 0
