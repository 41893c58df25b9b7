"""The fast bound paths training uses: centre/radius IBP, the CROWN-IBP backward from the
output (transposed convolutions through the convolution's input-gradient kernel, the
three-pass ReLU step), against independent references; and the training-side reuse of
the bound pass's clean forward (BatchNorm running statistics)."""
import copy

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from certprune.bounds import build_graph, compute_bounds, margin_spec
from certprune.bounds.ibp import interval_bounds, preactivation_bounds
from certprune.bounds.operators.conv import _TransposedConv
from certprune.bounds.operators.relu import _relaxed_step
from certprune.models import build_model
from certprune.train import TrainingSettings, batch_loss, tune_cpu_allocator
from certprune.train.losses import certified_loss
from test_bounds_nets import (random_cnn, random_mlp, sample_box,  # noqa: F401
                              single_thread, train_mode_cnn)


def _close(a, b, tol):
    """|a - b| <= tol * max(1, |b|) element-wise."""
    return bool(((a - b).abs() <= tol * b.abs().clamp(min=1.0)).all())


# --- IBP ---------------------------------------------------------------------------------

@pytest.mark.parametrize("seed", range(6))
def test_fast_ibp_equals_the_interval_pass(seed):
    """compute_bounds('ibp') (centre/radius, no relaxations) = the Interval-based IBP of
    preactivation_bounds(crown=False), pre-activations and outputs, to 1e-5."""
    gen = torch.Generator().manual_seed(300 + seed)
    train_mode = seed % 2 == 1
    if seed < 4:
        model = random_cnn(gen, input_shape=(2, 9, 9), classes=4, batch_norm=seed != 2)
    else:
        model = random_mlp(gen, input_shape=(1, 4, 4), widths=(12, 9), classes=5)
    model.train(train_mode)
    shape = (2, 9, 9) if seed < 4 else (1, 4, 4)
    x = torch.rand(5, *shape, generator=gen)
    classes = 4 if seed < 4 else 5
    spec = margin_spec(torch.randint(0, classes, (5,), generator=gen), classes) if seed % 3 else None
    for eps in (0.01, 0.1):
        lo, hi = (x - eps).clamp(0, 1), (x + eps).clamp(0, 1)
        fast = compute_bounds(model, lo, hi, method="ibp", spec=spec, clean_input=x)
        graph = build_graph(model, shape, clean_input=x, spec=spec)
        pre, _, out = preactivation_bounds(graph, lo, hi, crown=False)
        assert _close(fast.lower, out.lower, 1e-5) and _close(fast.upper, out.upper, 1e-5)
        assert _close(fast.ibp_lower, out.lower, 1e-5)
        assert len(fast.preactivations) == len(pre)
        for (l, u), p in zip(fast.preactivations, sorted(pre)):
            assert _close(l, pre[p][0], 1e-5) and _close(u, pre[p][1], 1e-5)


def test_fast_ibp_is_differentiable_and_matches_reference_gradients():
    gen = torch.Generator().manual_seed(7)
    model = random_cnn(gen, input_shape=(1, 8, 8), classes=3).train()
    x = torch.rand(4, 1, 8, 8, generator=gen)
    lo, hi = (x - 0.03).clamp(0, 1), (x + 0.03).clamp(0, 1)
    spec = margin_spec(torch.tensor([0, 1, 2, 1]), 3)
    grads = []
    for fast in (True, False):
        model.zero_grad()
        if fast:
            lower = compute_bounds(model, lo, hi, method="ibp", spec=spec, clean_input=x).lower
        else:
            graph = build_graph(model, (1, 8, 8), clean_input=x, spec=spec)
            lower = preactivation_bounds(graph, lo, hi, crown=False)[2].lower
        lower.sum().backward()
        grads.append(torch.cat([p.grad.flatten() for p in model.parameters()]))
    # (conv biases before train-mode BatchNorm have gradient 0 up to rounding)
    assert torch.allclose(grads[0], grads[1], rtol=1e-4, atol=1e-5 * float(grads[1].abs().max()))


# --- CROWN-IBP against a dense reference ----------------------------------------------------

def _dense_layers(model, input_shape):
    """The eval-mode network as [(W, b) affine, 'relu', (W, b), ...] with dense matrices
    (consecutive affine layers composed)."""
    layers, shape = [], tuple(input_shape)
    current = None
    model = copy.deepcopy(model).double().eval()
    with torch.no_grad():
        for m in model:
            if isinstance(m, nn.ReLU):
                layers += [current, "relu"]
                current = None
                continue
            n = int(torch.tensor(shape).prod())
            zero = torch.zeros(1, *shape, dtype=torch.float64)
            basis = torch.eye(n, dtype=torch.float64).reshape(n, *shape)
            out0 = m(zero)
            W = (m(basis) - out0).reshape(n, -1).t()
            b = out0.reshape(-1)
            current = (W, b) if current is None else (W @ current[0], W @ current[1] + b)
            shape = tuple(out0.shape[1:])
    layers.append(current)
    return layers


def _dense_crown_ibp_lower(layers, C, lo, hi):
    """CROWN-IBP lower bound of C @ f(x) over the box (float64, per sample): IBP
    pre-activation bounds, CROWN-IBP's adaptive lower slope, backward from C W_last."""
    out = []
    for b in range(lo.shape[0]):
        c, r = (hi[b] + lo[b]).flatten() / 2, (hi[b] - lo[b]).flatten() / 2
        bounds = []
        for layer in layers[:-1]:
            if layer == "relu":
                l, u = c - r, c + r
                bounds.append((l, u))
                lr, ur = l.clamp(min=0), u.clamp(min=0)
                c, r = (ur + lr) / 2, (ur - lr) / 2
            else:
                W, bias = layer
                c, r = W @ c + bias, W.abs() @ r
        W, bias = layers[-1]
        A, const = C[b] @ W, C[b] @ bias
        k = len(bounds) - 1
        for layer in reversed(layers[:-1]):
            if layer == "relu":
                l, u = bounds[k]
                k -= 1
                up = u.clamp(min=0) / (u.clamp(min=0) - l.clamp(max=0)).clamp(min=1e-12)
                ic = -l.clamp(max=0) * up
                ls = torch.where(l >= 0, torch.ones_like(l), torch.where(u <= 0, torch.zeros_like(l),
                                                                           (u > -l).to(l.dtype)))
                up = torch.where(l >= 0, torch.ones_like(l), torch.where(u <= 0, torch.zeros_like(l), up))
                ic = torch.where((l < 0) & (u > 0), ic, torch.zeros_like(ic))
                pos, neg = A.clamp(min=0), A.clamp(max=0)
                A, const = pos * ls + neg * up, const + neg @ ic
            else:
                W, bias = layer
                A, const = A @ W, const + A @ bias
        cx, rx = (hi[b] + lo[b]).flatten() / 2, (hi[b] - lo[b]).flatten() / 2
        out.append(A @ cx - A.abs() @ rx + const)
    return torch.stack(out)


@pytest.mark.parametrize("seed", range(6))
def test_crown_ibp_equals_a_dense_reference(seed):
    gen = torch.Generator().manual_seed(400 + seed)
    if seed < 4:
        shape, classes = (2, 9, 9), 4
        model = random_cnn(gen, input_shape=shape, classes=classes, batch_norm=seed != 1)
    else:
        shape, classes = (1, 4, 4), 5
        model = random_mlp(gen, input_shape=shape, widths=(12, 9), classes=classes)
    x = torch.rand(3, *shape, generator=gen)
    y = torch.randint(0, classes, (3,), generator=gen)
    C = margin_spec(y, classes)
    dense = _dense_layers(model, shape)
    for eps in (0.005, 0.03, 0.1):
        lo, hi = (x - eps).clamp(0, 1), (x + eps).clamp(0, 1)
        b = compute_bounds(model, lo, hi, method="crown-ibp", spec=C, bound_upper=True)
        ref = _dense_crown_ibp_lower(dense, C.double(), lo.double(), hi.double())
        assert _close(b.lower.double(), ref, 1e-4), f"eps {eps}: {(b.lower.double() - ref).abs().max()}"
        # The upper bound is the lower bound of -C (the same code, the other side).
        ref_up = -_dense_crown_ibp_lower(dense, -C.double(), lo.double(), hi.double())
        assert _close(b.upper.double(), ref_up, 1e-4)


@pytest.mark.parametrize("seed", range(3))
def test_crown_ibp_train_mode_is_sound_on_samples(seed):
    gen = torch.Generator().manual_seed(500 + seed)
    model, clean, reference = train_mode_cnn(gen)
    C = margin_spec(torch.tensor([0, 2, 1, 0]), 3)
    lo, hi = (clean - 0.04).clamp(0, 1), (clean + 0.04).clamp(0, 1)
    b = compute_bounds(model, lo, hi, method="crown-ibp", spec=C, clean_input=clean, bound_upper=False)
    points = sample_box(gen, lo, hi, 400)
    with torch.no_grad():
        logits = reference(points.reshape(-1, 1, 8, 8)).reshape(4, 400, 3)
    margins = torch.einsum("bsk,bnk->bns", C, logits)
    assert bool((margins >= b.lower.detach().unsqueeze(1) - 1e-4).all())
    assert bool((margins >= b.ibp_lower.detach().unsqueeze(1) - 1e-4).all())
    assert bool((b.lower >= b.ibp_lower - 1e-3).float().mean() > 0.5)  # CROWN-IBP is mostly tighter
    # the clean output comes for free with the bound pass: the train-mode forward
    with torch.no_grad():
        assert torch.allclose(b.clean_output, reference(clean), atol=1e-5)


# --- the pieces ----------------------------------------------------------------------------

@pytest.mark.parametrize("channels", [1, 3])  # 1: the conv_transpose2d branch
@pytest.mark.parametrize("conf", [(3, 1, 1, 1, 9), (4, 2, 1, 1, 9), (3, 2, 0, 1, 8), (3, 1, 2, 2, 10), (4, 2, 1, 1, 7)])
def test_transposed_conv_matches_conv_transpose2d_and_gradcheck(conf, channels):
    kernel, stride, padding, dilation, size = conf
    gen = torch.Generator().manual_seed(sum(conf))
    weight = torch.randn(5, channels, kernel, kernel, generator=gen, dtype=torch.float64)
    x = torch.zeros(1, channels, size, size, dtype=torch.float64)
    out = F.conv2d(x, weight, None, stride, padding, dilation)
    ho, wo = out.shape[2:]
    A = torch.randn(4, 5, ho, wo, generator=gen, dtype=torch.float64)
    pad = size - ((ho - 1) * stride - 2 * padding + dilation * (kernel - 1) + 1)
    expected = F.conv_transpose2d(A, weight, None, stride, padding, pad, 1, dilation)
    got = _TransposedConv.apply(A, weight, (size, size), (stride, stride), (padding, padding), (dilation, dilation))
    assert got.shape == (4, channels, size, size) and torch.allclose(got, expected, atol=1e-10)
    A.requires_grad_(True)
    weight.requires_grad_(True)
    assert torch.autograd.gradcheck(
        lambda a, w: _TransposedConv.apply(a, w, (size, size), (stride, stride), (padding, padding),
                                           (dilation, dilation)), (A, weight))


@pytest.mark.parametrize("per_spec", [False, True])
@pytest.mark.parametrize("lower", [True, False])
def test_relu_step_matches_the_two_line_formula_with_gradients(lower, per_spec):
    gen = torch.Generator().manual_seed(int(lower) * 2 + int(per_spec))
    n, s, shape = 3, 4, (2, 3, 3)
    A = torch.randn(n, s, *shape, generator=gen, dtype=torch.float64, requires_grad=True)
    slope_shape = (n, s if per_spec else 1) + shape
    lower_line = torch.rand(slope_shape, generator=gen, dtype=torch.float64, requires_grad=True)
    upper_line = torch.rand((n, 1) + shape, generator=gen, dtype=torch.float64, requires_grad=True)
    intercept = torch.rand((n, 1) + shape, generator=gen, dtype=torch.float64, requires_grad=True)
    pos, neg = A.clamp(min=0), A.clamp(max=0)
    if lower:  # lower bound: lower line for positive coefficients, upper line (+ intercept) for negative
        ref = pos * lower_line + neg * upper_line
        ref_bias = (neg * intercept).flatten(2).sum(-1)
        got, got_bias = _relaxed_step(A, lower_line, upper_line, intercept, lower=True)
    else:
        ref = pos * upper_line + neg * lower_line
        ref_bias = (pos * intercept).flatten(2).sum(-1)
        got, got_bias = _relaxed_step(A, upper_line, lower_line, intercept, lower=False)
    assert torch.allclose(got, ref, atol=1e-12) and torch.allclose(got_bias, ref_bias, atol=1e-12)
    weights = torch.randn(got.shape, generator=gen, dtype=torch.float64)
    inputs = (A, lower_line, upper_line, intercept)
    g_ref = torch.autograd.grad((ref * weights).sum() + ref_bias.sum() * 0.7, inputs)
    g_got = torch.autograd.grad((got * weights).sum() + got_bias.sum() * 0.7, inputs)
    for a, b in zip(g_got, g_ref):
        assert torch.allclose(a, b, atol=1e-10)


def test_ibp_result_carries_the_clean_output_and_batch_statistics():
    torch.manual_seed(0)
    model = build_model("cnn4", (1, 12, 12), 10).train()
    x = torch.rand(6, 1, 12, 12)
    b = compute_bounds(model, (x - 0.01).clamp(0, 1), (x + 0.01).clamp(0, 1), method="ibp",
                       spec=margin_spec(torch.arange(6) % 10, 10), clean_input=x)
    bns = [i for i, m in enumerate(model) if isinstance(m, nn.BatchNorm2d)]
    assert sorted(b.batch_statistics) == bns
    with torch.no_grad():
        reference = copy.deepcopy(model)
        assert torch.allclose(b.clean_output, reference(x), atol=1e-5)
        z = x
        for i, m in enumerate(model):
            if i in bns:
                mean, var, count = b.batch_statistics[i]
                assert torch.allclose(mean, z.mean(dim=(0, 2, 3)), atol=1e-6)
                assert torch.allclose(var, z.var(dim=(0, 2, 3), unbiased=False), atol=1e-6)
                assert count == z.numel() // z.shape[1]
            z = reference[i](z)
    # eval mode: no clean pass, nothing to report
    model.eval()
    b = compute_bounds(model, x, x, method="ibp")
    assert b.clean_output is None and b.batch_statistics == {}


@pytest.mark.parametrize("regime", ["ibp", "crown-ibp"])
def test_certified_loss_updates_running_statistics_like_a_train_forward(regime):
    """The bound pass's clean statistics replace the separate clean forward pass: running
    statistics, num_batches_tracked, the clean accuracy and the loss are what they were."""
    torch.manual_seed(1)
    model = build_model("cnn4", (1, 12, 12), 10).train()
    with torch.no_grad():
        for m in model:
            if isinstance(m, nn.BatchNorm2d):
                m.running_mean.uniform_(-0.5, 0.5)
                m.running_var.uniform_(0.5, 1.5)
    model[2].momentum = None  # cumulative average on one layer
    before = copy.deepcopy(model)
    x, y = torch.rand(8, 1, 12, 12), torch.randint(0, 10, (8,))
    settings = TrainingSettings(regime=regime, eps=0.1)
    loss, stats, _ = certified_loss(model, x, y, 0.05, settings, 0.1)
    with torch.no_grad():
        logits = before(x)  # train mode: updates before's running statistics the usual way
    for a, b in zip(model.modules(), before.modules()):
        if isinstance(a, nn.BatchNorm2d):
            assert torch.allclose(a.running_mean, b.running_mean, atol=1e-6)
            assert torch.allclose(a.running_var, b.running_var, atol=1e-6)
            assert int(a.num_batches_tracked) == int(b.num_batches_tracked) == 1
    assert stats["correct"] == int((logits.argmax(1) == y).sum())
    assert stats["count"] == 8 and 0 <= stats["robust_correct"] <= 8
    # the loss is the one batch_loss reports, and differentiable
    model2 = copy.deepcopy(before)
    loss2, _ = batch_loss(model2, x, y, 0.05, settings, eps_max=0.1)
    assert float(loss.detach()) == pytest.approx(float(loss2.detach()), rel=1e-6)
    loss2.backward()
    assert model2[1].weight.grad is not None


def test_allocator_tuning_is_idempotent():
    first = tune_cpu_allocator()
    assert isinstance(first, bool) and tune_cpu_allocator() == first
