"""CROWN-IBP with loss fusion (certprune.train.loss_fusion) against sampling, the natural
cross-entropy, plain IBP and plain CROWN-IBP."""
import copy
import math
from types import SimpleNamespace

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from certprune.bounds import compute_bounds, margin_spec
from certprune.models import build_model
from certprune.train.loss_fusion import fused_ce_upper_bound, fused_crown_ibp_loss
from certprune.train.losses import certified_loss, worst_case_logits


def _model(arch, seed=0):
    torch.manual_seed(seed)
    shape = (1, 12, 12)
    return build_model(arch, shape, 10, widths=(32, 16)).eval(), shape


def _max_sampled_ce(model, x, y, lower, upper, samples=300, seed=1):
    """Largest CE (B,) over the centre, random points and random corners of the box
    (corners, where the loss is often largest, for every other sample)."""
    g = torch.Generator().manual_seed(seed)
    u = torch.rand((samples,) + tuple(x.shape), generator=g)  # (S, B, ...)
    u[1::2] = (u[1::2] > 0.5).to(x.dtype)
    points = (lower + u * (upper - lower)).reshape(-1, *x.shape[1:])  # (S*B, ...)
    with torch.no_grad():
        ce = F.cross_entropy(model(points), y.repeat(samples), reduction="none").reshape(samples, -1)
        return torch.maximum(ce.max(dim=0).values, F.cross_entropy(model(x), y, reduction="none"))


@pytest.mark.parametrize("arch", ["mlp", "cnn4"])
@pytest.mark.parametrize("eps", [0.01, 0.05])
@pytest.mark.parametrize("beta", [1.0, 0.5, 0.0])
def test_fused_bound_upper_bounds_every_sampled_point(arch, eps, beta):
    model, shape = _model(arch)
    torch.manual_seed(3)
    x, y = torch.rand(6, *shape), torch.randint(0, 10, (6,))
    lower, upper = (x - eps).clamp(0, 1), (x + eps).clamp(0, 1)
    with torch.no_grad():
        bound = fused_ce_upper_bound(model, lower, upper, y, beta=beta).ce
    sampled = _max_sampled_ce(model, x, y, lower, upper)
    assert bool((bound >= sampled - 1e-5).all()), (bound, sampled)


@pytest.mark.parametrize("arch", ["mlp", "cnn4"])
def test_eps_zero_gives_the_natural_cross_entropy(arch):
    model, shape = _model(arch, seed=2)
    torch.manual_seed(4)
    x, y = torch.rand(5, *shape), torch.randint(0, 10, (5,))
    with torch.no_grad():
        bound = fused_ce_upper_bound(model, x, x, y, beta=1.0).ce
        natural = F.cross_entropy(model(x), y, reduction="none")
    torch.testing.assert_close(bound, natural, atol=1e-5, rtol=1e-5)


def test_after_the_ramp_it_is_the_plain_ibp_loss_with_train_mode_batchnorm():
    """beta = 0 (eps = eps_max): the same loss as plain IBP, and the same BatchNorm update."""
    torch.manual_seed(5)
    plain_model = build_model("cnn4", (1, 12, 12), 10).train()
    fused_model = copy.deepcopy(plain_model)
    x, y = torch.rand(8, 1, 12, 12), torch.randint(0, 10, (8,))
    plain, plain_stats, plain_bounds = certified_loss(plain_model, x, y, 0.05, SimpleNamespace(regime="crown-ibp"),
                                                      0.05)
    fused, fused_stats, fused_bounds = fused_crown_ibp_loss(fused_model, x, y, 0.05, 0.05)
    torch.testing.assert_close(fused, plain, atol=1e-5, rtol=1e-5)
    assert fused_stats == {**plain_stats, "robust_loss": fused_stats["robust_loss"]}
    # The IBP bounds RS/NRS reuse at the full eps are the same.
    assert fused_bounds.relu_indices == plain_bounds.relu_indices
    for (fl, fu), (pl, pu) in zip(fused_bounds.preactivations, plain_bounds.preactivations):
        torch.testing.assert_close(fl, pl), torch.testing.assert_close(fu, pu)
    for a, b in zip(plain_model.state_dict().values(), fused_model.state_dict().values()):
        torch.testing.assert_close(a, b)


def test_hand_example_where_fusion_is_tighter_than_one_bound_per_margin():
    """Logits (0, t, -t) for t in [-1, 1], label 0. The worst input for class 1 is t = 1,
    for class 2 t = -1: plain CROWN-IBP adds both, log(1 + 2e) = 1.8620; the true maximum
    is log(1 + e + 1/e) = 1.4076, and the fused bound reaches it (the chords of exp are
    exact at the interval ends, where this linear objective is largest)."""
    model = nn.Sequential(nn.Linear(1, 1), nn.Linear(1, 3))
    with torch.no_grad():
        model[0].weight.fill_(1.0), model[0].bias.zero_()
        model[1].weight.copy_(torch.tensor([[0.0], [1.0], [-1.0]])), model[1].bias.zero_()
    lower, upper, y = torch.tensor([[-1.0]]), torch.tensor([[1.0]]), torch.tensor([0])
    fused = fused_ce_upper_bound(model, lower, upper, y, beta=1.0).ce
    margins = compute_bounds(model, lower, upper, method="crown-ibp", spec=margin_spec(y, 3), bound_upper=False)
    plain = F.cross_entropy(worst_case_logits(margins.lower, y, 3), y, reduction="none")
    assert fused.item() == pytest.approx(math.log(1 + math.e + 1 / math.e), abs=1e-5)
    assert plain.item() == pytest.approx(math.log(1 + 2 * math.e), abs=1e-5)


def test_against_plain_crown_ibp_on_a_small_network():
    """A different objective: on a random cnn4 both bound every sampled point but differ
    (here plain CROWN-IBP is the tighter one: the chord of exp over the wide IBP interval
    costs more than the joint maximum gains). Both lie below the IBP loss."""
    model, shape = _model("cnn4", seed=0)
    torch.manual_seed(0)
    x, y = torch.rand(8, *shape), torch.randint(0, 10, (8,))
    eps = 0.02
    lower, upper = (x - eps).clamp(0, 1), (x + eps).clamp(0, 1)
    with torch.no_grad():
        fused = fused_ce_upper_bound(model, lower, upper, y, beta=1.0).ce
        margins = compute_bounds(model, lower, upper, method="crown-ibp", spec=margin_spec(y, 10),
                                 bound_upper=False)
        plain = F.cross_entropy(worst_case_logits(margins.lower, y, 10), y, reduction="none")
        ibp = F.cross_entropy(worst_case_logits(margins.ibp_lower, y, 10), y, reduction="none")
    sampled = _max_sampled_ce(model, x, y, lower, upper, samples=100)
    assert bool((fused >= sampled - 1e-5).all()) and bool((plain >= sampled - 1e-5).all())
    assert (fused - plain).abs().max().item() > 1e-3  # not the same function
    assert fused.mean().item() < ibp.mean().item() and plain.mean().item() < ibp.mean().item()


def test_loss_is_differentiable_and_clean_at_eps_zero():
    torch.manual_seed(6)
    model = build_model("cnn4", (1, 12, 12), 10).train()
    x, y = torch.rand(4, 1, 12, 12), torch.randint(0, 10, (4,))
    loss, stats, bound = fused_crown_ibp_loss(model, x, y, 0.02, 0.1)  # inside the ramp: beta 0.8
    loss.backward()
    grads = [p.grad for p in model.parameters()]
    assert all(g is not None and bool(torch.isfinite(g).all()) for g in grads)
    assert any(g.abs().sum() > 0 for g in grads)
    assert stats["count"] == 4 and bound is not None
    clean, clean_stats, none = fused_crown_ibp_loss(model, x, y, 0.0, 0.1)
    assert none is None and clean_stats["robust_correct"] == clean_stats["correct"]
