"""Shi et al. 2021 (certprune.train.fast_ibp): the IBP initialisation keeps bound widths flat
with depth, and the warm-up regularisers match hand computations."""
import math

import pytest
import torch

from certprune.bounds import compute_bounds
from certprune.models import build_model
from certprune.train.fast_ibp import (fast_warmup_regularizer, ibp_init, ibp_width_profile,
                                      normalized_input_radius, relu_balance_loss, tightness_loss)

SHAPE = (1, 28, 28)


def _gains(arch, init):
    """Per-layer growth of the mean IBP radius (normalised input -> each ReLU input) of a
    random eval-mode model (fresh BatchNorm: close to the identity)."""
    torch.manual_seed(0)
    model = build_model(arch, SHAPE, 10, widths=(256, 256, 256)).eval()
    if init == "ibp":
        ibp_init(model, generator=torch.Generator().manual_seed(1))
    x = torch.rand(16, *SHAPE)
    widths = ibp_width_profile(model, x, 0.1)
    return [b / a for a, b in zip(widths, widths[1:])], widths[-1] / widths[0]


@pytest.mark.parametrize("arch", ["mlp", "cnn4", "cnn7"])
def test_ibp_init_keeps_bound_widths_within_a_constant_across_layers(arch):
    gains, total = _gains(arch, "ibp")
    # Theory: x2 through the first affine layer, then ~x1 per (ReLU, affine) pair.
    assert max(gains) < 2.5 and total < 2.5, gains
    default_gains, default_total = _gains(arch, "default")
    # PyTorch's default init: ~sqrt(fan_in)/2 per layer, compounding with depth.
    assert default_total > 10 * total, (default_gains, gains)


def test_ibp_init_draws_from_the_stated_normal_and_keeps_the_last_layer():
    torch.manual_seed(0)
    model = build_model("mlp", SHAPE, 10, widths=(400, 300))
    last_before = model[-1].weight.clone()
    ibp_init(model, generator=torch.Generator().manual_seed(0))
    first, second = model[2].weight, model[4].weight  # fan-in 784 and 400
    assert first.std().item() == pytest.approx(math.sqrt(2 * math.pi) / 784, rel=0.02)
    assert second.std().item() == pytest.approx(math.sqrt(2 * math.pi) / 400, rel=0.02)
    assert torch.equal(model[-1].weight, last_before)


# Hand-checked bounds of two ReLU layers (batch 1, four neurons each).
LAYER_A = (torch.tensor([[-1.0, 0.5, -3.0, 1.0]]), torch.tensor([[1.0, 1.5, -1.0, 3.0]]))
LAYER_B = (torch.tensor([[-4.0, 0.1, -3.0, -2.0]]), torch.tensor([[-2.0, 0.3, -1.0, 2.0]]))
LAYER_C = (torch.tensor([[0.5, 1.0]]), torch.tensor([[1.0, 2.0]]))  # no inactive neuron


def test_relu_balance_by_hand():
    # A: centres (0, 1, -2, 2); mean(c * active) = 3/4, mean(c * inactive) = -2/4: ratio 1.5
    #    -> min(1.5, 1/1.5) = 0.667 > tol. (c - 0.25)^2 = (.0625, .5625, 5.0625, 3.0625):
    #    active 3.625 / inactive 5.0625 = 0.716 > tol. Term 0.
    # B: centres (-3, 0.2, -2, 0); 0.05 / 1.25 = 0.04 -> relu(0.5 - 0.04) = 0.46;
    #    (c + 1.2)^2 = (3.24, 1.96, 0.64, 1.44): 1.96 / 3.88 = 0.505 > tol. Term 0.46 / 0.5.
    assert relu_balance_loss([LAYER_A]).item() == pytest.approx(0.0, abs=1e-7)
    assert relu_balance_loss([LAYER_B]).item() == pytest.approx(0.92, abs=1e-6)
    assert relu_balance_loss([LAYER_A, LAYER_B]).item() == pytest.approx(0.46, abs=1e-6)
    # C's ratios are infinite: it adds nothing but counts in the mean (the reference's rule).
    assert relu_balance_loss([LAYER_A, LAYER_B, LAYER_C]).item() == pytest.approx(0.92 / 3, abs=1e-6)


def test_tightness_by_hand():
    # Mean radii: A (1, .5, 1, 1) -> 0.875; B (1, .1, 1, 2) -> 1.025.
    r0 = torch.tensor(0.1)
    a = (0.5 - 0.1 / 0.875) / 0.5
    b = (0.5 - 0.1 / 1.025) / 0.5
    assert tightness_loss([LAYER_A, LAYER_B], r0).item() == pytest.approx((a + b) / 2, abs=1e-6)
    # Layers no wider than input / tol are not penalised.
    assert tightness_loss([LAYER_A, LAYER_B], torch.tensor(1.0)).item() == 0.0


def test_input_radius_is_measured_after_normalisation():
    model = build_model("cnn4", (1, 8, 8), 10, mean=(0.5,), std=(0.25,))
    x = torch.full((2, 1, 8, 8), 0.5)
    radius = normalized_input_radius(model, x - 0.1, x + 0.1)
    assert radius.item() == pytest.approx(0.1 / 0.25, rel=1e-6)


def test_warmup_regularizer_weighting_and_gradient():
    torch.manual_seed(2)
    model = build_model("cnn4", (1, 12, 12), 10).train()
    x, y = torch.rand(8, 1, 12, 12), torch.randint(0, 10, (8,))
    eps_max = 0.1
    reg = fast_warmup_regularizer(model, x, y, 0.025, eps_max)
    lower, upper = (x - 0.025).clamp(0, 1), (x + 0.025).clamp(0, 1)
    preacts = compute_bounds(model, lower, upper, method="ibp", clean_input=x).preactivations
    unweighted = tightness_loss(preacts, normalized_input_radius(model, lower, upper)) + relu_balance_loss(preacts)
    assert reg.item() == pytest.approx(0.5 * 0.75 * unweighted.item(), rel=1e-5)
    assert reg.item() > 0
    reg.backward()
    assert any(p.grad is not None and p.grad.abs().sum() > 0 for p in model.parameters())
    # No weight once the ramp is over.
    assert fast_warmup_regularizer(model, x, y, eps_max, eps_max).item() == 0.0
