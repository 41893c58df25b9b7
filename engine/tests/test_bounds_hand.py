"""Bounds on networks small enough to work out by hand, and exactness on linear networks."""
import torch
from torch import nn

from certprune.bounds import compute_bounds, margin_spec
from test_bounds_nets import random_cnn, single_thread  # noqa: F401 (fixture)


def _abs_net():
    """y = relu(x1 + x2) + relu(x1 - x2) on x in [-1, 1]^2 (true range [0, 2])."""
    first = nn.Linear(2, 2)
    second = nn.Linear(2, 1)
    with torch.no_grad():
        first.weight.copy_(torch.tensor([[1.0, 1.0], [1.0, -1.0]]))
        first.bias.zero_()
        second.weight.copy_(torch.tensor([[1.0, 1.0]]))
        second.bias.zero_()
    return nn.Sequential(first, nn.ReLU(), second)


def test_hand_computed_ibp_and_crown():
    net = _abs_net()
    lo, hi = -torch.ones(1, 2), torch.ones(1, 2)
    ibp = compute_bounds(net, lo, hi, method="ibp")
    # IBP: each ReLU in [0, 2], so y in [0, 4].
    assert torch.allclose(ibp.lower, torch.tensor([[0.0]])) and torch.allclose(ibp.upper, torch.tensor([[4.0]]))
    crown = compute_bounds(net, lo, hi, method="crown")
    # CROWN: relu(h) <= (h + 2) / 2 for h in [-2, 2], so y <= x1 + 2 <= 3; lower slope 0 (u = -l).
    assert torch.allclose(crown.lower, torch.tensor([[0.0]])) and torch.allclose(crown.upper, torch.tensor([[3.0]]))
    alpha = compute_bounds(net, lo, hi, method="alpha-crown", alpha_iterations=30)
    # Any lower slopes give (a1 + a2) x1 + (a1 - a2) x2 >= -|a1 + a2| - |a1 - a2|: 0 stays best.
    assert torch.allclose(alpha.lower, torch.tensor([[0.0]]), atol=1e-6)
    assert [tuple(l.shape) for l, _ in crown.preactivations] == [(1, 2)]
    assert crown.relu_indices == [1]


def test_alpha_crown_improves_on_crown_where_slopes_matter():
    """y = relu(x) on [-1, 3] : CROWN picks slope 1 (u > -l) giving -1; the best slope 0 gives 0."""
    net = nn.Sequential(nn.Linear(1, 1), nn.ReLU(), nn.Linear(1, 1))
    with torch.no_grad():
        net[0].weight.fill_(1.0), net[0].bias.zero_(), net[2].weight.fill_(1.0), net[2].bias.zero_()
    lo, hi = torch.tensor([[-1.0]]), torch.tensor([[3.0]])
    crown = compute_bounds(net, lo, hi, method="crown")
    assert torch.allclose(crown.lower, torch.tensor([[-1.0]]))
    alpha = compute_bounds(net, lo, hi, method="alpha-crown", alpha_iterations=30)
    assert alpha.lower.item() > -0.05
    assert alpha.upper.item() <= 3.0 + 1e-6


def test_margin_spec_rows():
    C = margin_spec(torch.tensor([0, 2]), 3)
    expected = torch.tensor([[[1.0, -1.0, 0.0], [1.0, 0.0, -1.0]],
                             [[-1.0, 0.0, 1.0], [0.0, -1.0, 1.0]]])
    assert torch.equal(C, expected)


def test_spec_is_folded_into_last_layer():
    """The IBP bound of margins (folded) is tighter than subtracting logit intervals."""
    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(4, 6), nn.ReLU(), nn.Linear(6, 3))
    x = torch.rand(1, 4)
    C = margin_spec(torch.tensor([1]), 3)
    folded = compute_bounds(net, x - 0.1, x + 0.1, method="ibp", spec=C)
    logits = compute_bounds(net, x - 0.1, x + 0.1, method="ibp")
    naive = logits.lower[:, 1:2] - logits.upper[:, [0, 2]]
    assert bool((folded.lower >= naive - 1e-6).all()) and bool((folded.lower > naive + 1e-4).any())


def _dense_jacobian(net, shape):
    x = torch.zeros(1, *shape)
    return torch.autograd.functional.jacobian(lambda v: net(v.reshape(1, *shape)).flatten(), x.flatten())


def test_linear_cnn_bounds_are_exact():
    """Without ReLUs the network is affine: CROWN (transposed convolutions, BN, strides with
    output padding) must give the exact range W c + b +- |W| r of a dense Jacobian."""
    gen = torch.Generator().manual_seed(3)
    net = random_cnn(gen, input_shape=(2, 9, 9), classes=4)
    linear = nn.Sequential(*[m for m in net if not isinstance(m, nn.ReLU)]).eval()
    x = torch.rand(3, 2, 9, 9, generator=gen)
    lo, hi = (x - 0.1).clamp(0, 1), (x + 0.1).clamp(0, 1)
    W = _dense_jacobian(linear, (2, 9, 9))  # (4, 162)
    center, radius = ((lo + hi) / 2).flatten(1), ((hi - lo) / 2).flatten(1)
    with torch.no_grad():
        mid = linear((lo + hi) / 2)
    exact_lo = mid - radius @ W.abs().t()
    exact_hi = mid + radius @ W.abs().t()
    b = compute_bounds(linear, lo, hi, method="crown")
    assert torch.allclose(b.lower, exact_lo, atol=1e-4) and torch.allclose(b.upper, exact_hi, atol=1e-4)


def test_train_mode_bounds_are_differentiable_and_use_batch_statistics():
    gen = torch.Generator().manual_seed(4)
    net = random_cnn(gen, input_shape=(1, 8, 8), classes=3).train()
    clean = torch.rand(5, 1, 8, 8, generator=gen)
    before = net[2].running_mean.clone()
    C = margin_spec(torch.tensor([0, 1, 2, 0, 1]), 3)
    b = compute_bounds(net, (clean - 0.02).clamp(0, 1), (clean + 0.02).clamp(0, 1), method="crown-ibp",
                       spec=C, clean_input=clean, bound_upper=False)
    assert b.upper is None and b.lower.shape == (5, 2) and b.ibp_lower.shape == (5, 2)
    (b.lower.sum() + b.ibp_lower.sum()).backward()
    assert net[1].weight.grad is not None and float(net[1].weight.grad.abs().sum()) > 0
    assert net[2].weight.grad is not None and float(net[2].weight.grad.abs().sum()) > 0
    assert torch.equal(net[2].running_mean, before)
    # eps = 0 in train mode: bounds equal the train-mode forward (batch statistics).
    with torch.no_grad():
        tight = compute_bounds(net, clean, clean, method="crown-ibp", spec=C, clean_input=clean)
        logits = net(clean)
    margins = torch.einsum("bsk,bk->bs", C, logits)
    assert torch.allclose(tight.lower, margins, atol=1e-4) and torch.allclose(tight.upper, margins, atol=1e-4)
