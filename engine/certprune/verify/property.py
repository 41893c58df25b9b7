"""Complete verification of one input box against a property, in the field's order:

    attack (PGD)  ->  IBP  ->  CROWN  ->  alpha-CROWN  ->  branch and bound

A property is a list of clauses; clause c is violated at x when every row of
spec_c (m, K) @ model(x) + offset_c is <= 0 (a robustness margin is one clause of one
row: logit_y - logit_j). The property holds when no clause can be violated in the box.
The mode caps the ladder: 'ibp', 'crown' and 'alpha-crown' stop there ('unknown' when
unproven); 'bab' goes on to branch and bound until the deadline.
"""
from __future__ import annotations

import copy
import math
import time
from dataclasses import dataclass, field
from typing import Dict, List, Optional

import torch
from torch import Tensor, nn

from ..bounds.alpha import optimize_alpha_layers
from ..bounds.crown import backward_from, concretize, identity_start
from ..bounds.graph import build_graph
from ..bounds.ibp import preactivation_bounds
from ..bounds.operators import BoundReLU
from .bab import SAFE_TOLERANCE, BabSettings, branch_and_bound
from .pgd import attack_box

MODES = ("ibp", "crown", "alpha-crown", "bab")
#: incomplete-bound verdicts with a margin below this are re-derived in float64 before
#: they are trusted (float32 rounding is far smaller than this).
CONFIRM_BELOW = 1e-2


@dataclass
class Clause:
    spec: Tensor  # (m, K)
    offset: Tensor  # (m,)


@dataclass
class VerifySettings:
    pgd_steps: int = 100
    pgd_restarts: int = 30
    alpha_iterations: int = 20
    memory_elements: int = 2 ** 25  # budget for intermediate CROWN coefficient tensors
    refine_share: float = 0.5  # modes alpha-crown, bab: share of the remaining time layer-wise CROWN may use
    bab: BabSettings = field(default_factory=BabSettings)
    input_split: bool = True  # mode bab: split the input box instead when it has few free inputs (input_split.py)


@dataclass
class PropertyResult:
    status: str  # 'verified' | 'falsified' | 'unknown'
    decided_by: str  # 'pgd' | 'ibp' | 'crown' | 'alpha-crown' | 'bab' | 'timeout'
    margin_lower: Optional[float]  # min over clauses of the best incomplete lower bound
    domains: int = 0
    counterexample: Optional[Tensor] = None  # (*input_shape), inside the box
    bab_seconds: float = 0.0  # time spent in branch and bound


def verify_box(model: nn.Module, x_lower: Tensor, x_upper: Tensor, clauses: List[Clause], mode: str = "bab",
               deadline: float = math.inf, start: Optional[Tensor] = None,
               settings: Optional[VerifySettings] = None) -> PropertyResult:
    """Decide the property on the box [x_lower, x_upper] (1, *input_shape).

    start: (1, *input_shape) point the attack tries first (e.g. the clean image).
    deadline: time.monotonic() value; running past it gives 'unknown' / 'timeout'.
    """
    if mode not in MODES:
        raise ValueError(f"unknown verification mode {mode!r}; choose one of {', '.join(MODES)}")
    settings = settings or VerifySettings()
    model.eval()
    dtype, device = x_lower.dtype, x_lower.device
    clauses = [Clause(c.spec.to(device=device, dtype=dtype), c.offset.to(device=device, dtype=dtype))
               for c in clauses]
    cex = _attack(model, x_lower, x_upper, clauses, start, settings, deadline)
    if cex is not None:
        return PropertyResult("falsified", "pgd", None, 0, cex)
    if time.monotonic() > deadline:
        return PropertyResult("unknown", "timeout", None)
    if mode == "bab" and settings.input_split:
        from .input_split import input_split, suits_input_split  # imports this module
        if suits_input_split(model, x_lower, x_upper):
            return input_split(model, x_lower, x_upper, clauses, deadline)

    spec = torch.cat([c.spec for c in clauses]).unsqueeze(0)  # (1, S, K): every row of every clause
    offset = torch.cat([c.offset for c in clauses]).unsqueeze(0)  # (1, S)
    owner = torch.cat([torch.full((c.spec.shape[0],), i, device=device) for i, c in enumerate(clauses)])
    best = torch.full((len(clauses),), -math.inf, device=device, dtype=dtype)

    def clause_bounds(lower_rows: Tensor) -> Tensor:  # (1, S) -> (num_clauses,): max over a clause's rows
        values = (lower_rows + offset)[0]
        return _per_clause_max(values, owner, len(clauses))

    with torch.no_grad():
        graph = build_graph(model, x_lower.shape[1:], spec=spec)
        ibp_pre, ibp_relax, ibp_out = preactivation_bounds(graph, x_lower, x_upper, crown=False)
        best = torch.maximum(best, clause_bounds(ibp_out.lower))
        if _proven(best, model, x_lower, x_upper, spec, offset, owner, "ibp", None, None):
            return PropertyResult("verified", "ibp", float(best.min()))
        if mode == "ibp":
            return PropertyResult("unknown", "ibp", float(best.min()))
        if time.monotonic() > deadline:
            return PropertyResult("unknown", "timeout", float(best.min()))
        # The CROWN stage first tries the output pass over IBP's intermediate bounds (one
        # cheap pass, CROWN-IBP), then refines every layer with its own CROWN passes.
        last = len(graph.ops) - 1
        start_A = identity_start(1, graph.output_shape, x_lower)
        cheap, _ = concretize(backward_from(graph, last, start_A, None, ibp_relax), x_lower, x_upper)
        best = torch.maximum(best, clause_bounds(cheap))
        if _proven(best, model, x_lower, x_upper, spec, offset, owner, "crown", ibp_pre, None):
            return PropertyResult("verified", "crown", float(best.min()))
        # Modes that go on keep time for alpha-CROWN (and branch and bound): layer-by-layer
        # CROWN (one backward pass per unstable neuron: fast on a GPU, slow on a CPU) gets a
        # share of what is left; neurons it does not reach keep their IBP bounds (sound).
        now = time.monotonic()
        share = settings.refine_share if mode in ("alpha-crown", "bab") else 1.0
        refine_deadline = deadline if math.isinf(deadline) else now + share * (deadline - now)
        pre, relax, refined_out = preactivation_bounds(graph, x_lower, x_upper, crown=True,
                                                       memory_elements=settings.memory_elements,
                                                       deadline=refine_deadline)
        crown_lower, _ = concretize(backward_from(graph, last, start_A, None, relax), x_lower, x_upper)
        best = torch.maximum(best, clause_bounds(torch.maximum(crown_lower, refined_out.lower)))
        if _proven(best, model, x_lower, x_upper, spec, offset, owner, "crown", pre, None):
            return PropertyResult("verified", "crown", float(best.min()))
        if mode == "crown":
            return PropertyResult("unknown", "crown", float(best.min()))
        if time.monotonic() > deadline:
            return PropertyResult("unknown", "timeout", float(best.min()))
    # Every layer's slopes are optimised (intermediate bounds too); the tightened
    # intermediate bounds and slopes are what branch and bound starts from. Each step
    # bounds every layer again, so in mode 'bab' it gets at most half the time left.
    layer_slopes: Dict[int, tuple] = {}
    now = time.monotonic()
    alpha_deadline = deadline if mode == "alpha-crown" or math.isinf(deadline) else now + 0.5 * (deadline - now)
    alpha_lower, pre, alphas = optimize_alpha_layers(graph, x_lower, x_upper, pre,
                                                     iterations=settings.alpha_iterations, deadline=alpha_deadline,
                                                     memory_elements=settings.memory_elements // 2,
                                                     intermediate_slopes=layer_slopes)
    best = torch.maximum(best, clause_bounds(alpha_lower))
    if _proven(best, model, x_lower, x_upper, spec, offset, owner, "alpha-crown", pre, alphas):
        return PropertyResult("verified", "alpha-crown", float(best.min()))
    margin = float(best.min())
    if time.monotonic() > deadline:
        return PropertyResult("unknown", "timeout", margin)
    if mode == "alpha-crown":
        return PropertyResult("unknown", "alpha-crown", margin)

    domains, unknown_reason, bab_started = 0, None, time.monotonic()
    single = [c for c in clauses if c.spec.shape[0] == 1]
    attack_any = (torch.cat([c.spec for c in single]), torch.cat([c.offset for c in single])) if single else None
    order = torch.argsort(best).tolist()  # hardest clause first: likeliest counterexample
    for ci in order:
        if float(best[ci]) > SAFE_TOLERANCE:
            continue
        rows = (owner == ci).nonzero().flatten()
        clause_alpha = {p: a[:, rows] for p, a in alphas.items()}
        res = branch_and_bound(model, x_lower, x_upper, clauses[ci].spec, clauses[ci].offset, pre,
                               clause_alpha, deadline, settings.bab, attack_any, layer_slopes)
        domains += res.domains
        if res.status == "falsified":
            return PropertyResult("falsified", "bab", margin, domains, res.counterexample,
                                  time.monotonic() - bab_started)
        if res.status == "unknown":
            unknown_reason = res.reason
            if res.reason == "timeout":
                break
    seconds = time.monotonic() - bab_started
    if unknown_reason is not None:
        return PropertyResult("unknown", "timeout" if unknown_reason == "timeout" else "bab", margin, domains,
                              None, seconds)
    return PropertyResult("verified", "bab", margin, domains, None, seconds)


def _attack(model, x_lower, x_upper, clauses, start, settings, deadline) -> Optional[Tensor]:
    """PGD on the single-row clauses together (any violated row is a counterexample), then
    on each multi-row clause. Returns a checked counterexample (*input_shape) or None."""
    single = [c for c in clauses if c.spec.shape[0] == 1]
    groups = []
    if single:
        groups.append((torch.cat([c.spec for c in single]), torch.cat([c.offset for c in single]), False))
    groups += [(c.spec, c.offset, True) for c in clauses if c.spec.shape[0] > 1]
    for spec, offset, require_all in groups:
        x, success = attack_box(model, x_lower, x_upper, spec.unsqueeze(0), offset.unsqueeze(0),
                                settings.pgd_steps, settings.pgd_restarts, require_all=require_all,
                                start=start, deadline=deadline)
        if bool(success[0]):
            return x[0]
    return None


def _proven(best, model, x_lower, x_upper, spec, offset, owner, method, pre, alphas) -> bool:
    """Every clause's bound > SAFE_TOLERANCE, and, when the margin is thin, again in float64."""
    if not bool((best > SAFE_TOLERANCE).all()):
        return False
    if float(best.min()) >= CONFIRM_BELOW:
        return True
    return _confirm_float64(model, x_lower, x_upper, spec, offset, owner, method, pre, alphas)


#: relative widening of float32 pre-activation bounds before they are reused in float64:
#: far above float32 rounding, far below anything that changes a verdict.
WIDEN = 1e-5


def _confirm_float64(model, x_lower, x_upper, spec, offset, owner, method, pre, alphas) -> bool:
    """Re-derive the certificate in float64: IBP from scratch; CROWN / alpha-CROWN as one
    final backward pass over the float32 pre-activation bounds widened by WIDEN (so any
    float32 rounding in them is covered) with the same slopes."""
    model64 = copy.deepcopy(model).double().eval()
    xl, xu, spec64, offset64 = x_lower.double(), x_upper.double(), spec.double(), offset.double()
    with torch.no_grad():
        graph = build_graph(model64, xl.shape[1:], spec=spec64)
        _, _, out = preactivation_bounds(graph, xl, xu, crown=False)
        lower = out.lower
        if method in ("crown", "alpha-crown"):
            relax = {}
            for p, (l, u) in pre.items():
                l, u = l.double(), u.double()
                l, u = l - WIDEN * (1 + l.abs()), u + WIDEN * (1 + u.abs())
                alpha = alphas[p].double() if alphas is not None else None
                relax[p] = BoundReLU.relaxation(l, u, alpha, None)
            start = identity_start(1, graph.output_shape, xl)
            crown, _ = concretize(backward_from(graph, len(graph.ops) - 1, start, None, relax), xl, xu)
            lower = torch.maximum(lower, crown)
    values = (lower + offset64)[0]
    return bool((_per_clause_max(values, owner, int(owner.max()) + 1) > 0).all())


def _per_clause_max(values: Tensor, owner: Tensor, clauses: int) -> Tensor:
    """values (S,) of rows owned by clauses owner (S,) -> (clauses,) max over each clause's rows."""
    mine = owner.unsqueeze(0) == torch.arange(clauses, device=owner.device).unsqueeze(1)  # (C, S)
    return torch.where(mine, values.unsqueeze(0), torch.full_like(values, -math.inf).unsqueeze(0)).max(dim=1).values
