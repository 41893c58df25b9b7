"""The stages of the verification ladder, in the field's order, as a registered list:

    ibp  ->  crown  ->  alpha-crown  ->  bab

A mode names the last stage it runs (``MODES`` = the stage names, in order). Each stage
is a ``Stage`` record: ``run(state)`` returns a verdict or None (go on); ``shortcut``
(optional) runs before the ladder when the mode reaches the stage and may decide the
property another way (input-space branch and bound for few free inputs);
``timeout_first``: when the deadline passed during the stage, say 'timeout' rather than
the stage's name even if the mode stops there; ``cheap``: the stage runs before the full
PGD attack, after only the short one (property.py). ``register`` adds a stage.
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Callable, List, Optional

import torch

from ..bounds.alpha import optimize_alpha_layers
from ..bounds.crown import backward_from, concretize, identity_start
from ..bounds.graph import build_graph
from ..bounds.ibp import preactivation_bounds
from .bab import SAFE_TOLERANCE, branch_and_bound
from .ladder import Ladder, PropertyResult


@dataclass(frozen=True)
class Stage:
    name: str
    run: Callable[[Ladder], Optional[PropertyResult]]
    shortcut: Optional[Callable[[Ladder], Optional[PropertyResult]]] = None
    timeout_first: bool = False
    cheap: bool = False


STAGES: List[Stage] = []


def register(stage: Stage, after: Optional[str] = None) -> None:
    """Add ``stage`` at the end, or right after the stage named ``after``."""
    if any(s.name == stage.name for s in STAGES):
        raise ValueError(f"a verification stage named {stage.name!r} is already registered")
    at = len(STAGES) if after is None else [s.name for s in STAGES].index(after) + 1
    STAGES.insert(at, stage)


def stages_for(mode: str) -> List[Stage]:
    """The stages a mode runs: every stage up to and including the one it names."""
    names = [s.name for s in STAGES]
    if mode not in names:
        raise ValueError(f"unknown verification mode {mode!r}; choose one of {', '.join(names)}")
    return STAGES[:names.index(mode) + 1]


def _ibp(state: Ladder) -> Optional[PropertyResult]:
    with torch.no_grad():
        state.graph = build_graph(state.model, state.x_lower.shape[1:], spec=state.spec)
        state.pre, state.ibp_relax, out = preactivation_bounds(state.graph, state.x_lower, state.x_upper,
                                                               crown=False)
        state.improve(out.lower)
        if state.proven("ibp"):
            return PropertyResult("verified", "ibp", state.margin)
    return None


def _crown(state: Ladder) -> Optional[PropertyResult]:
    """The output pass over IBP's intermediate bounds first (one cheap pass, CROWN-IBP),
    then every layer refined with its own CROWN passes."""
    graph, xl, xu = state.graph, state.x_lower, state.x_upper
    with torch.no_grad():
        last = len(graph.ops) - 1
        start = identity_start(1, graph.output_shape, xl)
        cheap, _ = concretize(backward_from(graph, last, start, None, state.ibp_relax), xl, xu)
        state.improve(cheap)
        if state.proven("crown", state.pre):
            return PropertyResult("verified", "crown", state.margin)
        # When later stages run they keep time for themselves: layer-by-layer CROWN (one
        # backward pass per unstable neuron: fast on a GPU, slow on a CPU) gets a share of
        # what is left; neurons it does not reach keep their IBP bounds (sound).
        now = time.monotonic()
        share = state.settings.refine_share if state.runs_after["crown"] else 1.0
        refine_deadline = state.deadline if math.isinf(state.deadline) else now + share * (state.deadline - now)
        state.pre, state.relax, refined = preactivation_bounds(graph, xl, xu, crown=True,
                                                               memory_elements=state.settings.memory_elements,
                                                               deadline=refine_deadline)
        lower, _ = concretize(backward_from(graph, last, start, None, state.relax), xl, xu)
        state.improve(torch.maximum(lower, refined.lower))
        if state.proven("crown", state.pre):
            return PropertyResult("verified", "crown", state.margin)
    return None


def _alpha_crown(state: Ladder) -> Optional[PropertyResult]:
    """Every layer's slopes optimised (intermediate bounds too); the tightened bounds and
    slopes are what branch and bound starts from. Each step bounds every layer again, so
    when branch and bound follows this stage gets at most half the time left."""
    now, deadline = time.monotonic(), state.deadline
    alpha_deadline = deadline if not state.runs_after["alpha-crown"] or math.isinf(deadline) \
        else now + 0.5 * (deadline - now)
    lower, state.pre, state.alphas = optimize_alpha_layers(
        state.graph, state.x_lower, state.x_upper, state.pre, iterations=state.settings.alpha_iterations,
        deadline=alpha_deadline, memory_elements=state.settings.alpha_memory_elements,
        intermediate_slopes=state.layer_slopes)
    state.improve(lower)
    if state.proven("alpha-crown", state.pre, state.alphas):
        return PropertyResult("verified", "alpha-crown", state.margin)
    return None


def _input_split(state: Ladder) -> Optional[PropertyResult]:
    if not state.settings.input_split:
        return None
    from .input_split import input_split, suits_input_split  # imports this package's modules
    if suits_input_split(state.model, state.x_lower, state.x_upper):
        return input_split(state.model, state.x_lower, state.x_upper, state.clauses, state.deadline)
    return None


def _bab(state: Ladder) -> PropertyResult:
    """Branch and bound on each clause not yet proven, the hardest first (the likeliest
    counterexample); a counterexample to any clause falsifies the property."""
    margin, owner, best = state.margin, state.owner, state.best
    domains, unknown_reason, started = 0, None, time.monotonic()
    finals = best.tolist()  # per clause: BaB's closing bound, or the incomplete one
    single = [c for c in state.clauses if c.spec.shape[0] == 1]
    attack_any = (torch.cat([c.spec for c in single]), torch.cat([c.offset for c in single])) if single else None
    status = "verified"
    for ci in torch.argsort(best).tolist():
        if float(best[ci]) > SAFE_TOLERANCE:
            continue
        rows = (owner == ci).nonzero().flatten()
        clause_alpha = {p: a[:, rows] for p, a in state.alphas.items()}
        clause = state.clauses[ci]
        res = branch_and_bound(state.model, state.x_lower, state.x_upper, clause.spec, clause.offset, state.pre,
                               clause_alpha, state.deadline, state.settings.bab, attack_any, state.layer_slopes)
        domains += res.domains
        if res.final_lower is not None:
            finals[ci] = max(finals[ci], res.final_lower)
        if res.status == "falsified":
            return PropertyResult("falsified", "bab", margin, domains, res.counterexample,
                                  time.monotonic() - started, _finite(min(finals)))
        if res.status == "unknown":
            unknown_reason, status = res.reason, "unknown"
            if res.reason == "timeout":
                break
    seconds = time.monotonic() - started
    decided_by = "bab" if unknown_reason in (None, "undecided", "memory") else "timeout"
    return PropertyResult(status, decided_by, margin, domains, None, seconds, _finite(min(finals)))


def _finite(value: float) -> Optional[float]:
    return value if math.isfinite(value) else None


register(Stage("ibp", _ibp, cheap=True))
register(Stage("crown", _crown))
register(Stage("alpha-crown", _alpha_crown, timeout_first=True))
register(Stage("bab", _bab, shortcut=_input_split))
