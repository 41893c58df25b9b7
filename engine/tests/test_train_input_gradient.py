"""certprune.train.batchnorm and certprune.train.input_gradient: GradAlign's input
gradient with its second derivative written out (BatchNorm's and the convolution's).

Checked against PyTorch's own layers and autograd in float64: the same outputs, running
statistics and input gradient (bit for bit where the kernels are the same), and the same
second derivatives, also through the first backward's weight and bias gradients; plus
gradcheck/gradgradcheck, and the FGSM+GradAlign loss's weight gradients.
"""
import copy

import pytest
import torch
from torch import nn

import certprune.train.losses as losses
from certprune.train import TrainingSettings
from certprune.models import Normalize
from certprune.train.batchnorm import _TrainBatchNorm, forward_twice_differentiable
from certprune.train.input_gradient import autograd_input_gradient, differentiable_input_gradient


def _net(affine=True, momentum=0.1):
    torch.manual_seed(0)
    return nn.Sequential(
        nn.Conv2d(2, 4, 3, padding=1), nn.BatchNorm2d(4, affine=affine, momentum=momentum), nn.ReLU(),
        nn.Flatten(), nn.Linear(4 * 5 * 5, 6), nn.BatchNorm1d(6, affine=affine, momentum=momentum), nn.ReLU(),
        nn.Linear(6, 3)).double()


def _second_order(model, forward, x, y):
    """Outputs, input gradient, and the weight gradients of a penalty on the first-order
    gradients (the input's and every parameter's, so every path of the double backward counts)."""
    point = x.clone().requires_grad_(True)
    params = list(model.parameters())
    out = forward(model, point)
    loss = nn.functional.cross_entropy(out, y)
    first = torch.autograd.grad(loss, [point] + params, create_graph=True)
    penalty = (first[0] ** 2).sum() + sum(((i + 1) * g.sin()).sum() for i, g in enumerate(first[1:]))
    return out, first[0], torch.autograd.grad(penalty, params)


@pytest.mark.parametrize("affine,momentum", [(True, 0.1), (False, 0.1), (True, None)])
def test_matches_pytorch_batchnorm_to_second_order(affine, momentum):
    reference = _net(affine, momentum)
    fast = copy.deepcopy(reference)
    x = torch.rand(7, 2, 5, 5, dtype=torch.float64)
    y = torch.randint(0, 3, (7,), generator=torch.Generator().manual_seed(1))
    for _ in range(2):  # twice: momentum None averages over num_batches_tracked
        out_ref, grad_ref, second_ref = _second_order(reference, lambda m, t: m(t), x, y)
        out_fast, grad_fast, second_fast = _second_order(fast, forward_twice_differentiable, x, y)
    assert torch.equal(out_ref, out_fast)
    assert torch.equal(grad_ref, grad_fast)
    for a, b in zip(second_ref, second_fast):
        assert torch.allclose(a, b, rtol=1e-10, atol=1e-12)
    for (name, a), (_, b) in zip(reference.state_dict().items(), fast.state_dict().items()):
        assert torch.equal(a, b), name  # running statistics and num_batches_tracked


def test_gradcheck_and_gradgradcheck():
    generator = torch.Generator().manual_seed(2)
    x = torch.rand(5, 3, 4, 4, dtype=torch.float64, generator=generator).requires_grad_(True)
    weight = (torch.rand(3, dtype=torch.float64, generator=generator) + 0.5).requires_grad_(True)
    bias = torch.rand(3, dtype=torch.float64, generator=generator).requires_grad_(True)
    bn = lambda x, w, b: _TrainBatchNorm.apply(x, w, b, None, None, 0.1, 1e-5)[0]  # noqa: E731
    assert torch.autograd.gradcheck(bn, (x, weight, bias))
    assert torch.autograd.gradgradcheck(bn, (x, weight, bias))


def test_eval_mode_batchnorm_runs_as_it_is():
    model = _net().eval()
    x = torch.rand(4, 2, 5, 5, dtype=torch.float64)
    assert torch.equal(model(x), forward_twice_differentiable(model, x))


def _cnn(extra=()):
    """Every layer the written-out backward knows: Normalize, strided and padded convs,
    BatchNorm in both modes, ReLU, Flatten, Linear, Identity (+ ``extra`` at the end)."""
    torch.manual_seed(5)
    model = nn.Sequential(
        Normalize((0.4, 0.6), (0.2, 0.3)), nn.Conv2d(2, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(),
        nn.Conv2d(4, 6, 4, stride=2, padding=1), nn.BatchNorm2d(6), nn.ReLU(), nn.Identity(),
        nn.Conv2d(6, 5, 2, stride=1, padding=0, bias=False), nn.BatchNorm2d(5).eval(), nn.ReLU(),
        nn.Flatten(), nn.Linear(5 * 2 * 2, 8), nn.ReLU(), nn.Linear(8, 3), *extra).double()
    with torch.no_grad():  # eval-mode BatchNorm with statistics of its own
        model[9].running_mean.uniform_(-0.5, 0.5)
        model[9].running_var.uniform_(0.5, 2.0)
    return model


@pytest.mark.parametrize("extra", [(), (nn.Tanh(),)], ids=["written-out", "autograd-fallback"])
def test_input_gradient_and_its_derivative_are_autograds(extra):
    reference = _cnn(extra)
    fast = copy.deepcopy(reference)
    generator = torch.Generator().manual_seed(6)
    x = torch.rand(6, 2, 7, 7, dtype=torch.float64, generator=generator)
    y = torch.randint(0, 3, (6,), generator=generator)
    direction = torch.randn(6, 2, 7, 7, dtype=torch.float64, generator=generator)

    def run(model, input_gradient):
        grad, logits = input_gradient(model, x, y)
        penalty = (grad * direction).sum() + (grad ** 2).sum()
        params = [p for p in model.parameters()]
        return logits, grad.detach(), torch.autograd.grad(penalty, params)

    logits_ref, grad_ref, second_ref = run(reference, autograd_input_gradient)
    logits_fast, grad_fast, second_fast = run(fast, differentiable_input_gradient)
    assert torch.equal(logits_ref, logits_fast)
    assert torch.allclose(grad_ref, grad_fast, rtol=1e-12, atol=1e-15)
    for a, b in zip(second_ref, second_fast):
        assert torch.allclose(a, b, rtol=1e-9, atol=1e-12)
    assert any(float(b.abs().max()) > 0 for b in second_fast)
    for (name, a), (_, b) in zip(reference.state_dict().items(), fast.state_dict().items()):
        assert torch.equal(a, b), name


@pytest.mark.parametrize("size", [7, 8])
def test_grey_first_layer_with_a_stride_takes_the_transposed_convolution(size):
    """One input channel: the input gradient is a transposed convolution (output padding 1
    on odd sizes, 0 on even ones); it and its derivative are autograd's."""
    torch.manual_seed(7)
    side = (size + 2 - 4) // 2 + 1
    reference = nn.Sequential(nn.Conv2d(1, 3, 4, stride=2, padding=1), nn.BatchNorm2d(3), nn.ReLU(),
                              nn.Flatten(), nn.Linear(3 * side * side, 4)).double()
    x = torch.rand(5, 1, size, size, dtype=torch.float64)
    y = torch.randint(0, 4, (5,), generator=torch.Generator().manual_seed(8))
    fast = copy.deepcopy(reference)
    grad_ref, _ = autograd_input_gradient(reference, x, y)
    grad_fast, _ = differentiable_input_gradient(fast, x, y)
    assert grad_fast.shape == x.shape
    assert torch.allclose(grad_ref, grad_fast, rtol=1e-12, atol=1e-15)
    second_ref = torch.autograd.grad((grad_ref ** 2).sum(), list(reference.parameters()))
    second_fast = torch.autograd.grad((grad_fast ** 2).sum(), list(fast.parameters()))
    for a, b in zip(second_ref, second_fast):
        assert torch.allclose(a, b, rtol=1e-9, atol=1e-12)


def test_gradalign_weight_gradients_are_pytorchs(monkeypatch):
    """The FGSM+GradAlign loss (whose random-start gradient is written out) gives the
    weight gradients PyTorch's own double backward gives."""
    reference = _net()
    fast = copy.deepcopy(reference)
    x = torch.rand(16, 2, 5, 5, dtype=torch.float64)
    y = torch.randint(0, 3, (16,), generator=torch.Generator().manual_seed(3))
    settings = TrainingSettings.from_config({"regime": "fgsm"})

    def weight_grads(model):
        loss, _ = losses.fgsm_loss(model, x, y, 0.1, settings, torch.Generator().manual_seed(4))
        model.zero_grad()
        loss.backward()
        return float(loss), [p.grad.clone() for p in model.parameters()]

    fast_loss, fast_grads = weight_grads(fast)
    monkeypatch.setattr(losses, "differentiable_input_gradient", autograd_input_gradient)
    ref_loss, ref_grads = weight_grads(reference)
    assert fast_loss == ref_loss
    for a, b in zip(ref_grads, fast_grads):
        assert torch.allclose(a, b, rtol=1e-9, atol=1e-12)
