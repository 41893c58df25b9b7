"""The engine on a CUDA GPU: the same numbers as on the CPU (skipped where no GPU is visible).

Run on a GPU host (PyTorch 2.x with CUDA): .venv/bin/python -m pytest engine/tests/test_cuda.py
The development machine and CI have no GPU, so these are skipped there; they are the
checks to run when one is lent (see docs/benchmarks.md for the GPU speed figures).
"""
import copy

import pytest
import torch

from certprune.bounds import compute_bounds, margin_spec
from certprune.data import load_dataset
from certprune.models import build_model
from certprune.train import TrainingSettings, make_optimizer, train_epoch
from certprune.train.input_gradient import autograd_input_gradient, differentiable_input_gradient
from certprune.verify import verify_samples
from test_bounds_nets import random_cnn, sample_box

pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA GPU visible to PyTorch")
CUDA = torch.device("cuda")


def test_written_out_input_gradient_matches_autograd_on_cuda():
    """GradAlign's written-out second derivative (cuDNN kernels here) against autograd's."""
    gen = torch.Generator().manual_seed(0)
    reference = random_cnn(gen, (1, 9, 9), classes=4).train().double().to(CUDA)
    fast = copy.deepcopy(reference)
    x = torch.rand(6, 1, 9, 9, generator=gen, dtype=torch.float64).to(CUDA)
    y = torch.randint(0, 4, (6,), generator=gen).to(CUDA)
    grad_ref, _ = autograd_input_gradient(reference, x, y)
    grad_fast, _ = differentiable_input_gradient(fast, x, y)
    assert torch.allclose(grad_ref, grad_fast, rtol=1e-10, atol=1e-12)
    second_ref = torch.autograd.grad((grad_ref ** 2).sum(), list(reference.parameters()))
    second_fast = torch.autograd.grad((grad_fast ** 2).sum(), list(fast.parameters()))
    for a, b in zip(second_ref, second_fast):
        assert torch.allclose(a, b, rtol=1e-8, atol=1e-10)


@pytest.mark.parametrize("regime", ["natural", "fgsm", "ibp", "crown-ibp"])
def test_every_regime_trains_on_cuda_and_keeps_masks(regime):
    data = load_dataset("synthetic", "train", size=256)
    torch.manual_seed(1)
    model = build_model("cnn7", data.info.input_shape, data.info.num_classes, data.info.mean,
                        data.info.std).to(CUDA)
    generator = torch.Generator().manual_seed(2)
    masks = {name: (torch.rand(p.shape, generator=generator) < 0.5).float().to(CUDA)
             for name, p in model.named_parameters() if name.endswith("weight") and p.dim() == 4}
    settings = TrainingSettings.from_config({"regime": regime, "epochs": 4, "epsStart": 1, "epsLength": 2,
                                             "batchSize": 64}, data.info)
    optimizer = make_optimizer(model.parameters(), settings)
    stats = train_epoch(model, data, optimizer, settings, 2, masks=masks, generator=generator)
    assert stats["batches"] == 4 and torch.isfinite(torch.tensor(stats["loss"]))
    assert (stats["robustAccuracy"] is None) == (regime == "natural")
    params = dict(model.named_parameters())
    for name, mask in masks.items():
        assert params[name].device.type == CUDA.type and bool((params[name][mask == 0] == 0).all()), name


@pytest.mark.parametrize("method", ["ibp", "crown-ibp", "crown", "alpha-crown"])
def test_bounds_on_cuda_are_the_cpu_bounds_and_contain_samples(method):
    gen = torch.Generator().manual_seed(3)
    model = random_cnn(gen, (2, 9, 9), classes=4)
    x = torch.rand(5, 2, 9, 9, generator=gen)
    lower, upper = (x - 0.05).clamp(0, 1), (x + 0.05).clamp(0, 1)
    spec = margin_spec(model(x).argmax(1), 4)
    cpu = compute_bounds(model, lower, upper, method=method, spec=spec)
    gpu = compute_bounds(copy.deepcopy(model).to(CUDA), lower.to(CUDA), upper.to(CUDA), method=method,
                         spec=spec.to(CUDA))
    if method != "alpha-crown":  # (its slopes are optimised: the two devices' steps may round apart)
        assert torch.allclose(cpu.lower, gpu.lower.cpu(), rtol=1e-4, atol=1e-4)
    points = sample_box(gen, lower, upper, 64)  # (B, 64, C, H, W)
    with torch.no_grad():
        values = torch.einsum("bsk,bnk->bns", spec, model(points.flatten(0, 1)).reshape(5, 64, 4))
    assert bool((gpu.lower.cpu().unsqueeze(1) <= values + 1e-5).all())


def test_complete_verification_on_cuda_decides_like_the_cpu():
    gen = torch.Generator().manual_seed(4)
    model = random_cnn(gen, (1, 9, 9), classes=3)
    images = torch.rand(8, 1, 9, 9, generator=gen)
    with torch.no_grad():
        labels = model(images).argmax(1)
    cpu = verify_samples(model, images, labels, eps=0.03, mode="bab", timeout=60, pgd_steps=20, pgd_restarts=3)
    gpu = verify_samples(copy.deepcopy(model).to(CUDA), images, labels, eps=0.03, mode="bab", timeout=60,
                         pgd_steps=20, pgd_restarts=3)
    assert [r.status for r in gpu] == [r.status for r in cpu]
    assert all(r.status in ("verified", "falsified") for r in gpu)
    for r in gpu:
        if r.counterexample is not None:
            with torch.no_grad():
                assert int(model(r.counterexample.cpu().unsqueeze(0)).argmax(1)) != int(labels[r.index])
