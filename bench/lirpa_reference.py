"""CertPrune's bounds beside auto_LiRPA's (the library under alpha-beta-CROWN) on the same network.

A reference check for the verifier's bound quality: IBP, CROWN and alpha-CROWN margins
(the lower bound of "true class minus each other class", worst over the other classes)
per test image, from auto_LiRPA 0.3 and from this checkout's engine, side by side.

auto_LiRPA 0.3 needs PyTorch < 1.14, so it runs in a second environment on Debian's
PyTorch 1.13; the two halves talk through one file of plain tensors:

    # once: Debian's PyTorch 1.13 and auto_LiRPA 0.3 beside it (not a project dependency)
    apt-get install -y --no-install-recommends python3-torch python3-numpy
    python3 -m venv --system-site-packages /tmp/lirpa
    pip download --no-deps auto_LiRPA==0.3 -d /tmp/alp
    /tmp/lirpa/bin/pip install --no-deps /tmp/alp/auto_LiRPA-0.3-py3-none-any.whl appdirs packaging pyyaml tqdm
    # 1. the network and images as plain tensors, and CertPrune's margins (project venv)
    CERTPRUNE_THREADS=1 .venv/bin/python bench/lirpa_reference.py export --arch cnn4 \\
        --checkpoint bench/cache/cnn4_fmnist_fgsm.pt --samples 40 --out /tmp/cnn4_ref.pt
    # 2. auto_LiRPA's margins for the same file, printed beside CertPrune's
    OMP_NUM_THREADS=1 /tmp/lirpa/bin/python bench/lirpa_reference.py bound /tmp/cnn4_ref.pt
    # (or --instances bench/cache/fc/hard-256x4.csv in step 1: one network's VNN-COMP instances)

    # the reference file engine/tests/test_bounds_reference.py reads (two small seeded networks)
    /tmp/lirpa/bin/python bench/lirpa_reference.py fixture

Only flat Sequential networks of Normalize / ElementwiseAffine / Reshape / Conv2d / BatchNorm2d / ReLU / Flatten / Linear
layers (CertPrune's cnn4, cnn7 and MLPs) are written; the images are those the network
classifies correctly. Both sides use the same input box, [x - eps, x + eps] clipped to
[0, 1], and the same specification matrix.
"""
from __future__ import annotations

import argparse
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ENGINE = os.path.join(os.path.dirname(HERE), "engine")
DATASET = "fashion-mnist"


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = p.add_subparsers(dest="command", required=True)
    e = sub.add_parser("export", help="write the network, images and CertPrune's margins (project venv)")
    e.add_argument("--arch", choices=("cnn4", "cnn7"), help="a FashionMNIST checkpoint's architecture")
    e.add_argument("--checkpoint", help="its state dict (with --arch)")
    e.add_argument("--instances", help="instead: a VNN-COMP instances.csv (onnx,vnnlib,timeout), one network, "
                                       "robustness properties (one input box, one row per clause)")
    e.add_argument("--samples", type=int, default=40)
    e.add_argument("--eps", type=float, default=0.1)
    e.add_argument("--alpha-iterations", type=int, default=None,
                   help="CertPrune's alpha-CROWN steps (default: the verifier's own setting)")
    e.add_argument("--out", required=True)
    b = sub.add_parser("bound", help="auto_LiRPA's margins for an exported file, beside CertPrune's")
    b.add_argument("file")
    b.add_argument("--iterations", default="20,100", help="alpha-CROWN step counts to run, comma-separated")
    b.add_argument("--lr-alpha", type=float, default=0.1)
    f = sub.add_parser("fixture", help="write engine/tests' reference file: small seeded networks and auto_LiRPA's "
                                       "bounds on them (auto_LiRPA env)")
    f.add_argument("--out", default=os.path.join(ENGINE, "tests", "fixtures", "lirpa_reference.json"))
    return p.parse_args(argv)


def layer_specs(model):
    """The Sequential as a list of (kind, tensors...) tuples any PyTorch can rebuild."""
    import torch.nn as nn
    specs = []
    for layer in model:
        name = type(layer).__name__
        if name == "Normalize":
            specs.append(("normalize", layer.mean.detach().clone(), layer.std.detach().clone()))
        elif name == "ElementwiseAffine":  # an ONNX network's leading Sub/Div or Mul/Add
            specs.append(("affine", layer.scale.detach().clone(), layer.shift.detach().clone()))
        elif name == "Reshape":
            specs.append(("reshape", tuple(layer.shape)))
        elif isinstance(layer, nn.Conv2d):
            specs.append(("conv", layer.weight.detach().clone(), layer.bias.detach().clone(),
                          tuple(layer.stride), tuple(layer.padding)))
        elif isinstance(layer, nn.BatchNorm2d):
            specs.append(("bn", layer.weight.detach().clone(), layer.bias.detach().clone(),
                          layer.running_mean.detach().clone(), layer.running_var.detach().clone(), layer.eps))
        elif isinstance(layer, nn.ReLU):
            specs.append(("relu",))
        elif isinstance(layer, nn.Flatten):
            specs.append(("flatten",))
        elif isinstance(layer, nn.Linear):
            specs.append(("linear", layer.weight.detach().clone(), layer.bias.detach().clone()))
        else:
            raise SystemExit(f"error: layer {name} is not one this reference check writes")
    return specs


def export(args) -> int:
    sys.path.insert(0, ENGINE)
    import torch
    from certprune.data import dataset_info, load_dataset
    from certprune.models import build_model
    from certprune.paths import load_torch
    from certprune.verify import VerifySettings
    from certprune.verify.ladder import Clause
    from certprune.verify.samples import robustness_clauses
    settings = VerifySettings()
    if args.alpha_iterations is not None:
        settings.alpha_iterations = args.alpha_iterations
    if args.instances:
        model, boxes, names = instance_boxes(args.instances)
    else:
        if not (args.arch and args.checkpoint):
            raise SystemExit("error: give --arch and --checkpoint, or --instances")
        info = dataset_info(DATASET)
        model = build_model(args.arch, info.input_shape, info.num_classes, info.mean, info.std)
        model.load_state_dict(load_torch(args.checkpoint, "cpu"))
        model.eval()
        test = load_dataset(DATASET, "test", size=args.samples)
        with torch.no_grad():
            correct = model(test.images).argmax(1) == test.labels
        boxes, names = [], []
        for i in torch.nonzero(correct).flatten().tolist():
            x = test.images[i:i + 1]
            rows = torch.cat([c.spec for c in robustness_clauses(int(test.labels[i]), info.num_classes, x)])
            boxes.append(((x - args.eps).clamp(0, 1), (x + args.eps).clamp(0, 1), rows))
            names.append(f"image {i}")
    ours = {"ibp": [], "crown": [], "alpha-crown": []}
    seconds = dict.fromkeys(ours, 0.0)
    for x_lower, x_upper, rows in boxes:
        clauses = [Clause(rows[j:j + 1], rows.new_zeros(1)) for j in range(rows.shape[0])]
        for method, margin, spent in ladder_margins(model, x_lower, x_upper, clauses, settings):
            ours[method].append(margin)
            seconds[method] += spent
    print("CertPrune seconds per case: " + ", ".join(f"{k} {v / len(boxes):.2f}" for k, v in seconds.items()))
    torch.save({"specs": layer_specs(model), "boxes": boxes, "names": names,
                "certprune": {k: torch.tensor(v) for k, v in ours.items()},
                "alpha_iterations": settings.alpha_iterations,
                "source": args.instances or f"{args.checkpoint}, eps {args.eps}"}, args.out)
    print(f"wrote {args.out}: {len(boxes)} cases")
    return 0


def instance_boxes(csv_path):
    """(model, [(x_lower, x_upper, spec rows)], names) of a one-network instances.csv."""
    import csv

    import numpy as np
    import torch
    from certprune.onnx_io import load_onnx
    from certprune.vnnlib import load_vnnlib
    here = os.path.dirname(os.path.abspath(csv_path))
    lines = [r for r in csv.reader(open(csv_path)) if r]
    onnx_names = {r[0] for r in lines}
    if len(onnx_names) != 1:
        raise SystemExit(f"error: {csv_path} names {len(onnx_names)} networks; give one network's instances")
    model, input_shape = load_onnx(os.path.join(here, lines[0][0]))
    model.eval()
    boxes, names = [], []
    for _, vnnlib, *_ in lines:
        prop = load_vnnlib(os.path.join(here, vnnlib))
        if len(prop.regions) != 1 or any(c.spec.shape[0] != 1 or c.offset.any() for c in prop.regions[0].clauses):
            raise SystemExit(f"error: {vnnlib} is not a robustness property (one box, one row per clause)")
        region = prop.regions[0]
        box = [torch.tensor(v, dtype=torch.float32).reshape(1, *input_shape) for v in (region.x_lower, region.x_upper)]
        rows = torch.tensor(np.stack([c.spec[0] for c in region.clauses]), dtype=torch.float32)
        boxes.append((box[0], box[1], rows))
        names.append(vnnlib)
    return model, boxes, names


def ladder_margins(model, x_lower, x_upper, clauses, settings):
    """The verifier's own IBP, CROWN and alpha-CROWN stages on one box, without the attack
    in front: (method, margin after the stage, seconds) each. A stage's margin is the best
    so far, as the verifier keeps it."""
    import math
    from certprune.verify.ladder import Ladder
    from certprune.verify.stages import stages_for
    stages = stages_for("alpha-crown")
    state = Ladder.start(model, x_lower, x_upper, clauses, "alpha-crown", math.inf, settings,
                         {stage.name: False for stage in stages})
    out, done = [], False
    for stage in stages:  # a stage that proves the image ends the ladder: later ones repeat its margin
        started = time.monotonic()
        done = done or stage.run(state) is not None
        out.append((stage.name, state.margin, time.monotonic() - started))
    return out


def rebuild(specs):
    import torch.nn as nn

    class Normalize(nn.Module):
        def __init__(self, mean, std):
            super().__init__()
            self.register_buffer("mean", mean)
            self.register_buffer("std", std)

        def forward(self, x):
            return (x - self.mean) / self.std

    class Affine(nn.Module):
        def __init__(self, scale, shift):
            super().__init__()
            self.register_buffer("scale", scale)
            self.register_buffer("shift", shift)

        def forward(self, x):
            return x * self.scale + self.shift

    class Reshape(nn.Module):
        def __init__(self, shape):
            super().__init__()
            self.shape = shape

        def forward(self, x):
            return x.reshape(x.shape[0], *self.shape)

    layers = []
    for spec in specs:
        kind = spec[0]
        if kind == "normalize":
            layers.append(Normalize(spec[1], spec[2]))
        elif kind == "reshape":
            layers.append(Reshape(spec[1]))
        elif kind == "affine":
            layers.append(Affine(spec[1], spec[2]))
        elif kind == "conv":
            w, b, stride, padding = spec[1:]
            conv = nn.Conv2d(w.shape[1], w.shape[0], tuple(w.shape[2:]), stride=stride, padding=padding)
            conv.weight.data, conv.bias.data = w, b
            layers.append(conv)
        elif kind == "bn":
            w, b, mean, var, eps = spec[1:]
            bn = nn.BatchNorm2d(w.shape[0], eps=eps)
            bn.weight.data, bn.bias.data, bn.running_mean.data, bn.running_var.data = w, b, mean, var
            layers.append(bn)
        elif kind == "relu":
            layers.append(nn.ReLU())
        elif kind == "flatten":
            layers.append(nn.Flatten())
        elif kind == "linear":
            lin = nn.Linear(spec[1].shape[1], spec[1].shape[0])
            lin.weight.data, lin.bias.data = spec[1], spec[2]
            layers.append(lin)
    return nn.Sequential(*layers).eval()


def bound(args) -> int:
    import torch
    data = torch.load(args.file)
    model = rebuild(data["specs"])
    boxes, names, ours = data["boxes"], data["names"], data["certprune"]
    print(f"{data['source']}: {len(boxes)} cases; auto_LiRPA on PyTorch {torch.__version__}, "
          f"{torch.get_num_threads()} thread(s); {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, "
          f"load {os.getloadavg()[0]:.1f}", flush=True)
    iterations = [int(s) for s in args.iterations.split(",") if s.strip()]
    columns = {"ibp": [], "crown": []}
    columns.update({f"alpha{it}": [] for it in iterations})
    seconds = dict.fromkeys(columns, 0.0)
    for x_lower, x_upper, rows in boxes:
        for key in columns:
            method = {"ibp": "IBP", "crown": "backward"}.get(key, "CROWN-Optimized")
            lower, spent = lirpa_rows(model, x_lower, x_upper, rows, method,
                                      int(key[5:]) if key.startswith("alpha") else 20, args.lr_alpha)
            seconds[key] += spent
            columns[key].append(float(lower.min()))
    mine = ("ibp", "crown", "alpha-crown")
    print(f"{'case':<28}" + "".join(f"{'ours ' + k:>14}" for k in mine) + "".join(f"{'LiRPA ' + k:>14}" for k in columns))
    for i, name in enumerate(names):
        print(f"{name[:28]:<28}" + "".join(f"{float(ours[k][i]):>14.4f}" for k in mine)
              + "".join(f"{columns[k][i]:>14.4f}" for k in columns))
    print(f"{'mean':<28}" + "".join(f"{float(ours[k].mean()):>14.4f}" for k in mine)
          + "".join(f"{sum(v) / len(v):>14.4f}" for v in columns.values()))
    pairs = [("ibp", "ibp"), ("crown", "crown")] + [("alpha-crown", k) for k in columns if k.startswith("alpha")]
    for mine_key, key in pairs:
        a, ref = ours[mine_key], torch.tensor(columns[key])
        print(f"CertPrune {mine_key}{' (%d steps)' % data['alpha_iterations'] if mine_key == 'alpha-crown' else ''} "
              f"against LiRPA {key}: tighter on {int((a > ref + 1e-4).sum())}, looser on {int((a < ref - 1e-4).sum())} "
              f"of {len(ref)}; mean difference {float((a - ref).mean()):+.4f}; LiRPA {seconds[key] / len(ref):.2f} s per case")
    return 0


def lirpa_rows(model, x_lower, x_upper, rows, method, iterations=100, lr_alpha=0.1):
    """auto_LiRPA's lower bound of every row of ``rows @ model(x)`` over the box, (S,), and
    the seconds its compute_bounds took (the module's construction not counted)."""
    import torch
    from auto_LiRPA import BoundedModule, BoundedTensor
    from auto_LiRPA.perturbations import PerturbationLpNorm
    x = (x_lower + x_upper) / 2
    # sparse alphas trip a shape bug in 0.3 on the cnn4; dense ones give the same bounds
    # with more memory
    lirpa = BoundedModule(model, torch.zeros_like(x), device="cpu", verbose=False,
                          bound_opts={"sparse_features_alpha": False, "optimize_bound_args": {
                              "iteration": iterations, "lr_alpha": lr_alpha}})
    ptb = PerturbationLpNorm(norm=float("inf"), x_L=x_lower, x_U=x_upper)
    started = time.monotonic()
    lb, _ = lirpa.compute_bounds(x=(BoundedTensor(x, ptb),), C=rows.unsqueeze(0), method=method, bound_upper=False)
    return lb[0].detach(), time.monotonic() - started


def fixture(args) -> int:
    """Two seeded networks (a cnn4-like conv net with Normalize and BatchNorm, a 3-hidden-layer
    MLP), four boxes each, and auto_LiRPA's IBP, CROWN and alpha-CROWN (100 steps) bound of
    every "label minus other class" row, as JSON that PyTorch 2 tests read without auto_LiRPA."""
    import json

    import torch
    g = torch.Generator().manual_seed(2023)
    rand = lambda *shape, scale=1.0: (torch.randn(*shape, generator=g) * scale)  # noqa: E731
    conv_specs = [("normalize", torch.tensor([0.3]).reshape(1, 1, 1, 1), torch.tensor([0.4]).reshape(1, 1, 1, 1)),
                  ("conv", rand(6, 1, 4, 4, scale=0.4), rand(6, scale=0.1), (2, 2), (1, 1)),
                  ("bn", 1 + rand(6, scale=0.2), rand(6, scale=0.2), rand(6, scale=0.3), 0.5 + rand(6).abs(), 1e-5),
                  ("relu",),
                  ("conv", rand(8, 6, 3, 3, scale=0.25), rand(8, scale=0.1), (2, 2), (1, 1)),
                  ("bn", 1 + rand(8, scale=0.2), rand(8, scale=0.2), rand(8, scale=0.3), 0.5 + rand(8).abs(), 1e-5),
                  ("relu",), ("flatten",),
                  ("linear", rand(24, 72, scale=0.2), rand(24, scale=0.1)), ("relu",),
                  ("linear", rand(5, 24, scale=0.3), rand(5, scale=0.1))]
    mlp_specs = [("linear", rand(16, 12, scale=0.5), rand(16, scale=0.2)), ("relu",),
                 ("linear", rand(16, 16, scale=0.35), rand(16, scale=0.2)), ("relu",),
                 ("linear", rand(16, 16, scale=0.35), rand(16, scale=0.2)), ("relu",),
                 ("linear", rand(4, 16, scale=0.4), rand(4, scale=0.1))]
    networks = []
    for name, specs, shape, radii in (("conv", conv_specs, (1, 10, 10), (0.02, 0.04, 0.06, 0.08)),
                                      ("mlp", mlp_specs, (12,), (0.05, 0.1, 0.15, 0.2))):
        model = rebuild(specs)
        classes = specs[-1][1].shape[0]
        cases = []
        for eps in radii:
            x = torch.rand(1, *shape, generator=g)
            x_lower, x_upper = (x - eps).clamp(0, 1), (x + eps).clamp(0, 1)
            with torch.no_grad():
                label = int(model(x).argmax(1))
            rows = torch.zeros(classes - 1, classes)
            for r, j in enumerate(c for c in range(classes) if c != label):
                rows[r, label], rows[r, j] = 1.0, -1.0
            cases.append({"eps": eps, "x": x.flatten().tolist(), "x_lower": x_lower.flatten().tolist(),
                          "x_upper": x_upper.flatten().tolist(), "label": label, "rows": rows.tolist(),
                          "lirpa": {k: lirpa_rows(model, x_lower, x_upper, rows, m)[0].tolist()
                                    for k, m in (("ibp", "IBP"), ("crown", "backward"),
                                                 ("alpha-crown", "CROWN-Optimized"))}})
            print(f"{name} eps {eps}: " + ", ".join(f"{k} {min(v):.4f}" for k, v in cases[-1]["lirpa"].items()),
                  flush=True)
        layers = [[spec[0]] + [t.tolist() if isinstance(t, torch.Tensor) else t for t in spec[1:]] for spec in specs]
        networks.append({"name": name, "input_shape": list(shape), "layers": layers, "cases": cases})
    import auto_LiRPA
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    with open(args.out, "w") as f:
        json.dump({"source": f"auto_LiRPA {auto_LiRPA.__version__} on PyTorch {torch.__version__}, written by "
                             f"bench/lirpa_reference.py fixture; alpha-CROWN: 100 steps, lr 0.1",
                   "networks": networks}, f)
        f.write("\n")
    print(f"wrote {args.out}")
    return 0


def main(argv=None) -> int:
    args = parse_args(argv)
    return {"export": export, "bound": bound, "fixture": fixture}[args.command](args)


if __name__ == "__main__":
    sys.exit(main())
