"""certprune-engine verify --batch: many VNN-COMP instances in one process."""
import os
import subprocess

import torch

from certprune.commands import verify as verify_cmd
from certprune.onnx_io import export_onnx
from certprune.vnnlib import write_vnnlib
from test_bounds_nets import random_mlp, single_thread  # noqa: F401 (fixture)
from test_cli_verify import BIN, Args


def _bundle(root):
    """Two models; for the first a robust and a breakable property; a line whose property is missing."""
    os.makedirs(root / "onnx")
    os.makedirs(root / "vnnlib")
    lines = []
    for m in range(2):
        gen = torch.Generator().manual_seed(10 + m)
        model = random_mlp(gen, (1, 2, 3), (8,), 3)
        export_onnx(model, (1, 2, 3), str(root / "onnx" / f"m{m}.onnx"))
        x = torch.rand(1, 2, 3, generator=gen)
        with torch.no_grad():
            label = int(model(x.unsqueeze(0)).argmax())
        for name, eps in (("robust", 1e-4), ("broken", 1.0))[:2 - m]:
            lo, hi = (x - eps).clamp(0, 1), (x + eps).clamp(0, 1)
            write_vnnlib(str(root / "vnnlib" / f"{name}{m}.vnnlib"), lo.numpy(), hi.numpy(), label, 3)
            lines.append(f"onnx/m{m}.onnx,vnnlib/{name}{m}.vnnlib,60")
    lines.append("onnx/m1.onnx,vnnlib/missing.vnnlib,60")
    (root / "instances.csv").write_text("\n".join(lines) + "\n")
    return str(root / "instances.csv")


def test_batch_decides_every_line_and_reuses_the_model(tmp_path, capsys, monkeypatch):
    csv = _bundle(tmp_path / "bench")
    loads = []
    real = verify_cmd.load_model
    monkeypatch.setattr(verify_cmd, "load_model", lambda path, device: loads.append(path) or real(path, device))
    results = tmp_path / "results"
    assert verify_cmd.main(Args(onnx=None, vnnlib=None, batch=csv, results_dir=str(results), timeout=None)) == 0
    out = capsys.readouterr()
    lines = out.out.strip().splitlines()
    assert [line.rsplit(",", 1)[0] for line in lines] == [
        "onnx/m0.onnx,vnnlib/robust0.vnnlib,unsat",
        "onnx/m0.onnx,vnnlib/broken0.vnnlib,sat",
        "onnx/m1.onnx,vnnlib/robust1.vnnlib,unsat",
        "onnx/m1.onnx,vnnlib/missing.vnnlib,error",
    ]
    assert all(float(line.rsplit(",", 1)[1]) >= 0 for line in lines)
    assert "missing.vnnlib does not exist" in out.err
    assert [os.path.basename(p) for p in loads] == ["m0.onnx", "m1.onnx"], "one load per consecutive ONNX file"
    files = sorted(os.listdir(results))
    assert files == ["0000_m0_robust0.txt", "0001_m0_broken0.txt", "0002_m1_robust1.txt", "0003_m1_missing.txt",
                     "results.csv"]
    assert (results / "0001_m0_broken0.txt").read_text().startswith("sat\n((X_0 ")
    assert (results / "0003_m1_missing.txt").read_text().startswith("error: VNNLIB file")
    assert (results / "results.csv").read_text().strip().splitlines() == lines


def test_batch_errors(tmp_path, capsys):
    assert verify_cmd.main(Args(onnx=None, vnnlib=None, batch=str(tmp_path / "none.csv"), results_dir=None)) == 2
    assert capsys.readouterr().out.startswith("error: cannot read instances file")
    bad = tmp_path / "bad.csv"
    bad.write_text("a.onnx,b.vnnlib\n")
    assert verify_cmd.main(Args(onnx=None, vnnlib=None, batch=str(bad), results_dir=None)) == 2
    assert "line 1: expected onnx_path,vnnlib_path,timeout_s" in capsys.readouterr().out
    assert verify_cmd.main(Args(onnx="m.onnx", vnnlib=None, batch=str(bad), results_dir=None)) == 2
    assert capsys.readouterr().out.startswith("error: give either --batch")
    assert verify_cmd.main(Args(onnx=None, vnnlib=None, batch=None)) == 2
    assert capsys.readouterr().out.startswith("error: verify needs --onnx and --vnnlib")


def test_batch_via_the_command_line(tmp_path):
    csv = _bundle(tmp_path / "bench")
    env = dict(os.environ, CERTPRUNE_THREADS="1")
    out = subprocess.run([BIN, "verify", "--batch", csv, "--timeout", "30", "--device", "cpu"],
                         capture_output=True, text=True, env=env, timeout=300)
    assert out.returncode == 0, out.stderr
    assert [line.split(",")[2] for line in out.stdout.strip().splitlines()] == ["unsat", "sat", "unsat", "error"]
