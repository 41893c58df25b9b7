"""certprune-engine bounds: bounds of a VNNLIB property's output constraints.

    certprune-engine bounds --onnx M.onnx --vnnlib P.vnnlib --method crown

Prints JSON: for every output constraint (each comparison of each clause, written as
``expression <= 0`` where the output region is reached) its lower and upper bound over
the input box; per clause whether the bounds prove it unreachable; and per ReLU layer
the stable-active / stable-inactive / unstable neuron counts under the method's
pre-activation bounds. Errors print ``error: <reason>`` (exit status 2).
"""
from __future__ import annotations

import json
import sys
import time

METHODS = ("ibp", "crown-ibp", "crown", "alpha-crown")


def add_arguments(parser) -> None:
    parser.add_argument("--onnx", required=True, help="ONNX model")
    parser.add_argument("--vnnlib", required=True, help="VNNLIB property")
    parser.add_argument("--method", choices=METHODS, default="crown", help="bound method (default crown)")
    parser.add_argument("--device", choices=("auto", "cpu", "cuda"), default="auto")
    parser.add_argument("--alpha-iterations", type=int, default=50, help="alpha-CROWN optimisation steps")


def _expression(row, offset: float) -> str:
    """'Y_3 - Y_0 + 0.5' for the row (-1, 0, 0, 1) and offset 0.5 (positive terms first)."""
    terms = [(float(c), f"Y_{j}") for j, c in enumerate(row) if c != 0]
    terms.sort(key=lambda t: t[0] < 0)
    if offset:
        terms.append((float(offset), repr(abs(float(offset)))))
    text = ""
    for c, name in terms:
        mag = "" if abs(c) == 1 or not name.startswith("Y_") else f"{abs(c):g}*"
        text += (" - " if c < 0 else " + ") + mag + name
    text = text.strip()
    return "0" if not text else (text[2:] if text.startswith("+ ") else "-" + text[2:])


def main(args) -> int:
    started = time.monotonic()
    try:
        import torch

        from certprune.bounds import compute_bounds
        from certprune.commands.verify import load_instance
        from certprune.device import engine_device
        from certprune.verify.stability import relu_layer_names

        device = engine_device(args.device)
        model, input_shape, prop, x_lower, x_upper = load_instance(args.onnx, args.vnnlib, device)
        spec = torch.cat([torch.as_tensor(c.spec, dtype=torch.float32) for c in prop.clauses]).to(device)
        offset = torch.cat([torch.as_tensor(c.offset, dtype=torch.float32) for c in prop.clauses]).to(device)
        with torch.no_grad() if args.method != "alpha-crown" else torch.enable_grad():
            bounds = compute_bounds(model, x_lower, x_upper, method=args.method, spec=spec.unsqueeze(0),
                                    alpha_iterations=args.alpha_iterations)
        lower = (bounds.lower[0] + offset).tolist()
        upper = (bounds.upper[0] + offset).tolist()
        names = relu_layer_names(model)
    except Exception as exc:
        from certprune.commands.verify import InstanceError
        from certprune.onnx_io import OnnxError
        from certprune.vnnlib import VnnlibError
        if not isinstance(exc, (InstanceError, OnnxError, VnnlibError)):
            import traceback
            traceback.print_exc(file=sys.stderr)
        print(f"error: {str(exc).splitlines()[0] if str(exc) else type(exc).__name__}", flush=True)
        return 2
    constraints, clauses, k = [], [], 0
    for ci, clause in enumerate(prop.clauses):
        proven = False
        for ri in range(clause.spec.shape[0]):
            constraints.append({"clause": ci, "row": ri, "expression": _expression(clause.spec[ri], clause.offset[ri]),
                                "lower": lower[k], "upper": upper[k]})
            proven |= lower[k] > 0
            k += 1
        clauses.append({"clause": ci, "proven": bool(proven)})
    layers = []
    for (l, u), index in zip(bounds.preactivations, bounds.relu_indices):
        active = int((l >= 0).sum())
        inactive = int(((u <= 0) & (l < 0)).sum())
        layers.append({"name": names.get(index, f"relu{index}"), "index": index, "neurons": int(l.numel()),
                       "active": active, "inactive": inactive, "unstable": int(l.numel()) - active - inactive})
    report = {"method": args.method, "inputs": int(x_lower.numel()), "outputs": int(prop.num_outputs),
              "constraints": constraints, "clauses": clauses, "layers": layers,
              "seconds": time.monotonic() - started}
    print(json.dumps(report, indent=1))
    return 0


if __name__ == "__main__":
    import argparse

    _parser = argparse.ArgumentParser(prog="certprune-engine bounds")
    add_arguments(_parser)
    sys.exit(main(_parser.parse_args()))
