"""Every bound method contains the outputs of sampled points (and box corners)."""
import pytest
import torch

from certprune.bounds import compute_bounds, margin_spec
from test_bounds_nets import (random_cnn, random_mlp, sample_box,  # noqa: F401
                              single_thread, train_mode_cnn)

METHODS = ["ibp", "crown-ibp", "crown", "alpha-crown"]
TOL = 1e-4  # float32 rounding in bounds and forward passes of O(10) magnitude


def _outputs(model, points, spec):
    """points (B, n, *s) -> spec @ model(points): (B, n, S)."""
    b, n = points.shape[:2]
    with torch.no_grad():
        logits = model(points.reshape(b * n, *points.shape[2:])).reshape(b, n, -1)
    return logits if spec is None else torch.einsum("bsk,bnk->bns", spec, logits)


def _check_all_methods(model, reference, lower_box, upper_box, spec, gen, clean=None, n=2000):
    points = sample_box(gen, lower_box, upper_box, n)
    outs = _outputs(reference, points, spec)  # (B, n, S)
    # Every layer's sampled values once: (B, n, *shape) per Sequential index.
    flat, acts = points.reshape(-1, *points.shape[2:]), {}
    with torch.no_grad():
        for i, layer in enumerate(reference):
            acts[i] = flat.reshape(points.shape[0], points.shape[1], *flat.shape[1:])
            flat = layer(flat)
    crown = None
    for method in METHODS:
        b = compute_bounds(model, lower_box, upper_box, method=method, spec=spec, clean_input=clean,
                           alpha_iterations=10)
        lo, up = b.lower.detach(), b.upper.detach()
        assert bool((outs >= lo.unsqueeze(1) - TOL).all()), f"{method} lower bound violated"
        assert bool((outs <= up.unsqueeze(1) + TOL).all()), f"{method} upper bound violated"
        if method in ("ibp", "crown-ibp"):
            assert bool((outs >= b.ibp_lower.detach().unsqueeze(1) - TOL).all())
        # Pre-activation bounds contain the sampled pre-activations too.
        for (l, u), idx in zip(b.preactivations, b.relu_indices):
            z = acts[idx]
            assert bool((z >= l.detach().unsqueeze(1) - TOL).all()), f"{method} pre-activation {idx}"
            assert bool((z <= u.detach().unsqueeze(1) + TOL).all()), f"{method} pre-activation {idx}"
        if method == "crown":
            crown = (lo, up)
        if method == "alpha-crown":
            assert bool((lo >= crown[0] - 1e-5).all()), "alpha-CROWN lower bound below CROWN's"
            assert bool((up <= crown[1] + 1e-5).all()), "alpha-CROWN upper bound above CROWN's"


@pytest.mark.parametrize("seed", range(12))
def test_mlp_bounds_contain_samples(seed):
    gen = torch.Generator().manual_seed(seed)
    model = random_mlp(gen, input_shape=(1, 3, 3), widths=(10, 8, 6), classes=4)
    x = torch.rand(3, 1, 3, 3, generator=gen)
    eps = [0.02, 0.1, 0.3][seed % 3]
    lower_box, upper_box = (x - eps).clamp(0, 1), (x + eps).clamp(0, 1)
    spec = margin_spec(torch.randint(0, 4, (3,), generator=gen), 4) if seed % 2 else None
    _check_all_methods(model, model, lower_box, upper_box, spec, gen)


@pytest.mark.parametrize("seed", range(8))
def test_cnn_bounds_contain_samples_eval_mode(seed):
    gen = torch.Generator().manual_seed(100 + seed)
    model = random_cnn(gen, input_shape=(2, 9, 9), classes=4, batch_norm=seed % 4 != 3)
    x = torch.rand(2, 2, 9, 9, generator=gen)
    eps = [0.01, 0.03, 0.08, 0.2][seed % 4]
    lower_box, upper_box = (x - eps).clamp(0, 1), (x + eps).clamp(0, 1)
    spec = margin_spec(torch.tensor([1, 3]), 4) if seed % 2 else None
    _check_all_methods(model, model, lower_box, upper_box, spec, gen, n=1000)


@pytest.mark.parametrize("seed", range(4))
def test_cnn_bounds_contain_samples_train_mode(seed):
    """Train-mode BatchNorm: bounds describe the network with the clean batch's statistics."""
    gen = torch.Generator().manual_seed(200 + seed)
    model, clean, reference = train_mode_cnn(gen)
    running = [m.running_mean.clone() for m in model if hasattr(m, "running_mean")]
    eps = 0.05
    lower_box, upper_box = (clean - eps).clamp(0, 1), (clean + eps).clamp(0, 1)
    spec = margin_spec(torch.tensor([0, 1, 2, 0]), 3)
    _check_all_methods(model, reference, lower_box, upper_box, spec, gen, clean=clean, n=500)
    after = [m.running_mean for m in model if hasattr(m, "running_mean")]
    assert all(torch.equal(a, b) for a, b in zip(running, after)), "bounds must not touch running stats"
