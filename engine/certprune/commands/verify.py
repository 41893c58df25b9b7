"""certprune-engine verify: decide one VNN-COMP instance.

    certprune-engine verify --onnx M.onnx --vnnlib P.vnnlib --timeout 60 [--result-file F]

Prints one of: ``unsat`` (the property holds: no input in the box reaches the VNNLIB
output region), ``sat`` followed by the counterexample as ``((X_0 v) ... (Y_0 v) ...)``,
``timeout`` (time ran out), ``unknown`` (the chosen mode could not decide), or
``error: <reason>`` (exit status 2). --result-file receives the same text.
"""
from __future__ import annotations

import math
import sys
import time
import traceback

MODES = ("ibp", "crown", "alpha-crown", "bab")


def add_arguments(parser) -> None:
    parser.add_argument("--onnx", required=True, help="ONNX model (input NCHW or flat; one output)")
    parser.add_argument("--vnnlib", required=True, help="VNNLIB property (input box + output region)")
    parser.add_argument("--timeout", type=float, default=300.0, help="seconds for the whole instance (default 300)")
    parser.add_argument("--result-file", default=None, help="also write the answer to this file")
    parser.add_argument("--mode", choices=MODES, default="bab",
                        help="bab (complete, default) or an incomplete method (ibp, crown, alpha-crown)")
    parser.add_argument("--device", choices=("auto", "cpu", "cuda"), default="auto", help="where to compute")
    parser.add_argument("--pgd-steps", type=int, default=100)
    parser.add_argument("--pgd-restarts", type=int, default=30)
    parser.add_argument("--batch", type=int, default=None,
                        help="branch-and-bound subdomains split per step (default: 512 on GPU, 64 on CPU)")


class InstanceError(ValueError):
    """The model and property do not fit together (or cannot be read)."""


def load_instance(onnx_path: str, vnnlib_path: str, device):
    """(model on device, input shape, Property, x_lower (1, *shape), x_upper) or InstanceError."""
    import torch

    from certprune.onnx_io import OnnxError, load_onnx
    from certprune.vnnlib import VnnlibError, load_vnnlib

    try:
        model, input_shape = load_onnx(onnx_path)
        prop = load_vnnlib(vnnlib_path)
    except (OnnxError, VnnlibError) as exc:
        raise InstanceError(str(exc)) from None
    n = math.prod(input_shape)
    if prop.x_lower.size != n:
        raise InstanceError(f"the property declares {prop.x_lower.size} inputs X_i but the model takes "
                            f"{n} values (shape {input_shape})")
    model = model.to(device)
    with torch.no_grad():
        outputs = model(torch.zeros(1, *input_shape, device=device)).shape
    if len(outputs) != 2 or outputs[1] != prop.num_outputs:
        raise InstanceError(f"the property declares {prop.num_outputs} outputs Y_j but the model produces "
                            f"shape {tuple(outputs[1:])}")
    x_lower = torch.as_tensor(prop.x_lower, dtype=torch.float32, device=device).reshape(1, *input_shape)
    x_upper = torch.as_tensor(prop.x_upper, dtype=torch.float32, device=device).reshape(1, *input_shape)
    return model, input_shape, prop, x_lower, x_upper


def format_counterexample(x, y) -> str:
    """VNN-COMP's form: ((X_0 v) (X_1 v) ... (Y_0 v) ...), one entry per line."""
    entries = [f"(X_{i} {float(v)!r})" for i, v in enumerate(x.reshape(-1).tolist())]
    entries += [f"(Y_{j} {float(v)!r})" for j, v in enumerate(y.reshape(-1).tolist())]
    return "(" + "\n ".join(entries) + ")"


def _answer(text: str, result_file) -> None:
    print(text, flush=True)
    if result_file:
        with open(result_file, "w", encoding="utf-8") as f:
            f.write(text + "\n")


def main(args) -> int:
    started = time.monotonic()
    try:
        import torch

        from certprune.device import engine_device
        from certprune.verify import BabSettings, Clause, VerifySettings, verify_box

        device = engine_device(args.device)
        model, input_shape, prop, x_lower, x_upper = load_instance(args.onnx, args.vnnlib, device)
        batch = args.batch  # None: the default for the device
        settings = VerifySettings(pgd_steps=args.pgd_steps, pgd_restarts=args.pgd_restarts,
                                  bab=BabSettings(batch=batch))
        clauses = [Clause(torch.as_tensor(c.spec, dtype=torch.float32), torch.as_tensor(c.offset, dtype=torch.float32))
                   for c in prop.clauses]
        result = verify_box(model, x_lower, x_upper, clauses, args.mode, deadline=started + args.timeout,
                            start=(x_lower + x_upper) / 2, settings=settings)
    except Exception as exc:  # never a traceback as the answer: VNN-COMP reads the first line
        from certprune.onnx_io import OnnxError
        from certprune.vnnlib import VnnlibError
        if not isinstance(exc, (InstanceError, OnnxError, VnnlibError, RuntimeError)):
            traceback.print_exc(file=sys.stderr)
        message = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        _answer(f"error: {message}", args.result_file)
        return 2
    if result.status == "verified":
        _answer("unsat", args.result_file)
    elif result.status == "falsified":
        with torch.no_grad():
            x = result.counterexample.unsqueeze(0)
            y = model(x)[0]
        _answer("sat\n" + format_counterexample(x, y), args.result_file)
    else:
        _answer("timeout" if result.decided_by == "timeout" else "unknown", args.result_file)
    return 0


if __name__ == "__main__":
    import argparse

    _parser = argparse.ArgumentParser(prog="certprune-engine verify")
    add_arguments(_parser)
    sys.exit(main(_parser.parse_args()))
