"""Random small networks shared by the bound and verifier tests (no tests here).

Imported as ``from test_bounds_nets import ...`` (pytest puts tests/ on sys.path).
"""
from __future__ import annotations

import copy

import pytest
import torch
from torch import nn

from certprune.models import Normalize


@pytest.fixture(autouse=True)
def single_thread():
    """These networks are tiny: one thread is faster than two and immune to a busy machine.
    (Import this fixture into a test module to apply it there; the setting is restored.)"""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def random_mlp(gen: torch.Generator, input_shape=(1, 3, 3), widths=(8, 8), classes=3,
               scale: float = 1.0) -> nn.Sequential:
    """Normalize, Flatten, [Linear, ReLU]*, Linear with random (non-default) weights."""
    c = input_shape[0]
    layers = [Normalize(torch.rand(c, generator=gen).tolist(), (0.5 + torch.rand(c, generator=gen)).tolist()),
              nn.Flatten()]
    size = int(torch.tensor(input_shape).prod())
    for w in widths:
        layers += [nn.Linear(size, w), nn.ReLU()]
        size = w
    layers.append(nn.Linear(size, classes))
    net = nn.Sequential(*layers)
    _randomize(net, gen, scale)
    return net.eval()


def random_cnn(gen: torch.Generator, input_shape=(2, 9, 9), classes=4, batch_norm=True) -> nn.Sequential:
    """Normalize, Conv(k3 s1 p1) [BN], ReLU, Conv(k4 s2 p1) [BN], ReLU, Conv(k3 s2 p0), ReLU,
    Flatten, Linear, ReLU, Linear. Odd input sizes exercise the transposed-conv padding."""
    c, h, w = input_shape
    layers = [Normalize(torch.rand(c, generator=gen).tolist(), (0.5 + torch.rand(c, generator=gen)).tolist())]
    layers += [nn.Conv2d(c, 4, 3, 1, 1)] + ([nn.BatchNorm2d(4)] if batch_norm else []) + [nn.ReLU()]
    layers += [nn.Conv2d(4, 5, 4, 2, 1)] + ([nn.BatchNorm2d(5)] if batch_norm else []) + [nn.ReLU()]
    layers += [nn.Conv2d(5, 3, 3, 2, 0), nn.ReLU(), nn.Flatten()]
    net = nn.Sequential(*layers)
    flat = net(torch.zeros(1, *input_shape)).shape[1]
    net = nn.Sequential(*layers, nn.Linear(flat, 10), nn.ReLU(), nn.Linear(10, classes))
    _randomize(net, gen, 1.0)
    return net.eval()


def _randomize(net: nn.Sequential, gen: torch.Generator, scale: float) -> None:
    with torch.no_grad():
        for m in net:
            if isinstance(m, (nn.Linear, nn.Conv2d)):
                fan_in = m.weight[0].numel()
                m.weight.copy_(torch.randn(m.weight.shape, generator=gen) * scale / fan_in ** 0.5 * 1.5)
                m.bias.copy_(torch.randn(m.bias.shape, generator=gen) * 0.3)
            elif isinstance(m, nn.BatchNorm2d):
                m.weight.copy_(0.5 + torch.rand(m.weight.shape, generator=gen))
                m.bias.copy_(torch.randn(m.bias.shape, generator=gen) * 0.3)
                m.running_mean.copy_(torch.randn(m.running_mean.shape, generator=gen) * 0.3)
                m.running_var.copy_(0.5 + torch.rand(m.running_var.shape, generator=gen))


def train_mode_cnn(gen: torch.Generator, batch: int = 4):
    """A small train-mode CNN with BatchNorm (1x8x8 inputs, 3 classes), a clean batch for its
    statistics, and its ``reference_eval_model``: (model, clean, reference)."""
    model = random_cnn(gen, input_shape=(1, 8, 8), classes=3).train()
    clean = torch.rand(batch, 1, 8, 8, generator=gen)
    return model, clean, reference_eval_model(model, clean)


def reference_eval_model(model: nn.Sequential, clean: torch.Tensor) -> nn.Sequential:
    """An eval-mode copy whose BatchNorms use ``clean``'s batch statistics (biased variance),
    i.e. the fixed function that bounds in train mode describe."""
    ref = copy.deepcopy(model).eval()
    x = clean
    with torch.no_grad():
        for m in ref:
            if isinstance(m, nn.BatchNorm2d):
                m.running_mean.copy_(x.mean(dim=(0, 2, 3)))
                m.running_var.copy_(x.var(dim=(0, 2, 3), unbiased=False))
            x = m(x)
    return ref


def sample_box(gen: torch.Generator, lower: torch.Tensor, upper: torch.Tensor, n: int) -> torch.Tensor:
    """n points per box: half uniform inside, half random corners. (B, *s) -> (B, n, *s)."""
    b = lower.shape[0]
    shape = (b, n) + tuple(lower.shape[1:])
    t = torch.rand(shape, generator=gen)
    t[:, n // 2:] = (t[:, n // 2:] > 0.5).to(t.dtype)
    return lower.unsqueeze(1) + t * (upper - lower).unsqueeze(1)


def cancelling_net() -> nn.Sequential:
    """out = relu(x - 0.5) - relu(x - 0.5) + 0.01 = 0.01 on x in [0, 1]: the property out > 0
    holds everywhere, but two copies of one unstable neuron defeat IBP, CROWN and alpha-CROWN;
    only branch and bound proves it. In eval mode."""
    hidden, out = nn.Linear(1, 2), nn.Linear(2, 1)
    with torch.no_grad():
        hidden.weight.fill_(1.0)
        hidden.bias.fill_(-0.5)
        out.weight.copy_(torch.tensor([[1.0, -1.0]]))
        out.bias.fill_(0.01)
    return nn.Sequential(nn.Flatten(), hidden, nn.ReLU(), out).eval()
