"""What the engine exports runs the same in onnxruntime (the reference ONNX runtime) as in
PyTorch: the dashboard audits every round with onnxruntime-node, and VNN-COMP tools read
these files, so a model that only round-trips through our own importer is not enough."""
import numpy as np
import onnxruntime
import pytest
import torch

from certprune.models import build_model
from certprune.onnx_io import export_onnx
from test_bounds_nets import random_cnn, random_mlp, single_thread  # noqa: F401 (fixture)


def _run(path: str, x: torch.Tensor) -> np.ndarray:
    session = onnxruntime.InferenceSession(path, providers=["CPUExecutionProvider"])
    name = session.get_inputs()[0].name
    return session.run(None, {name: x.numpy()})[0]


@pytest.mark.parametrize("kind", ["cnn", "mlp", "cnn4", "cnn7"])
def test_exported_model_runs_the_same_in_onnxruntime(tmp_path, kind):
    gen = torch.Generator().manual_seed(11)
    if kind == "cnn":
        shape, model = (2, 9, 9), random_cnn(gen, (2, 9, 9), 4)
    elif kind == "mlp":
        shape, model = (1, 4, 4), random_mlp(gen, (1, 4, 4), (12, 8), 4)
    else:  # the paper's architectures with BatchNorm in eval mode (folded on export)
        shape = (1, 28, 28)
        model = build_model(kind, shape, 10).eval()
        with torch.no_grad():
            for m in model.modules():
                if isinstance(m, torch.nn.BatchNorm2d):
                    m.running_mean.uniform_(-0.5, 0.5, generator=gen)
                    m.running_var.uniform_(0.5, 2.0, generator=gen)
    path = str(tmp_path / "m.onnx")
    export_onnx(model, shape, path)
    x = torch.rand(6, *shape, generator=gen)
    with torch.no_grad():
        expected = model(x).numpy()
    got = _run(path, x)
    assert got.shape == expected.shape
    np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-4)
