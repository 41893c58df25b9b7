"""Start-up cost of `certprune-engine verify` beside the cost of `import torch` itself.

    .venv/bin/python bench/verify_startup.py              # 3 runs each, medians
    .venv/bin/python bench/verify_startup.py --repeat 5 --imports

Builds an easy instance (a small MLP exported to ONNX and a tiny robustness box that
CROWN proves at once) in a temporary folder, then times in fresh processes:
  1. `python -c "import torch"`;
  2. `certprune-engine verify --onnx ... --vnnlib ... --device cpu` end to end;
  3. the same on a property only branch and bound proves (alpha-CROWN, then beta-CROWN run:
     what a hard instance pays for the optimisers' code before its own work, which is tiny here).
The difference is what the verifier adds to torch's own import (the aim: <= 0.5 s); a
third figure times torch + scipy.optimize + sympy (see HEAVY): two imports the verify
path used to pay for (verify/exact.py now imports scipy only for an exact check, and the
element-wise bound operator broadcasts with numpy, not torch's sympy-backed helper), kept
to show what the lazy imports save.
--imports also lists the top-level imports of the verify run that cost over 30 ms
(python -X importtime), to see what a lazy import could still save. Timings depend on
the machine's load: report `uptime` beside them.
"""
from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ENGINE = os.path.join(ROOT, "engine")
BIN = os.path.join(ENGINE, "bin", "certprune-engine")


def easy_instance(folder: str):
    """(onnx path, vnnlib path) of a 2x3x3 -> 16 -> 16 -> 3 MLP with input normalisation
    (exported as Sub/Div, as CertPrune's models and ACAS Xu have) and a 1e-3 box around a point."""
    sys.path.insert(0, ENGINE)
    import torch
    from torch import nn

    from certprune.models import Normalize
    from certprune.onnx_io import export_onnx
    from certprune.vnnlib import write_vnnlib

    torch.manual_seed(0)
    model = nn.Sequential(Normalize([0.4, 0.5], [0.2, 0.3]), nn.Flatten(), nn.Linear(18, 16), nn.ReLU(),
                          nn.Linear(16, 16), nn.ReLU(), nn.Linear(16, 3)).eval()
    x = torch.rand(1, 2, 3, 3)
    with torch.no_grad():
        label = int(model(x).argmax())
    onnx_path = export_onnx(model, (2, 3, 3), os.path.join(folder, "easy.onnx"))
    vnnlib_path = write_vnnlib(os.path.join(folder, "easy.vnnlib"), (x - 1e-3).numpy(), (x + 1e-3).numpy(),
                               label, 3)
    return onnx_path, vnnlib_path


def bab_instance(folder: str):
    """(onnx path, vnnlib path) of a property only branch and bound proves: out =
    relu(mean(x) - 0.5) - relu(mean(x) - 0.5) + 0.01 > 0 on x in [0, 1]^50. Two copies of one
    unstable neuron defeat IBP, CROWN and alpha-CROWN; 50 inputs are too many for input
    splitting. So the run reaches alpha-CROWN and beta-CROWN (their optimiser's imports)."""
    import torch
    from torch import nn

    from certprune.onnx_io import export_onnx

    hidden, out = nn.Linear(50, 2), nn.Linear(2, 1)
    with torch.no_grad():
        hidden.weight.fill_(1 / 50)
        hidden.bias.fill_(-0.5)
        out.weight.copy_(torch.tensor([[1.0, -1.0]]))
        out.bias.fill_(0.01)
    onnx_path = export_onnx(nn.Sequential(nn.Flatten(), hidden, nn.ReLU(), out).eval(), (50,),
                            os.path.join(folder, "bab.onnx"))
    lines = [f"(declare-const X_{i} Real)" for i in range(50)] + ["(declare-const Y_0 Real)"]
    lines += [f"(assert (>= X_{i} 0.0))\n(assert (<= X_{i} 1.0))" for i in range(50)] + ["(assert (<= Y_0 0.0))"]
    vnnlib_path = os.path.join(folder, "bab.vnnlib")
    with open(vnnlib_path, "w", encoding="utf-8") as f:
        f.write("\n".join(lines) + "\n")
    return onnx_path, vnnlib_path


# Two imports outside the ONNX/VNNLIB path that the verify run pays for today: scipy's
# linprog (certprune/verify/exact.py imports it at module level) and sympy (the first
# torch.broadcast_shapes call, in BoundElementwiseAffine, imports it through torch._refs).
HEAVY = "import torch, scipy.optimize, torch.fx.experimental.symbolic_shapes"


def timed(command, env) -> tuple:
    started = time.perf_counter()
    out = subprocess.run(command, capture_output=True, text=True, env=env)
    return time.perf_counter() - started, out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3, help="runs of each (the median is printed)")
    parser.add_argument("--imports", action="store_true", help="list the verify run's costly top-level imports")
    args = parser.parse_args()
    env = dict(os.environ, CERTPRUNE_THREADS=os.environ.get("CERTPRUNE_THREADS", "1"))
    python = os.environ.get("CERTPRUNE_PYTHON", os.path.join(ROOT, ".venv", "bin", "python"))
    if not os.path.exists(python):
        python = sys.executable
    with tempfile.TemporaryDirectory() as folder:
        onnx_path, vnnlib_path = easy_instance(folder)
        verify = [BIN, "verify", "--onnx", onnx_path, "--vnnlib", vnnlib_path, "--timeout", "60", "--device", "cpu"]
        bab_onnx, bab_vnnlib = bab_instance(folder)
        bab = [BIN, "verify", "--onnx", bab_onnx, "--vnnlib", bab_vnnlib, "--timeout", "60", "--device", "cpu"]
        torch_times, heavy_times, verify_times, bab_times = [], [], [], []
        for _ in range(args.repeat):  # interleaved, so that a load change hits all alike
            torch_times.append(timed([python, "-c", "import torch"], env)[0])
            heavy_times.append(timed([python, "-c", HEAVY], env)[0])
            for command, times in ((verify, verify_times), (bab, bab_times)):
                seconds, out = timed(command, env)
                if out.stdout.strip() != "unsat":
                    print(f"verify answered {out.stdout.strip()!r} (stderr: {out.stderr.strip()[-300:]})")
                    return 1
                times.append(seconds)
        torch_s, verify_s = statistics.median(torch_times), statistics.median(verify_times)
        bab_s = statistics.median(bab_times)
        heavy_s = statistics.median(heavy_times)
        try:
            load = open("/proc/loadavg").read().split()[0]
        except OSError:
            load = "?"
        print(f"import torch:           {torch_s:.2f} s  (median of {args.repeat}; runs "
              f"{', '.join(f'{t:.2f}' for t in torch_times)})")
        print(f"verify (easy instance): {verify_s:.2f} s  (median of {args.repeat}; runs "
              f"{', '.join(f'{t:.2f}' for t in verify_times)})")
        print(f"verify beyond torch:    {verify_s - torch_s:+.2f} s  (aim <= 0.50 s; load average {load})")
        print(f"verify (branch and bound instance): {bab_s:.2f} s, {bab_s - torch_s:+.2f} s beyond torch  "
              f"(median of {args.repeat}; runs {', '.join(f'{t:.2f}' for t in bab_times)})")
        print(f"what the lazy imports save (scipy.optimize + sympy, no longer on the verify path): "
              f"{heavy_s - torch_s:+.2f} s")
        if args.imports:
            out = subprocess.run([python, "-X", "importtime", "-m", "certprune"] + verify[1:], capture_output=True,
                                 text=True, env=dict(env, PYTHONPATH=ENGINE))
            print("top-level imports over 30 ms (cumulative):")
            for line in out.stderr.splitlines():
                parts = line.split("|")
                if len(parts) == 3 and parts[1].strip().isdigit() and not parts[2].startswith("  ") \
                        and int(parts[1]) > 30_000:
                    print(f"  {int(parts[1]) / 1e6:6.2f} s  {parts[2].strip()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
