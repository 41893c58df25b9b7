"""SABR (certprune.train.sabr) and MTL-IBP (certprune.train.mtl_ibp): the small box, the
limiting cases against plain IBP and adversarial training, and hand computations."""
import copy
import math
from types import SimpleNamespace

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from certprune.models import build_model
from certprune.train.losses import certified_loss
from certprune.train.mtl_ibp import mtl_ibp_loss
from certprune.train.sabr import pgd_point, sabr_loss, small_box

IBP = SimpleNamespace(regime="ibp")


def _gen(seed=0):
    return torch.Generator().manual_seed(seed)


def _cnn4(seed=0):
    torch.manual_seed(seed)
    return build_model("cnn4", (1, 12, 12), 10).train()


def _batch(seed=1, size=8):
    torch.manual_seed(seed)
    x = torch.rand(size, 1, 12, 12)
    x[0] = 0.0  # pixels on the domain's edges: the box must be clipped there
    x[1] = 1.0
    return x, torch.randint(0, 10, (size,))


def _hand_net():
    """z0 = relu(x1 + x2), z1 = relu(x1 - x2 + 0.5). For label 1, CE = log(1 + exp(z0 - z1))
    = log(1 + exp(2 x2 - 0.5)) while both ReLUs are active: the attack raises x2 to the
    ball's edge and x1 does not matter."""
    model = nn.Sequential(nn.Linear(2, 2), nn.ReLU(), nn.Linear(2, 2))
    with torch.no_grad():
        model[0].weight.copy_(torch.tensor([[1.0, 1.0], [1.0, -1.0]]))
        model[0].bias.copy_(torch.tensor([0.0, 0.5]))
        model[2].weight.copy_(torch.eye(2))
        model[2].bias.zero_()
    return model, torch.full((2, 2), 0.5), torch.tensor([1, 1])


# --- the small box -------------------------------------------------------------------

@pytest.mark.parametrize("box_scale", [0.05, 0.4, 0.9, 1.0])
@pytest.mark.parametrize("eps", [0.05, 0.3])
def test_small_box_lies_in_the_ball_and_contains_its_centre(box_scale, eps):
    x, _ = _batch()
    g = _gen(3)
    ball_lower, ball_upper = (x - eps).clamp(0, 1), (x + eps).clamp(0, 1)
    x_adv = ball_lower + torch.rand(x.shape, generator=g) * (ball_upper - ball_lower)
    x_adv[2] = ball_upper[2]  # the far corner, where the centre must be pulled in
    lower, upper, centre = small_box(x, x_adv, eps, box_scale)
    assert bool((lower >= ball_lower).all()) and bool((upper <= ball_upper).all())
    assert bool((lower <= centre).all()) and bool((centre <= upper).all())
    assert bool(((upper - lower) <= 2 * box_scale * eps + 1e-6).all())
    inside = (x - eps >= 0) & (x + eps <= 1)  # away from the domain's edges: the full radius
    torch.testing.assert_close((upper - lower)[inside], torch.full_like(x, 2 * box_scale * eps)[inside])


def test_scale_one_is_the_whole_ball():
    x, _ = _batch()
    anywhere = ((x - 0.1) + 0.2 * torch.rand(x.shape, generator=_gen())).clamp(0, 1)  # a point of the ball
    lower, upper, centre = small_box(x, anywhere, 0.1, 1.0)
    torch.testing.assert_close(lower, (x - 0.1).clamp(0, 1))
    torch.testing.assert_close(upper, (x + 0.1).clamp(0, 1))
    torch.testing.assert_close(centre, x)


def test_pgd_point_stays_in_the_ball_and_raises_the_loss():
    model, (x, y) = _cnn4(), _batch(size=16)
    eps = 0.1
    bn_before = copy.deepcopy(model[2].running_mean)
    point = pgd_point(model, x, y, eps, generator=_gen())
    assert bool((point >= (x - eps).clamp(0, 1) - 1e-7).all()) and bool((point <= (x + eps).clamp(0, 1) + 1e-7).all())
    assert model.training and torch.equal(model[2].running_mean, bn_before)  # eval-mode attack
    model.eval()
    with torch.no_grad():
        assert F.cross_entropy(model(point), y).item() > F.cross_entropy(model(x), y).item()


# --- SABR ----------------------------------------------------------------------------

def test_sabr_with_scale_one_is_plain_ibp():
    plain_model = _cnn4()
    sabr_model = copy.deepcopy(plain_model)
    x, y = _batch()
    plain, plain_stats, _ = certified_loss(plain_model, x, y, 0.1, IBP, 0.1)
    sabr, sabr_stats, _ = sabr_loss(sabr_model, x, y, 0.1, box_scale=1.0, generator=_gen())
    torch.testing.assert_close(sabr, plain)
    assert sabr_stats == plain_stats
    for a, b in zip(plain_model.state_dict().values(), sabr_model.state_dict().values()):
        torch.testing.assert_close(a, b)


def test_sabr_by_hand():
    """eps 0.1, lambda 0.5 (tau 0.05): x_adv has x2 = 0.6, the centre is pulled to 0.55, so
    x2 in [0.5, 0.6] and x1 in [c1 - 0.05, c1 + 0.05]. IBP: z0 <= c1 + 0.65, z1 >= c1 - 0.15,
    margin z1 - z0 >= -0.8: loss log(1 + e^0.8)."""
    model, x, y = _hand_net()
    loss, stats, _ = sabr_loss(model, x, y, 0.1, box_scale=0.5, generator=_gen())
    assert loss.item() == pytest.approx(math.log(1 + math.exp(0.8)), abs=1e-5)
    assert stats["robust_correct"] == 0 and stats["correct"] == 0  # z0 = 1 > z1 = 0.5 at x


def test_sabr_loss_lies_between_adversarial_and_ibp_and_is_differentiable():
    model = _cnn4()
    x, y = _batch()
    eps = 0.05
    ibp, _, _ = certified_loss(copy.deepcopy(model), x, y, eps, IBP, eps)
    loss, stats, _ = sabr_loss(model, x, y, eps, box_scale=0.2, generator=_gen())
    assert loss.item() < ibp.item()  # a box inside the ball: tighter bounds
    loss.backward()
    assert all(p.grad is not None and bool(torch.isfinite(p.grad).all()) for p in model.parameters())
    clean, clean_stats, _ = sabr_loss(model, x, y, 0.0)
    assert clean_stats["robust_correct"] == clean_stats["correct"]


# --- MTL-IBP -------------------------------------------------------------------------

def test_mtl_alpha_zero_is_the_adversarial_loss():
    model = _cnn4()
    reference = copy.deepcopy(model)
    x, y = _batch()
    x_adv = pgd_point(reference, x, y, 0.1, steps=3, step=0.5, decay_at=(), generator=_gen(7))
    adversarial = F.cross_entropy(reference(x_adv), y)
    loss, stats, _ = mtl_ibp_loss(model, x, y, 0.1, alpha=0.0, steps=3, step=0.5, generator=_gen(7))
    torch.testing.assert_close(loss, adversarial)
    for a, b in zip(reference.state_dict().values(), model.state_dict().values()):
        torch.testing.assert_close(a, b)  # the same BatchNorm update (adversarial batch)


def test_mtl_alpha_one_is_the_ibp_loss():
    model = _cnn4()
    reference = copy.deepcopy(model)
    x, y = _batch()
    ibp, ibp_stats, ibp_bounds = certified_loss(reference, x, y, 0.1, IBP, 0.1)
    loss, stats, bounds = mtl_ibp_loss(model, x, y, 0.1, alpha=1.0, generator=_gen())
    torch.testing.assert_close(loss, ibp)
    assert stats == ibp_stats
    torch.testing.assert_close(bounds.lower, ibp_bounds.lower)  # reusable by RS/NRS like IBP's
    for a, b in zip(reference.state_dict().values(), model.state_dict().values()):
        torch.testing.assert_close(a, b)


def test_mtl_by_hand():
    """One attack step of 10 eps puts x2 at 0.6: z0 - z1 = 0.7, CE = log(1 + e^0.7). IBP on
    [0.4, 0.6]^2: z0 <= 1.2, z1 >= 0.3, CE = log(1 + e^0.9). alpha 0.3 mixes them."""
    model, x, y = _hand_net()
    loss, _, _ = mtl_ibp_loss(model, x, y, 0.1, alpha=0.3, steps=1, step=10.0, generator=_gen())
    expected = 0.7 * math.log(1 + math.exp(0.7)) + 0.3 * math.log(1 + math.exp(0.9))
    assert loss.item() == pytest.approx(expected, abs=1e-5)


def test_mtl_attack_ball_factor_and_alpha_check():
    """With attack_eps_factor 2 the attack reaches x2 = 0.7 (z0 - z1 = 0.9); IBP stays on eps."""
    model, x, y = _hand_net()
    loss, _, _ = mtl_ibp_loss(model, x, y, 0.1, alpha=0.0, steps=1, step=10.0, attack_eps_factor=2.0,
                           generator=_gen())
    assert loss.item() == pytest.approx(math.log(1 + math.exp(0.9)), abs=1e-5)
    with pytest.raises(ValueError, match="alpha"):
        mtl_ibp_loss(model, x, y, 0.1, alpha=1.5)
