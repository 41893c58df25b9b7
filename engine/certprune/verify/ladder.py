"""The records of the verification ladder and the state its stages share.

    state = Ladder.start(model, x_lower, x_upper, clauses, mode, deadline, settings)
    state.best          # (C,) best lower bound per clause so far
    state.proven("crown", pre, alphas)   # every clause > SAFE_TOLERANCE (float64 if thin)

A property is a list of clauses; clause c is violated at x when every row of
spec_c (m, K) @ model(x) + offset_c is <= 0 (a robustness margin is one clause of one
row: logit_y - logit_j). It holds when no clause can be violated in the box. Every
verdict a stage returns is re-derived in float64 where it is close: thin proofs by
``confirm_proof``, counterexamples by ``confirm_counterexample`` (a plain float64
forward pass of the model).
"""
from __future__ import annotations

import copy
import math
from dataclasses import dataclass, field
from typing import Dict, List, Optional

import torch
from torch import Tensor, nn

from ..bounds.alpha import INTERMEDIATE_ELEMENTS
from ..bounds.crown import backward_from, concretize, identity_start
from ..bounds.graph import build_graph
from ..bounds.ibp import preactivation_bounds
from ..bounds.operators import BoundReLU
from .bab import SAFE_TOLERANCE, BabSettings

#: incomplete-bound verdicts with a margin below this are re-derived in float64 before
#: they are trusted (float32 rounding is far smaller than this).
CONFIRM_BELOW = 1e-2
#: relative widening of float32 pre-activation bounds before they are reused in float64:
#: far above float32 rounding, far below anything that changes a verdict.
WIDEN = 1e-5


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
    alpha_memory_elements: int = INTERMEDIATE_ELEMENTS  # alpha-CROWN's intermediate slopes (bounds/alpha.py)
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
    #: branch and bound over ReLUs: min over clauses of the smallest bound over the search's
    #: leaves when it stopped (> 0 when verified); None when it did not run
    final_margin_lower: Optional[float] = None


@dataclass
class Ladder:
    """What the stages of one ``verify_box`` call share. Stages fill in graph, pre
    (ReLU position -> (l, u) (1, *shape)), relax and alphas as they go."""

    model: nn.Module
    x_lower: Tensor  # (1, *input_shape)
    x_upper: Tensor
    clauses: List[Clause]
    mode: str
    deadline: float
    settings: VerifySettings
    spec: Tensor  # (1, S, K): every row of every clause
    offset: Tensor  # (1, S)
    owner: Tensor  # (S,) clause of each row
    best: Tensor  # (C,) best lower bound per clause so far
    runs_after: Dict[str, bool]  # stage name -> does the mode go on past it
    graph: object = None
    ibp_relax: Optional[dict] = None
    pre: Optional[Dict[int, tuple]] = None
    relax: Optional[dict] = None
    alphas: Optional[Dict[int, Tensor]] = None
    layer_slopes: Dict[int, tuple] = field(default_factory=dict)

    @staticmethod
    def start(model, x_lower, x_upper, clauses, mode, deadline, settings, runs_after) -> "Ladder":
        device, dtype = x_lower.device, x_lower.dtype
        spec = torch.cat([c.spec for c in clauses]).unsqueeze(0)
        offset = torch.cat([c.offset for c in clauses]).unsqueeze(0)
        owner = torch.cat([torch.full((c.spec.shape[0],), i, device=device) for i, c in enumerate(clauses)])
        best = torch.full((len(clauses),), -math.inf, device=device, dtype=dtype)
        return Ladder(model, x_lower, x_upper, clauses, mode, deadline, settings, spec, offset, owner, best,
                      runs_after)

    @property
    def margin(self) -> float:
        return float(self.best.min())

    def improve(self, lower_rows: Tensor) -> None:
        """Fold row lower bounds (1, S) into best: a clause is safe when any row is > 0."""
        values = (lower_rows + self.offset)[0]
        self.best = torch.maximum(self.best, per_clause_max(values, self.owner, len(self.clauses)))

    def proven(self, method: str, pre=None, alphas=None) -> bool:
        """Every clause's bound > SAFE_TOLERANCE, and, when the margin is thin, again in float64."""
        if not bool((self.best > SAFE_TOLERANCE).all()):
            return False
        if self.margin >= CONFIRM_BELOW:
            return True
        return confirm_proof(self.model, self.x_lower, self.x_upper, self.spec, self.offset, self.owner, method,
                             pre, alphas)

    def unknown(self, decided_by: str) -> PropertyResult:
        return PropertyResult("unknown", decided_by, self.margin)


def confirm_proof(model, x_lower, x_upper, spec, offset, owner, method, pre, alphas) -> bool:
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
    return bool((per_clause_max(values, owner, int(owner.max()) + 1) > 0).all())


def confirm_counterexample(model: nn.Module, x: Tensor, clauses: List[Clause]) -> bool:
    """A plain float64 forward pass at x (*input_shape): does it violate some clause
    (every row of spec @ model(x) + offset <= 0)?"""
    model64 = copy.deepcopy(model).double().eval()
    with torch.no_grad():
        out = model64(x.detach().double().unsqueeze(0))[0]  # (K,)
        return any(bool(((c.spec.double() @ out + c.offset.double()) <= 0).all()) for c in clauses)


def per_clause_max(values: Tensor, owner: Tensor, clauses: int) -> Tensor:
    """values (S,) of rows owned by clauses owner (S,) -> (clauses,) max over each clause's rows."""
    mine = owner.unsqueeze(0) == torch.arange(clauses, device=owner.device).unsqueeze(1)  # (C, S)
    return torch.where(mine, values.unsqueeze(0), torch.full_like(values, -math.inf).unsqueeze(0)).max(dim=1).values
