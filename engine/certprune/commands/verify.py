"""certprune-engine verify: decide VNN-COMP instances.

    certprune-engine verify --onnx M.onnx --vnnlib P.vnnlib --timeout 60 [--result-file F]
    certprune-engine verify --batch instances.csv [--results-dir DIR] [--timeout S]

One instance prints one of: ``unsat`` (the property holds: no input in the region
reaches the VNNLIB output region), ``sat`` followed by the counterexample as
``((X_0 v) ... (Y_0 v) ...)``, ``timeout`` (time ran out), ``unknown`` (the chosen mode
could not decide), or ``error: <reason>`` (exit status 2). --result-file receives the
same text.

--batch decides every line ``onnx_path,vnnlib_path,timeout_s`` of a VNN-COMP
instances.csv (paths relative to the csv's folder) in one process, reusing the model
while consecutive lines name the same ONNX file, and prints one line per instance:
``onnx_path,vnnlib_path,answer,seconds`` (answer: unsat, sat, timeout, unknown or error;
the error's reason goes to stderr). --results-dir receives each instance's full answer
as ``<index>_<onnx name>_<vnnlib name>.txt`` and the lines as ``results.csv``.
--timeout, when given, replaces the csv's timeouts.

An input region that is a union of boxes is decided box by box: unsat only if every box
is, sat as soon as one box has a counterexample.

Imports are lazy (torch, onnx, scipy only once an instance is decided) so that start-up
costs little beyond ``import torch`` (bench/verify_startup.py measures it).
"""
from __future__ import annotations

import math
import os
import sys
import time
import traceback

MODES = ("ibp", "crown", "alpha-crown", "bab")
DEFAULT_TIMEOUT = 300.0


def add_arguments(parser) -> None:
    parser.add_argument("--onnx", default=None, help="ONNX model (one input, one output)")
    parser.add_argument("--vnnlib", default=None, help="VNNLIB property (input region + output region)")
    parser.add_argument("--batch", default=None, metavar="INSTANCES_CSV",
                        help="decide every line onnx,vnnlib,timeout of this VNN-COMP instances.csv instead")
    parser.add_argument("--results-dir", default=None, help="--batch: write each instance's answer here")
    parser.add_argument("--timeout", type=float, default=None,
                        help=f"seconds per instance (default {DEFAULT_TIMEOUT:g}; --batch: the csv's)")
    parser.add_argument("--result-file", default=None, help="also write the answer to this file")
    parser.add_argument("--mode", choices=MODES, default="bab",
                        help="bab (complete, default) or an incomplete method (ibp, crown, alpha-crown)")
    parser.add_argument("--device", choices=("auto", "cpu", "cuda"), default="auto", help="where to compute")
    parser.add_argument("--pgd-steps", type=int, default=100)
    parser.add_argument("--pgd-restarts", type=int, default=30)
    parser.add_argument("--bab-batch", type=int, default=None,
                        help="branch-and-bound subdomains split per step (default: 1024 on GPU, 64 on CPU)")


class InstanceError(ValueError):
    """The model and property do not fit together (or cannot be read)."""


# --------------------------------------------------------------------------- loading

def load_model(onnx_path: str, device):
    """(model on device, per-sample input shape, number of outputs) or InstanceError.
    Also sets the CPU threads for the model's size (device.threads_for_model)."""
    import torch

    from certprune.device import threads_for_model
    from certprune.flops import forward_macs
    from certprune.onnx_io import OnnxError, load_onnx

    try:
        model, input_shape = load_onnx(onnx_path)
    except OnnxError as exc:
        raise InstanceError(str(exc)) from None
    model = model.to(device)
    example = torch.zeros(1, *input_shape, device=device)
    with torch.no_grad():
        outputs = model(example).shape
    threads_for_model(forward_macs(model, example), device)
    if len(outputs) != 2:
        raise InstanceError(f"the model's output has shape {tuple(outputs[1:])} per sample; expected a vector")
    return model, input_shape, int(outputs[1])


def load_property(vnnlib_path: str, input_shape, num_outputs: int):
    """The parsed Property, checked against the model's input and output sizes."""
    from certprune.vnnlib import VnnlibError, load_vnnlib

    try:
        prop = load_vnnlib(vnnlib_path)
    except VnnlibError as exc:
        raise InstanceError(str(exc)) from None
    n = math.prod(input_shape)
    if prop.regions[0].x_lower.size != n:
        raise InstanceError(f"the property declares {prop.regions[0].x_lower.size} inputs X_i but the model takes "
                            f"{n} values (shape {tuple(input_shape)})")
    if prop.num_outputs != num_outputs:
        raise InstanceError(f"the property declares {prop.num_outputs} outputs Y_j but the model produces "
                            f"shape ({num_outputs},)")
    return prop


def box_tensors(x_lower, x_upper, input_shape, device):
    """float64 box -> float32 (1, *input_shape) tensors rounded outwards, so that the box
    verified contains the property's box (rounding to nearest could shave off a sliver
    and make 'unsat' unsound there)."""
    import numpy as np
    import torch

    lower = np.asarray(x_lower, dtype=np.float64)
    upper = np.asarray(x_upper, dtype=np.float64)
    lo32, hi32 = lower.astype(np.float32), upper.astype(np.float32)
    lo32 = np.where(lo32.astype(np.float64) > lower, np.nextafter(lo32, np.float32(-np.inf)), lo32)
    hi32 = np.where(hi32.astype(np.float64) < upper, np.nextafter(hi32, np.float32(np.inf)), hi32)
    as_tensor = lambda a: torch.as_tensor(a, dtype=torch.float32, device=device).reshape(1, *input_shape)  # noqa: E731
    return as_tensor(lo32), as_tensor(hi32)


def load_instance(onnx_path: str, vnnlib_path: str, device):
    """(model on device, input shape, Property, x_lower (1, *shape), x_upper) or InstanceError.

    x_lower/x_upper bound the property's whole input region (its boxes' hull)."""
    model, input_shape, num_outputs = load_model(onnx_path, device)
    prop = load_property(vnnlib_path, input_shape, num_outputs)
    x_lower, x_upper = box_tensors(prop.x_lower, prop.x_upper, input_shape, device)
    return model, input_shape, prop, x_lower, x_upper


def format_counterexample(x, y) -> str:
    """VNN-COMP's form: ((X_0 v) (X_1 v) ... (Y_0 v) ...), one entry per line."""
    entries = [f"(X_{i} {float(v)!r})" for i, v in enumerate(x.reshape(-1).tolist())]
    entries += [f"(Y_{j} {float(v)!r})" for j, v in enumerate(y.reshape(-1).tolist())]
    return "(" + "\n ".join(entries) + ")"


# --------------------------------------------------------------------------- deciding

def decide(model, input_shape, prop, deadline: float, args, device) -> str:
    """The answer text for one instance: unsat, sat + counterexample, timeout or unknown.

    Each box of the input region first gets an equal share of the time left, so that a
    hard box does not starve the others of their chance of a counterexample; boxes left
    undecided then share what remains."""
    import torch

    from certprune.verify import BabSettings, Clause, VerifySettings, verify_box

    settings = VerifySettings(pgd_steps=args.pgd_steps, pgd_restarts=args.pgd_restarts,
                              bab=BabSettings(batch=getattr(args, "bab_batch", None)))
    pending = list(prop.regions)
    reasons = []  # per box left undecided in the last pass: 'timeout' or 'unknown'
    given_up = 0  # boxes left 'unknown' (not for lack of time) in an earlier pass
    for final in (False, True):
        left, reasons = [], []
        for k, region in enumerate(pending):
            now = time.monotonic()
            if now > deadline:
                return "timeout"
            share = deadline if final else now + (deadline - now) / (len(pending) - k)
            x_lower, x_upper = box_tensors(region.x_lower, region.x_upper, input_shape, device)
            clauses = [Clause(torch.as_tensor(c.spec, dtype=torch.float32),
                              torch.as_tensor(c.offset, dtype=torch.float32)) for c in region.clauses]
            result = verify_box(model, x_lower, x_upper, clauses, args.mode, deadline=share,
                                start=(x_lower + x_upper) / 2, settings=settings)
            if result.status == "falsified":
                with torch.no_grad():
                    x = result.counterexample.unsqueeze(0)
                    y = model(x)[0]
                return "sat\n" + format_counterexample(x, y)
            if result.status != "verified":
                left.append(region)
                reasons.append("timeout" if result.decided_by == "timeout" else "unknown")
        if not left and not given_up:
            return "unsat"
        # A second pass helps only boxes stopped by their share of the time; the others
        # stay undecided (so the answer can no longer be unsat).
        given_up += reasons.count("unknown")
        pending = [r for r, why in zip(left, reasons) if why == "timeout"]
        if final or len(prop.regions) == 1 or not pending or time.monotonic() >= deadline:
            break
    return "timeout" if "timeout" in reasons else "unknown"


def _error_text(exc: BaseException) -> str:
    from certprune.onnx_io import OnnxError
    from certprune.vnnlib import VnnlibError
    if not isinstance(exc, (InstanceError, OnnxError, VnnlibError, RuntimeError)):
        traceback.print_exc(file=sys.stderr)
    message = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return f"error: {message}"


def _write(path, text: str) -> None:
    if path:
        with open(path, "w", encoding="utf-8") as f:
            f.write(text + "\n")


# --------------------------------------------------------------------------- commands

def main(args) -> int:
    if getattr(args, "batch", None):
        if args.onnx or args.vnnlib:
            print("error: give either --batch or --onnx and --vnnlib, not both", flush=True)
            return 2
        return run_batch(args)
    if not args.onnx or not args.vnnlib:
        print("error: verify needs --onnx and --vnnlib (or --batch instances.csv)", flush=True)
        return 2
    started = time.monotonic()
    timeout = DEFAULT_TIMEOUT if args.timeout is None else args.timeout
    try:
        from certprune.device import engine_device
        device = engine_device(args.device)
        model, input_shape, num_outputs = load_model(args.onnx, device)
        prop = load_property(args.vnnlib, input_shape, num_outputs)
        answer = decide(model, input_shape, prop, started + timeout, args, device)
    except Exception as exc:  # never a traceback as the answer: VNN-COMP reads the first line
        text = _error_text(exc)
        print(text, flush=True)
        _write(args.result_file, text)
        return 2
    print(answer, flush=True)
    _write(args.result_file, answer)
    return 0


def read_instances(csv_path: str):
    """[(onnx path, vnnlib path, timeout s)] of a VNN-COMP instances.csv, paths resolved
    against the csv's folder; InstanceError naming the line when one is malformed."""
    base = os.path.dirname(os.path.abspath(csv_path))
    try:
        with open(csv_path, encoding="utf-8") as f:
            lines = f.read().splitlines()
    except OSError as exc:
        raise InstanceError(f"cannot read instances file {csv_path}: {exc.strerror or exc}") from None
    rows = []
    for number, line in enumerate(lines, 1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        parts = [p.strip() for p in line.split(",")]
        if len(parts) != 3:
            raise InstanceError(f"{csv_path} line {number}: expected onnx_path,vnnlib_path,timeout_s; got {line!r}")
        try:
            timeout = float(parts[2])
        except ValueError:
            raise InstanceError(f"{csv_path} line {number}: timeout {parts[2]!r} is not a number") from None
        rows.append((os.path.join(base, parts[0]), os.path.join(base, parts[1]), timeout, parts[0], parts[1]))
    return rows


def _stem(path: str) -> str:
    """prop_1_0.02.vnnlib.gz -> prop_1_0.02"""
    name = os.path.basename(path)
    for extension in (".gz", ".vnnlib", ".onnx"):
        if name.endswith(extension):
            name = name[:-len(extension)]
    return name


def run_batch(args) -> int:
    try:
        rows = read_instances(args.batch)
    except InstanceError as exc:
        print(f"error: {exc}", flush=True)
        return 2
    if args.results_dir:
        os.makedirs(args.results_dir, exist_ok=True)
    device, cached, summary = None, None, []  # cached: (onnx path, loaded model or the error)
    for index, (onnx_path, vnnlib_path, csv_timeout, onnx_name, vnnlib_name) in enumerate(rows):
        started = time.monotonic()
        timeout = csv_timeout if args.timeout is None else args.timeout
        try:
            if device is None:
                from certprune.device import engine_device
                device = engine_device(args.device)
            if cached is None or cached[0] != onnx_path:
                cached = None  # free the previous model before loading the next one
                try:
                    cached = (onnx_path, load_model(onnx_path, device))
                except InstanceError as exc:
                    cached = (onnx_path, exc)
            if isinstance(cached[1], Exception):
                raise cached[1]
            model, input_shape, num_outputs = cached[1]
            prop = load_property(vnnlib_path, input_shape, num_outputs)
            answer = decide(model, input_shape, prop, started + timeout, args, device)
        except Exception as exc:
            answer = _error_text(exc)
        seconds = time.monotonic() - started
        word = answer.split("\n", 1)[0]
        if word.startswith("error:"):
            print(f"{onnx_name},{vnnlib_name}: {word}", file=sys.stderr, flush=True)
            word = "error"
        line = f"{onnx_name},{vnnlib_name},{word},{seconds:.3f}"
        print(line, flush=True)
        summary.append(line)
        if args.results_dir:
            name = f"{index:04d}_{_stem(onnx_name)}_{_stem(vnnlib_name)}.txt"
            _write(os.path.join(args.results_dir, name), answer)
            _write(os.path.join(args.results_dir, "results.csv"), "\n".join(summary))
    return 0  # per-instance errors are in the lines; 2 is for an unreadable csv


if __name__ == "__main__":
    import argparse

    _parser = argparse.ArgumentParser(prog="certprune-engine verify")
    add_arguments(_parser)
    sys.exit(main(_parser.parse_args()))
