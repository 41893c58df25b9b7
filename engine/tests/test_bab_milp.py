"""Branch and bound agrees with an exact MILP (big-M, float64) on small random ReLU networks."""
import numpy as np
import pytest
import torch
from scipy.optimize import Bounds, LinearConstraint, milp
from torch import nn

from certprune.verify import Clause, VerifySettings, verify_box, verify_sample
from certprune.verify.bab import BabSettings
from test_bounds_nets import random_mlp, single_thread  # noqa: F401 (fixture)


def affine_segments(model: nn.Sequential, input_shape):
    """Split the network at its ReLUs into affine maps (W, b) in float64 (dense Jacobians)."""
    model = model.double()
    segments, current = [], []
    for m in model:
        if isinstance(m, nn.ReLU):
            segments.append(nn.Sequential(*current))
            current = []
        else:
            current.append(m)
    segments.append(nn.Sequential(*current))
    maps, shape = [], tuple(input_shape)
    for seg in segments:
        zero = torch.zeros(1, *shape, dtype=torch.float64)
        out = seg(zero)
        J = torch.autograd.functional.jacobian(lambda v: seg(v.reshape(1, *shape)).flatten(), zero.flatten())
        maps.append((J.detach().numpy(), out.detach().flatten().numpy()))
        shape = tuple(out.shape[1:])
    model.float()
    return maps


def milp_min_margin(maps, lo, hi, row, offset=None):
    """min over x in [lo, hi] of max_s (rows_s . f(x) + offset_s) for the piecewise-linear f
    given by ``maps``; row (K,) or rows (m, K)."""
    rows = np.atleast_2d(row)
    offset = np.zeros(rows.shape[0]) if offset is None else np.asarray(offset, dtype=np.float64)
    n = lo.size
    # Interval bounds of each pre-activation (independent of the verifier's code).
    l_box, u_box = lo, hi
    var_lo, var_hi, integrality = list(lo), list(hi), [0] * n
    A_rows, a_lo, a_hi = [], [], []
    prev = list(range(n))  # indices of the variables feeding the next affine map
    count = n

    def new_var(low, high, integer=False):
        nonlocal count
        var_lo.append(low)
        var_hi.append(high)
        integrality.append(1 if integer else 0)
        count += 1
        return count - 1

    cons = []
    for W, b in maps[:-1]:
        center, radius = (l_box + u_box) / 2, (u_box - l_box) / 2
        zl = W @ center + b - np.abs(W) @ radius
        zu = W @ center + b + np.abs(W) @ radius
        outs = []
        for j in range(W.shape[0]):
            a = new_var(max(0.0, zl[j]), max(0.0, zu[j]))
            coeffs = {prev[k]: W[j, k] for k in range(len(prev))}
            if zl[j] >= 0:  # a = z
                cons.append(({**coeffs, a: -1.0}, -b[j], -b[j]))
            elif zu[j] <= 0:  # a = 0 (variable bounds already force it)
                pass
            else:
                d = new_var(0.0, 1.0, integer=True)
                cons.append(({**coeffs, a: -1.0}, -np.inf, -b[j]))  # a >= z
                # a <= z - l (1 - d)  ->  z - a - l d >= l ... written as  -z + a - l*d <= -l
                cons.append(({**{k: -v for k, v in coeffs.items()}, a: 1.0, d: -zl[j]}, -np.inf, b[j] - zl[j]))
                cons.append(({a: 1.0, d: -zu[j]}, -np.inf, 0.0))  # a <= u d
            outs.append(a)
        prev = outs
        l_box, u_box = np.maximum(zl, 0), np.maximum(zu, 0)
    W, b = maps[-1]
    t = new_var(-np.inf, np.inf)  # epigraph variable: rows_s . f(x) + offset_s <= t
    for r, off in zip(rows, offset):
        w = r @ W
        cons.append(({**{idx: w[k] for k, idx in enumerate(prev)}, t: -1.0}, -np.inf, -(r @ b) - off))
    c = np.zeros(count)
    c[t] = 1.0
    A = np.zeros((len(cons), count))
    lb, ub = np.zeros(len(cons)), np.zeros(len(cons))
    for i, (coeffs, low, high) in enumerate(cons):
        for k, v in coeffs.items():
            A[i, k] += v
        lb[i], ub[i] = low, high
    res = milp(c, constraints=[LinearConstraint(A, lb, ub)] if len(cons) else [],
               integrality=np.array(integrality), bounds=Bounds(np.array(var_lo), np.array(var_hi)),
               options={"mip_rel_gap": 1e-9})
    assert res.status == 0, res.message
    return float(res.fun)


def exact_min_margin(model, x, label, eps, classes):
    maps = affine_segments(model, x.shape)
    lo = np.clip(x.double().flatten().numpy() - eps, 0, 1)
    hi = np.clip(x.double().flatten().numpy() + eps, 0, 1)
    margins = []
    for j in range(classes):
        if j != label:
            row = np.zeros(classes)
            row[label], row[j] = 1.0, -1.0
            margins.append(milp_min_margin(maps, lo, hi, row))
    return min(margins)


def test_milp_reference_matches_sampling_on_a_tiny_net():
    """The MILP minimum is attained (close to) by dense sampling and never above it."""
    gen = torch.Generator().manual_seed(0)
    model = random_mlp(gen, input_shape=(1, 1, 2), widths=(6,), classes=2)
    x = torch.rand(1, 1, 2, generator=gen)
    label = int(model(x.unsqueeze(0)).argmax())
    exact = exact_min_margin(model, x, label, 0.2, 2)
    grid = torch.stack(torch.meshgrid(torch.linspace(0, 1, 301), torch.linspace(0, 1, 301), indexing="ij"), -1)
    pts = (x.reshape(1, 1, 2) - 0.2).clamp(0, 1) + grid.reshape(-1, 1, 1, 2) * (
        (x + 0.2).clamp(0, 1) - (x - 0.2).clamp(0, 1)).reshape(1, 1, 1, 2)
    with torch.no_grad():
        out = model(pts)
    sampled = float((out[:, label] - out[:, 1 - label]).min())
    assert exact <= sampled + 1e-5 and sampled - exact < 0.05


@pytest.mark.slow
def test_bab_verdicts_match_milp():
    gen = torch.Generator().manual_seed(1234)
    settings = VerifySettings(pgd_steps=0, pgd_restarts=1, alpha_iterations=10,
                              bab=BabSettings(batch=32, iterations=10))
    outcomes = {"verified": 0, "falsified": 0}
    checked = 0
    for trial in range(60):
        model = random_mlp(gen, input_shape=(1, 2, 3), widths=(10, 10), classes=3)
        x = torch.rand(1, 2, 3, generator=gen)
        with torch.no_grad():
            label = int(model(x.unsqueeze(0)).argmax())
        eps = float(torch.empty(1).uniform_(0.02, 0.25, generator=gen))
        exact = exact_min_margin(model, x, label, eps, 3)
        if abs(exact) < 1e-5:  # a tie: either answer is defensible, skip
            continue
        # No attack (pgd_steps=0): falsification must come from branch and bound itself.
        result = verify_sample(model, x, label, eps, mode="bab", timeout=30, settings=settings)
        assert result.status in ("verified", "falsified"), f"trial {trial}: {result.status} ({result.decided_by})"
        if exact > 0:
            assert result.status == "verified", f"trial {trial}: MILP proves robustness (margin {exact})"
        else:
            assert result.status == "falsified", f"trial {trial}: MILP finds a violation (margin {exact})"
            cex = result.counterexample
            assert cex is not None
            assert bool((cex >= (x - eps).clamp(0, 1) - 1e-7).all() and (cex <= (x + eps).clamp(0, 1) + 1e-7).all())
            with torch.no_grad():
                logits = model(cex.unsqueeze(0))[0]
            assert float(logits[label] - torch.cat([logits[:label], logits[label + 1:]]).max()) <= 0
        outcomes[result.status] += 1
        checked += 1
    assert checked >= 50
    assert outcomes["verified"] >= 10 and outcomes["falsified"] >= 10, outcomes


def test_bab_on_conjunctive_clauses_matches_milp():
    """Clauses of two rows (reached only where both are <= 0), as VNNLIB (and ...) gives."""
    gen = torch.Generator().manual_seed(77)
    settings = VerifySettings(pgd_steps=0, pgd_restarts=1, alpha_iterations=10,
                              bab=BabSettings(batch=32, iterations=10))
    seen = set()
    for trial in range(12):
        model = random_mlp(gen, input_shape=(1, 1, 5), widths=(10, 8), classes=4)
        x = torch.rand(1, 1, 5, generator=gen)
        eps = float(torch.empty(1).uniform_(0.05, 0.3, generator=gen))
        rows = torch.randn(2, 4, generator=gen)
        offset = torch.randn(2, generator=gen) * 0.3
        maps = affine_segments(model, x.shape)
        lo = np.clip(x.double().flatten().numpy() - eps, 0, 1)
        hi = np.clip(x.double().flatten().numpy() + eps, 0, 1)
        exact = milp_min_margin(maps, lo, hi, rows.double().numpy(), offset.double().numpy())
        if abs(exact) < 1e-5:
            continue
        xl, xu = (x - eps).clamp(0, 1).unsqueeze(0), (x + eps).clamp(0, 1).unsqueeze(0)
        result = verify_box(model, xl, xu, [Clause(rows, offset)], "bab", start=(xl + xu) / 2, settings=settings)
        expected = "verified" if exact > 0 else "falsified"
        assert result.status == expected, f"trial {trial}: MILP min-max {exact}, got {result.status}"
        if expected == "falsified":
            with torch.no_grad():
                values = rows @ model(result.counterexample.unsqueeze(0))[0] + offset
            assert bool((values <= 0).all()) and bool((result.counterexample >= xl[0]).all())
        seen.add(expected)
    assert seen == {"verified", "falsified"}
