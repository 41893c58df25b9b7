"""Close calls: eps a few percent either side of a network's exact robustness radius.

The radius is found exactly by one MILP per other class (minimise t subject to
|x - x0| <= t, x in [0, 1], margin_j(x) <= 0; big-M from sound CROWN bounds on a box
that contains the answer), so just below it branch and bound must prove robustness
and just above it must find a counterexample. These are the hardest instances for
branch and bound (the margin lower bound is near 0 in many subdomains) and the ones the
field's verifiers are compared on. bench/bab_close_calls.py times the same cases.
"""
from dataclasses import dataclass
from typing import List, Optional, Tuple

import numpy as np
import pytest
import torch
from scipy.optimize import Bounds, LinearConstraint, milp
from scipy.sparse import coo_matrix
from torch import nn

from certprune.bounds import build_graph
from certprune.bounds.ibp import preactivation_bounds
from certprune.verify import VerifySettings, verify_sample
from certprune.verify.bab import BabSettings
from test_bab_milp import affine_segments
from test_bounds_nets import random_cnn, random_mlp, single_thread  # noqa: F401 (fixture)

#: relative distance of the tested eps from the exact radius, on either side.
CLOSE = 0.03


@dataclass
class CloseCall:
    name: str
    model: nn.Sequential
    x: torch.Tensor  # (*input_shape)
    label: int
    classes: int
    radius: float


def _preactivation_boxes(model: nn.Sequential, x: torch.Tensor, eps: float) -> List[Tuple[np.ndarray, np.ndarray]]:
    """Sound float64 (l, u) of every ReLU input on the box x +- eps (CROWN, widened by
    1e-5 so float32 rounding cannot cut off a feasible point)."""
    xl, xu = (x - eps).clamp(0, 1).unsqueeze(0), (x + eps).clamp(0, 1).unsqueeze(0)
    with torch.no_grad():
        pre, _, _ = preactivation_bounds(build_graph(model, x.shape), xl, xu, crown=True)
    out = []
    for p in sorted(pre):
        l, u = pre[p]
        l, u = l.double().flatten().numpy(), u.double().flatten().numpy()
        out.append((l - 1e-5 * (1 + np.abs(l)), u + 1e-5 * (1 + np.abs(u))))
    return out


def milp_radius(model: nn.Sequential, x: torch.Tensor, label: int, classes: int, eps_max: float) -> float:
    """The exact L-inf robustness radius of ``model`` at x (inputs clipped to [0, 1]),
    or eps_max if no violation lies within eps_max. float64 MILP (HiGHS)."""
    maps = affine_segments(model, x.shape)
    boxes = _preactivation_boxes(model, x, eps_max)
    x0 = x.double().flatten().numpy()
    n = x0.size
    var_lo = list(np.clip(x0 - eps_max, 0, 1))
    var_hi = list(np.clip(x0 + eps_max, 0, 1))
    integrality = [0] * n
    rows, cols, vals, c_lo, c_hi = [], [], [], [], []

    def new_var(low, high, integer=False):
        var_lo.append(low)
        var_hi.append(high)
        integrality.append(1 if integer else 0)
        return len(var_lo) - 1

    def constraint(coeffs, low, high):
        r = len(c_lo)
        for k, v in coeffs:
            rows.append(r)
            cols.append(k)
            vals.append(v)
        c_lo.append(low)
        c_hi.append(high)

    t = new_var(0.0, eps_max)
    for i in range(n):  # |x_i - x0_i| <= t
        constraint([(i, 1.0), (t, -1.0)], -np.inf, x0[i])
        constraint([(i, 1.0), (t, 1.0)], x0[i], np.inf)
    prev = np.arange(n)
    for (W, b), (zl, zu) in zip(maps[:-1], boxes):
        outs = []
        for j in range(W.shape[0]):
            nz = np.nonzero(W[j])[0]
            terms = [(int(prev[k]), float(W[j, k])) for k in nz]
            if zu[j] <= 0:
                outs.append(new_var(0.0, 0.0))
                continue
            a = new_var(max(0.0, zl[j]), zu[j])
            if zl[j] >= 0:  # a = z
                constraint(terms + [(a, -1.0)], -b[j], -b[j])
            else:
                d = new_var(0.0, 1.0, integer=True)
                constraint(terms + [(a, -1.0)], -np.inf, -b[j])  # a >= z
                # a <= z - l (1 - d)
                constraint([(k, -v) for k, v in terms] + [(a, 1.0), (d, -zl[j])], -np.inf, b[j] - zl[j])
                constraint([(a, 1.0), (d, -zu[j])], -np.inf, 0.0)  # a <= u d
            outs.append(a)
        prev = np.array(outs)
    W, b = maps[-1]
    best = eps_max
    for j in range(classes):
        if j == label:
            continue
        w = W[label] - W[j]
        extra = ([(int(prev[k]), float(w[k])) for k in np.nonzero(w)[0]], -np.inf, -(b[label] - b[j]))
        r_, c_, v_ = list(rows), list(cols), list(vals)
        r0 = len(c_lo)
        for k, v in extra[0]:
            r_.append(r0)
            c_.append(k)
            v_.append(v)
        A = coo_matrix((v_, (r_, c_)), shape=(r0 + 1, len(var_lo))).tocsr()
        cost = np.zeros(len(var_lo))
        cost[t] = 1.0
        res = milp(cost, constraints=[LinearConstraint(A, np.array(c_lo + [extra[1]]), np.array(c_hi + [extra[2]]))],
                   integrality=np.array(integrality), bounds=Bounds(np.array(var_lo), np.array(var_hi)),
                   options={"mip_rel_gap": 1e-9, "time_limit": 600})
        if res.status == 0:
            best = min(best, float(res.fun))
        elif res.status != 2:  # 2: infeasible (no violation within eps_max for this class)
            raise RuntimeError(f"MILP for class {j} failed: {res.message}")
    return best


def _attack_radius(model, x, label, classes, start=0.002) -> float:
    """An upper bound on the radius: an eps at which PGD finds a violation (doubling, then
    bisection to within 5 %, so the MILP's big-M bounds come from a box close to the answer)."""

    def falsified(eps):
        res = verify_sample(model, x, label, eps, mode="ibp", timeout=30,
                            settings=VerifySettings(pgd_steps=50, pgd_restarts=10))
        return res.status == "falsified"

    low, high = 0.0, start
    while not falsified(high):
        low, high = high, high * 2
        if high >= 1.0:
            return 1.0
    while high - low > 0.05 * high:
        mid = (low + high) / 2
        low, high = (low, mid) if falsified(mid) else (mid, high)
    return high


def make_case(name: str, kind: str, seed: int, **shape) -> Optional[CloseCall]:
    """A random network and a correctly classified point, with its exact radius."""
    gen = torch.Generator().manual_seed(seed)
    if kind == "cnn":
        input_shape = shape.get("input_shape", (1, 7, 7))
        model = random_cnn(gen, input_shape, classes=shape.get("classes", 3))
    else:
        input_shape = shape.get("input_shape", (1, 3, 3))
        model = random_mlp(gen, input_shape, widths=shape.get("widths", (16, 16)), classes=shape.get("classes", 3))
    classes = shape.get("classes", 3)
    x = torch.rand(*input_shape, generator=gen)
    with torch.no_grad():
        label = int(model(x.unsqueeze(0)).argmax())
    torch.manual_seed(seed)
    eps_max = _attack_radius(model, x, label, classes)
    radius = milp_radius(model, x, label, classes, eps_max)
    if not 0 < radius < eps_max:
        return None
    return CloseCall(name, model, x, label, classes, radius)


#: (name, kind, seed, shape): small enough that every verdict takes seconds on one core.
CASES = [
    ("mlp-a", "mlp", 11, {"widths": (16, 16)}),
    ("mlp-b", "mlp", 12, {"widths": (20, 20), "input_shape": (1, 4, 4)}),
    ("mlp-c", "mlp", 13, {"widths": (12, 12, 12)}),
    ("cnn-a", "cnn", 24, {"input_shape": (1, 6, 6)}),
    ("cnn-b", "cnn", 30, {"input_shape": (1, 6, 6)}),
]


def close_settings() -> VerifySettings:
    """A short attack (the cases are decided by the bounds) and ReLU branch and bound
    (not input splitting, which small inputs would otherwise get: it is tested elsewhere)."""
    settings = VerifySettings(pgd_steps=20, pgd_restarts=5, alpha_iterations=20)
    if hasattr(settings, "input_split"):
        settings.input_split = False
    return settings


_built = {}


def built_case(index: int) -> Optional[CloseCall]:
    if index not in _built:
        name, kind, seed, shape = CASES[index]
        _built[index] = make_case(name, kind, seed, **shape)
    return _built[index]


@pytest.mark.slow
@pytest.mark.parametrize("index", range(len(CASES)), ids=[c[0] for c in CASES])
def test_close_calls_match_the_exact_radius(index):
    case = built_case(index)
    assert case is not None, f"{CASES[index][0]}: no radius below the attack's bracket"
    below = verify_sample(case.model, case.x, case.label, case.radius * (1 - CLOSE), mode="bab", timeout=60,
                          settings=close_settings())
    assert below.status == "verified", (f"{case.name}: eps {case.radius * (1 - CLOSE):.5f} < radius "
                                        f"{case.radius:.5f} but {below.status} ({below.decided_by})")
    # Above the radius with no attack first: branch and bound itself must find the violation.
    eps = case.radius * (1 + CLOSE)
    settings = close_settings()
    settings.pgd_steps, settings.pgd_restarts = 0, 1
    above = verify_sample(case.model, case.x, case.label, eps, mode="bab", timeout=60, settings=settings)
    assert (above.status, above.decided_by) == ("falsified", "bab"), \
        f"{case.name}: eps {eps:.5f} > radius but {above.status} ({above.decided_by})"
    cex = above.counterexample
    assert bool((cex >= (case.x - eps).clamp(0, 1) - 1e-7).all() and (cex <= (case.x + eps).clamp(0, 1) + 1e-7).all())
    with torch.no_grad():
        logits = case.model(cex.unsqueeze(0))[0]
    assert float(logits[case.label] - torch.cat([logits[:case.label], logits[case.label + 1:]]).max()) <= 0


def test_milp_radius_is_the_boundary_on_a_tiny_net():
    """The MILP radius separates a box with a sampled violation from one without."""
    gen = torch.Generator().manual_seed(5)
    model = random_mlp(gen, input_shape=(1, 1, 2), widths=(6,), classes=2)
    x = torch.rand(1, 1, 2, generator=gen)
    with torch.no_grad():
        label = int(model(x.unsqueeze(0)).argmax())
    radius = milp_radius(model, x, label, 2, 1.0)
    grid = torch.stack(torch.meshgrid(torch.linspace(-1, 1, 401), torch.linspace(-1, 1, 401), indexing="ij"), -1)

    def sampled_min(eps):
        pts = (x.reshape(1, 2) + eps * grid.reshape(-1, 2)).clamp(0, 1).reshape(-1, 1, 1, 2)
        with torch.no_grad():
            out = model(pts)
        return float((out[:, label] - out[:, 1 - label]).min())

    assert 0 < radius < 1.0
    assert sampled_min(radius * 0.99) > 0
    assert sampled_min(radius * 1.02) <= 0
