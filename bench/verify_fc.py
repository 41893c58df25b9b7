"""Deep fully connected networks, VNN-COMP style: naturally trained MLPs on FashionMNIST.

VNN-COMP 2021's MNIST suites (mnistfc: 256x2 / 256x4 / 256x6; ERAN: up to 9 x 200) are
naturally trained MLPs whose robustness properties at small eps mostly need branch and
bound. Their networks are not in the kit, so this script builds networks of the same
shapes here and writes the same kind of instances. Two steps:

    # 1. train the MLPs, export ONNX, write VNNLIB properties and instances.csv
    .venv/bin/python bench/verify_fc.py make --out bench/cache/fc --epochs 3
    # 2. decide every instance in one process (verify --batch) and print per-network totals
    CERTPRUNE_THREADS=1 .venv/bin/python bench/verify_fc.py run --out bench/cache/fc --timeout 30

Properties: the first --images correctly classified test images, at each --eps (the
pixel range is [0, 1]); "verified" is unsat, "falsified" sat (the engine checks the
counterexample), "unknown" a timeout. `run --label NAME` keeps each run's answers apart,
so engines or settings can be compared on the same instances.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from collections import Counter, defaultdict

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
ENGINE = os.path.join(ROOT, "engine")
DATASET = "fashion-mnist"
SHAPES = {"256x2": [256] * 2, "256x4": [256] * 4, "256x6": [256] * 6, "200x9": [200] * 9}


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = p.add_subparsers(dest="command", required=True)
    m = sub.add_parser("make", help="train the MLPs and write the instances")
    m.add_argument("--out", required=True, help="folder for the networks, properties and instances.csv")
    m.add_argument("--nets", default=",".join(SHAPES), help=f"comma-separated, of {', '.join(SHAPES)}")
    m.add_argument("--epochs", type=int, default=3)
    m.add_argument("--lr", type=float, default=None, help="SGD learning rate (default: the natural regime's)")
    m.add_argument("--train-size", type=int, default=None, help="the first N training images (default: all)")
    m.add_argument("--images", type=int, default=15, help="correctly classified test images per eps")
    m.add_argument("--eps", default="0.01,0.02", help="comma-separated L-inf radii")
    m.add_argument("--timeout", type=float, default=30.0, help="the csv's seconds per instance")
    m.add_argument("--threads", type=int, default=1)
    r = sub.add_parser("run", help="verify --batch on the instances; per-network totals")
    r.add_argument("--out", required=True)
    r.add_argument("--engine", default=os.path.join(ENGINE, "bin", "certprune-engine"),
                   help="the engine to run (e.g. a frozen copy's, to compare)")
    r.add_argument("--timeout", type=float, default=None, help="seconds per instance (default: the csv's)")
    r.add_argument("--label", default="run", help="results go to OUT/results-LABEL")
    r.add_argument("--only", default=None, help="comma-separated network names to run")
    t = sub.add_parser("tally", help="print the totals of earlier runs side by side")
    t.add_argument("--out", required=True)
    t.add_argument("labels", nargs="+")
    return p.parse_args(argv)


def make(args) -> int:
    sys.path.insert(0, ENGINE)
    import torch

    from certprune.data import dataset_info, load_dataset
    from certprune.models import build_model
    from certprune.onnx_io import export_onnx
    from certprune.train import train as train_model
    from certprune.train.settings import TrainingSettings
    from certprune.vnnlib_write import write_vnnlib

    torch.set_num_threads(args.threads)
    info = dataset_info(DATASET)
    train_ds = load_dataset(DATASET, "train", size=args.train_size)
    test_ds = load_dataset(DATASET, "test", size=1000)
    eps_list = [float(e) for e in args.eps.split(",") if e.strip()]
    os.makedirs(args.out, exist_ok=True)
    rows, meta = [], {}
    for name in [n.strip() for n in args.nets.split(",") if n.strip()]:
        widths = SHAPES[name]
        settings = TrainingSettings.from_config({"regime": "natural", "epochs": args.epochs, "lr": args.lr}, info, augment=False)
        torch.manual_seed(0)
        model = build_model("mlp", info.input_shape, info.num_classes, info.mean, info.std, widths=widths)
        started = time.time()
        result = train_model(model, train_ds, test_ds, settings, device="cpu")
        model.load_state_dict(result.state_dict)
        model.eval()
        onnx_name = f"fc_{name}.onnx"
        export_onnx(model, info.input_shape, os.path.join(args.out, onnx_name))
        with torch.no_grad():
            predicted = model(test_ds.images).argmax(1)
        correct = (predicted == test_ds.labels).nonzero().flatten()[:args.images].tolist()
        accuracy = float((predicted == test_ds.labels).float().mean())
        meta[name] = {"widths": widths, "testAccuracy1000": round(accuracy, 4), "images": correct,
                      "trainSeconds": round(time.time() - started, 1)}
        print(f"{name}: accuracy {accuracy:.3f} on 1,000 test images, {time.time() - started:.0f}s", flush=True)
        for eps in eps_list:
            for i in correct:
                x = test_ds.images[i]
                vnn = f"prop_{i}_{eps:g}.vnnlib"
                write_vnnlib(os.path.join(args.out, vnn), (x - eps).clamp(0, 1).flatten().tolist(),
                             (x + eps).clamp(0, 1).flatten().tolist(), int(test_ds.labels[i]), info.num_classes)
                rows.append(f"{onnx_name},{vnn},{args.timeout:g}")
    with open(os.path.join(args.out, "instances.csv"), "w", encoding="utf-8") as f:
        f.write("\n".join(rows) + "\n")
    with open(os.path.join(args.out, "networks.json"), "w", encoding="utf-8") as f:
        json.dump(meta, f, indent=1)
    print(f"{len(rows)} instances in {os.path.join(args.out, 'instances.csv')}")
    return 0


def _net(onnx_name: str) -> str:
    return onnx_name.removeprefix("fc_").removesuffix(".onnx")


def run(args) -> int:
    csv = os.path.join(args.out, "instances.csv")
    if args.only:
        keep = {n.strip() for n in args.only.split(",")}
        with open(csv, encoding="utf-8") as f:
            lines = [ln for ln in f.read().splitlines() if ln and _net(ln.split(",")[0]) in keep]
        csv = os.path.join(args.out, f"instances-{args.label}.csv")
        with open(csv, "w", encoding="utf-8") as f:
            f.write("\n".join(lines) + "\n")
    results = os.path.join(args.out, f"results-{args.label}")
    cmd = [args.engine, "verify", "--batch", csv, "--results-dir", results]
    if args.timeout is not None:
        cmd += ["--timeout", f"{args.timeout:g}"]
    print(f"{' '.join(cmd)}; {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}; "
          f"load {os.getloadavg()[0]:.1f}", flush=True)
    started = time.monotonic()
    with subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True) as proc:
        for line in proc.stdout:
            print("  " + line.rstrip(), flush=True)
    print(f"wall {time.monotonic() - started:.0f}s, load {os.getloadavg()[0]:.1f}")
    tally(argparse.Namespace(out=args.out, labels=[args.label]))
    return proc.returncode


def _read(out: str, label: str):
    path = os.path.join(out, f"results-{label}", "results.csv")
    rows = {}
    with open(path, encoding="utf-8") as f:
        for line in f.read().splitlines():
            onnx_name, vnn, word, seconds = line.split(",")
            rows[(onnx_name, vnn)] = (word, float(seconds))
    return rows


def tally(args) -> int:
    words = {"unsat": "verified", "sat": "falsified", "timeout": "unknown"}
    runs = {label: _read(args.out, label) for label in args.labels}
    print(f"{'network':<8}{'run':<14}{'verified':>9}{'falsified':>10}{'unknown':>8}{'other':>6}"
          f"{'decided':>9}{'mean s':>8}")
    for label, rows in runs.items():
        per = defaultdict(Counter)
        secs = defaultdict(list)
        for (onnx_name, _), (word, seconds) in rows.items():
            per[_net(onnx_name)][words.get(word, "other")] += 1
            secs[_net(onnx_name)].append(seconds)
        for net in sorted(per, key=lambda n: list(SHAPES).index(n) if n in SHAPES else 99):
            c, n = per[net], len(secs[net])
            print(f"{net:<8}{label:<14}{c['verified']:>9}{c['falsified']:>10}{c['unknown']:>8}{c['other']:>6}"
                  f"{c['verified'] + c['falsified']:>5}/{n:<3}{sum(secs[net]) / n:>8.2f}")
    if len(runs) == 2:
        (la, a), (lb, b) = runs.items()
        changed = [(k, a[k][0], b[k][0]) for k in a.keys() & b.keys() if a[k][0] != b[k][0]]
        wrong = [c for c in changed if {c[1], c[2]} == {"sat", "unsat"}]
        print(f"{len(changed)} instances answered differently by {la} and {lb}; contradictions: {len(wrong)}")
        for k, x, y in sorted(changed):
            print(f"  {k[0]} {k[1]}: {x} -> {y}")
    return 0


def main(argv=None) -> int:
    args = parse_args(argv)
    return {"make": make, "run": run, "tally": tally}[args.command](args)


if __name__ == "__main__":
    sys.exit(main())
