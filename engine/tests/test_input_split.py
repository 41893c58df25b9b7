"""Input-space branch and bound (verify/input_split.py) against exact answers.

Exact minima come from the big-M MILP of test_bab_milp (float64, HiGHS): for a clause of
rows r_s and offsets o_s, min over the box of max_s (r_s . f(x) + o_s) is <= 0 exactly
when some input violates the clause.
"""
import time

import pytest
import torch
from torch import nn

from certprune.verify import Clause, VerifySettings, verify_box
from certprune.verify.input_split import (BRANCHING, InputSplitSettings, affine_chain, bound_boxes, input_split,
                                          suits_input_split)
from test_bab_milp import affine_segments, milp_min_margin
from test_bounds_nets import random_cnn, random_mlp, single_thread  # noqa: F401 (fixture)


def _box(gen, n, fixed=()):
    """A random box (1, 1, 1, n) inside [0, 1]; inputs in ``fixed`` have lower == upper."""
    centre = torch.rand(1, 1, 1, n, generator=gen)
    radius = 0.05 + 0.25 * torch.rand(1, 1, 1, n, generator=gen)
    lo, hi = (centre - radius).clamp(0, 1), (centre + radius).clamp(0, 1)
    for i in fixed:
        hi[..., i] = lo[..., i]
    return lo, hi


def _exact(model, lo, hi, clause):
    maps = affine_segments(model, lo.shape[1:])
    return milp_min_margin(maps, lo.double().flatten().numpy(), hi.double().flatten().numpy(),
                           clause.spec.double().numpy(), clause.offset.double().numpy())


def _check_verdict(model, lo, hi, clauses, result, exact_mins, label):
    """The verdict agrees with the exact minima; a counterexample is in the box and violates."""
    violated = min(exact_mins) <= 0
    assert result.status == ("falsified" if violated else "verified"), \
        f"{label}: exact clause minima {exact_mins}, got {result.status} ({result.decided_by})"
    if violated:
        x = result.counterexample
        assert x is not None and x.shape == lo.shape[1:]
        assert bool((x >= lo[0]).all() and (x <= hi[0]).all()), f"{label}: counterexample outside the box"
        with torch.no_grad():
            y = model(x.unsqueeze(0))[0]
        assert any(bool((c.spec @ y + c.offset <= 0).all()) for c in clauses), f"{label}: not a counterexample"


def test_affine_chain_is_the_network_on_the_free_inputs():
    gen = torch.Generator().manual_seed(0)
    model = random_mlp(gen, input_shape=(1, 2, 4), widths=(7, 6), classes=3)
    lo, hi = torch.rand(1, 1, 2, 4, generator=gen) * 0.5, torch.rand(1, 1, 2, 4, generator=gen) * 0.5 + 0.5
    hi[0, 0, 1, 1:] = lo[0, 0, 1, 1:]  # three fixed inputs
    chain = affine_chain(model, lo, hi)
    assert chain.weights[0].shape == (7, 5)
    x = lo + torch.rand(50, 1, 2, 4, generator=gen) * (hi - lo)
    free = x.reshape(50, -1)[:, (lo.flatten() < hi.flatten()).nonzero().flatten()]
    with torch.no_grad():
        assert torch.allclose(chain.forward(free.double()), model.double()(x.double()), atol=1e-10)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_bounds_contain_every_sampled_output(seed):
    gen = torch.Generator().manual_seed(seed)
    model = random_mlp(gen, input_shape=(1, 1, 4), widths=(12, 12, 12), classes=4)
    lo, hi = torch.zeros(1, 1, 1, 4), torch.ones(1, 1, 1, 4)
    spec = torch.randn(3, 4, generator=gen)
    chain = affine_chain(model, lo, hi).with_spec(spec.double(), torch.zeros(3).double())
    chain = chain.to(torch.float32)
    # 64 random sub-boxes of the box
    a = lo.reshape(1, 4) + torch.rand(64, 4, generator=gen) * (hi - lo).reshape(1, 4)
    b = lo.reshape(1, 4) + torch.rand(64, 4, generator=gen) * (hi - lo).reshape(1, 4)
    sub_lo, sub_hi = torch.minimum(a, b), torch.maximum(a, b)
    bounds = bound_boxes(chain, sub_lo, sub_hi)
    unstable = sum(int(((l < 0) & (u > 0)).sum()) for l, u in bounds.pre) / (64 * 36)
    assert unstable > 0.2, "too few unstable ReLUs for the relaxation to be exercised"
    points = sub_lo + torch.rand(500, 64, 4, generator=gen) * (sub_hi - sub_lo)  # (P, B, n)
    with torch.no_grad():
        values = torch.stack([chain.forward(p) for p in points])  # (P, B, S)
        z = points
        for k, (l, u) in enumerate(bounds.pre):
            w, bias = chain.weights[k], chain.biases[k]
            z = (torch.relu(z) if k else z) @ w.t() + bias
            assert bool((z >= l - 1e-5).all() and (z <= u + 1e-5).all()), f"ReLU {k} bounds violated"
    assert bool((values >= bounds.lower - 1e-5).all())
    # and not vacuous: tighter than interval arithmetic on the same chain
    lo_k, hi_k = sub_lo, sub_hi
    for k, (w, bias) in enumerate(zip(chain.weights, chain.biases)):
        if k:
            lo_k, hi_k = torch.relu(lo_k), torch.relu(hi_k)
        centre, radius = (lo_k + hi_k) @ w.t() / 2 + bias, (hi_k - lo_k) @ w.abs().t() / 2
        lo_k, hi_k = centre - radius, centre + radius
    assert float(bounds.lower.mean()) > float(lo_k.mean())
    assert bounds.gain is not None and bool((bounds.gain >= 0).all())


@pytest.mark.slow
def test_verdicts_match_milp_on_random_networks():
    """2-5 inputs, one to three clauses of one to three rows, some inputs fixed."""
    gen = torch.Generator().manual_seed(2024)
    seen = {"verified": 0, "falsified": 0}
    checked = 0
    for trial in range(30):
        n = 2 + trial % 4
        model = random_mlp(gen, input_shape=(1, 1, n + 1), widths=(12, 10), classes=4)
        lo, hi = _box(gen, n + 1, fixed=(n,))  # the last input is fixed
        clauses = []
        for _ in range(1 + trial % 3):
            rows = 1 + int(torch.randint(3, (1,), generator=gen))
            clauses.append(Clause(torch.randn(rows, 4, generator=gen), torch.randn(rows, generator=gen) * 0.3))
        exact = [_exact(model, lo, hi, c) for c in clauses]
        if min(abs(e) for e in exact) < 1e-4:  # a tie either way: skip
            continue
        # a small batch leaves boxes waiting in the pool (worst-first and lowest-value-first
        # choice, attacks from the pool); the default settles most of these in one step
        settings = InputSplitSettings(batch=1, attack_every=2) if trial % 2 else InputSplitSettings(attack_every=0)
        result = input_split(model, lo, hi, clauses, deadline=time.monotonic() + 30, settings=settings)
        _check_verdict(model, lo, hi, clauses, result, exact, f"trial {trial}")
        seen[result.status] += 1
        checked += 1
    assert checked >= 25
    assert seen["verified"] >= 5 and seen["falsified"] >= 5, seen


def test_close_calls_are_decided():
    """Threshold 3% of |min| either side of the exact minimum over the box: just safe must be
    verified, just unsafe falsified (no attack: the search itself must find the point),
    with every branching rule."""
    gen = torch.Generator().manual_seed(7)
    decided = 0
    for trial in range(3):
        model = random_mlp(gen, input_shape=(1, 1, 3), widths=(16, 16, 16), classes=3)
        lo, hi = _box(gen, 3)
        row = torch.randn(1, 3, generator=gen)
        minimum = _exact(model, lo, hi, Clause(row, torch.zeros(1)))
        if abs(minimum) < 1e-2:
            continue
        for side in (1.0, -1.0):
            # clause row . y - minimum + side * 3% |minimum| <= 0: its exact min is side * 3% |minimum|
            exact = side * 0.03 * abs(minimum)
            clause = Clause(row, torch.tensor([exact - minimum], dtype=torch.float32))
            for branching in sorted(BRANCHING):
                result = input_split(model, lo, hi, [clause], deadline=time.monotonic() + 60,
                                     settings=InputSplitSettings(attack_every=0, branching=branching))
                _check_verdict(model, lo, hi, [clause], result, [exact], f"trial {trial} {side} {branching}")
                decided += 1
            # one box per step: the pool holds boxes while whole batches of children close
            result = input_split(model, lo, hi, [clause], deadline=time.monotonic() + 60,
                                 settings=InputSplitSettings(batch=1, attack_every=3))
            _check_verdict(model, lo, hi, [clause], result, [exact], f"trial {trial} {side} batch 1")
    assert decided >= 12


def test_conjunction_needs_every_row_and_disjunction_any_clause():
    """Two rows that cannot both be <= 0 anywhere: as one clause the property holds; as two
    clauses (either row alone) it is violated."""
    gen = torch.Generator().manual_seed(5)
    model = random_mlp(gen, input_shape=(1, 1, 2), widths=(8,), classes=2)
    lo, hi = torch.zeros(1, 1, 1, 2), torch.ones(1, 1, 1, 2)
    # rows y0 - y1 + 1e-3 and y1 - y0 + 1e-3: their sum is 2e-3 > 0, never both <= 0
    rows = torch.tensor([[1.0, -1.0], [-1.0, 1.0]])
    offset = torch.tensor([1e-3, 1e-3])
    both = [Clause(rows, offset)]
    with torch.no_grad():
        grid = torch.stack(torch.meshgrid(torch.linspace(0, 1, 101), torch.linspace(0, 1, 101), indexing="ij"), -1)
        margin = model(grid.reshape(-1, 1, 1, 2))
    spread = margin[:, 0] - margin[:, 1]
    assert float(spread.min()) < -1e-3 < 1e-3 < float(spread.max()), "each row alone must be violable"
    verdict = input_split(model, lo, hi, both, deadline=time.monotonic() + 30)
    assert verdict.status == "verified"
    either = [Clause(rows[:1], offset[:1]), Clause(rows[1:], offset[1:])]
    verdict = input_split(model, lo, hi, either, deadline=time.monotonic() + 30)
    assert verdict.status == "falsified"
    _check_verdict(model, lo, hi, either, verdict, [-1.0], "either")


def test_network_without_relu():
    """An affine network: the first bound is exact, nothing to split."""
    model = nn.Sequential(nn.Flatten(), nn.Linear(3, 2))
    with torch.no_grad():
        model[1].weight.copy_(torch.tensor([[1.0, -2.0, 0.5], [0.0, 1.0, 1.0]]))
        model[1].bias.zero_()
    lo, hi = torch.zeros(1, 3), torch.ones(1, 3)
    safe = Clause(torch.tensor([[1.0, 0.0]]), torch.tensor([2.1]))  # y0 >= -2 > -2.1
    unsafe = Clause(torch.tensor([[1.0, 0.0]]), torch.tensor([1.9]))
    assert input_split(model, lo, hi, [safe], deadline=time.monotonic() + 10).status == "verified"
    result = input_split(model, lo, hi, [unsafe], deadline=time.monotonic() + 10)
    _check_verdict(model, lo, hi, [unsafe], result, [-0.1], "affine")


def test_suits_rule():
    gen = torch.Generator().manual_seed(3)
    mlp = random_mlp(gen, input_shape=(1, 1, 5), widths=(8,), classes=3)
    lo, hi = torch.zeros(1, 1, 1, 5), torch.ones(1, 1, 1, 5)
    assert suits_input_split(mlp, lo, hi)
    assert not suits_input_split(mlp, lo, lo)  # nothing free: a point
    assert not suits_input_split(mlp, lo.repeat(2, 1, 1, 1), hi.repeat(2, 1, 1, 1))  # one box only
    image = random_cnn(gen, input_shape=(1, 8, 8), classes=3)
    lo, hi = torch.zeros(1, 1, 8, 8), torch.ones(1, 1, 8, 8)
    assert not suits_input_split(image, lo, hi)  # 64 free inputs
    hi_few = lo.clone()
    hi_few[0, 0, 3, :4] = 1.0
    assert suits_input_split(image, lo, hi_few)  # 4 free pixels, the rest fixed
    assert not suits_input_split(nn.Sequential(nn.Flatten(), nn.Linear(64, 3), nn.Sigmoid()), lo, hi_few)


def test_fixed_pixels_of_a_cnn_match_milp():
    """Most inputs fixed: the fixed ones fold into the first map's bias."""
    gen = torch.Generator().manual_seed(11)
    model = random_cnn(gen, input_shape=(1, 6, 6), classes=3, batch_norm=True)
    x = torch.rand(1, 1, 6, 6, generator=gen)
    lo, hi = x.clone(), x.clone()
    lo[0, 0, 2, 1:4] = (x[0, 0, 2, 1:4] - 0.4).clamp(0, 1)
    hi[0, 0, 2, 1:4] = (x[0, 0, 2, 1:4] + 0.4).clamp(0, 1)
    with torch.no_grad():
        label = int(model(x).argmax())
    for j in range(3):
        if j == label:
            continue
        row = torch.zeros(1, 3)
        row[0, label], row[0, j] = 1.0, -1.0
        clause = Clause(row, torch.zeros(1))
        exact = _exact(model, lo, hi, clause)
        if abs(exact) < 1e-4:
            continue
        result = input_split(model, lo, hi, [clause], deadline=time.monotonic() + 30)
        _check_verdict(model, lo, hi, [clause], result, [exact], f"class {j}")


def test_verify_box_takes_input_split_for_few_inputs_and_honours_the_deadline(monkeypatch):
    import certprune.verify.input_split as module

    gen = torch.Generator().manual_seed(9)
    model = random_mlp(gen, input_shape=(1, 1, 3), widths=(16, 16), classes=3)
    lo, hi = torch.zeros(1, 1, 1, 3), torch.ones(1, 1, 1, 3)
    row = torch.tensor([[1.0, -1.0, 0.0]])
    exact = _exact(model, lo, hi, Clause(row, torch.zeros(1)))
    calls = []
    monkeypatch.setattr(module, "input_split", lambda *a, **k: calls.append(1) or input_split(*a, **k))
    settings = VerifySettings(pgd_steps=5, pgd_restarts=2)
    just_safe = Clause(row, torch.tensor([-exact + 0.05 * abs(exact)]))
    result = verify_box(model, lo, hi, [just_safe], "bab", settings=settings)
    assert calls and result.status == "verified" and result.decided_by == "bab" and result.domains > 1
    result = input_split(model, lo, hi, [just_safe], deadline=time.monotonic() - 1)
    assert result.status == "unknown" and result.decided_by == "timeout"
    # Stopped with the root box open: its closing bound is the root's bound, below 0.
    assert result.final_margin_lower == pytest.approx(result.margin_lower) and result.final_margin_lower <= 0
    calls.clear()
    clearly_safe = Clause(row, torch.tensor([-exact + 10.0]))
    plain = verify_box(model, lo, hi, [clearly_safe], "bab",
                       settings=VerifySettings(pgd_steps=5, pgd_restarts=2, input_split=False))
    assert plain.status == "verified" and not calls
