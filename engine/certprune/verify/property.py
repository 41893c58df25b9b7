"""Complete verification of one input box against a property, in the field's order:

    attack (PGD)  ->  IBP  ->  CROWN  ->  alpha-CROWN  ->  branch and bound

The attack runs in two parts: a short one first (at most QUICK_STEPS x QUICK_RESTARTS of
the configured steps x restarts), then IBP, then the full attack before anything dearer
than IBP (or before 'unknown' when the mode stops at IBP). The order changes no verdict:
a box IBP proves has no counterexample for any attack to find, and a box it does not
prove still meets the full attack. It saves the full attack on every box IBP proves
(on an IBP-trained cnn7, most of them: docs/benchmarks.md).

A property is a list of clauses; clause c is violated at x when every row of
spec_c (m, K) @ model(x) + offset_c is <= 0 (a robustness margin is one clause of one
row: logit_y - logit_j). The property holds when no clause can be violated in the box.
The stages after the attack are a registered list (``stages.STAGES``); the mode names
the last one that runs: 'ibp', 'crown' and 'alpha-crown' stop there ('unknown' when
unproven); 'bab' goes on to branch and bound until the deadline. Every counterexample
is checked by a float64 forward pass before 'falsified' is returned.
"""
from __future__ import annotations

import math
import time
from dataclasses import replace
from typing import List, Optional

import torch
from torch import Tensor, nn

from .bab import SAFE_TOLERANCE  # noqa: F401  (re-exported)
from .ladder import (CONFIRM_BELOW, WIDEN, Clause, Ladder, PropertyResult, VerifySettings,  # noqa: F401
                     confirm_counterexample)
from .pgd import attack_box
from .stages import STAGES, stages_for

MODES = tuple(s.name for s in STAGES)
#: the attack's steps on clauses of several rows that must all be violated, x pgd_steps
AND_CLAUSE_STEPS = 2
#: the short attack before IBP: at most this many steps x restarts of the configured ones
QUICK_STEPS, QUICK_RESTARTS = 20, 5


def verify_box(model: nn.Module, x_lower: Tensor, x_upper: Tensor, clauses: List[Clause], mode: str = "bab",
               deadline: float = math.inf, start: Optional[Tensor] = None,
               settings: Optional[VerifySettings] = None) -> PropertyResult:
    """Decide the property on the box [x_lower, x_upper] (1, *input_shape).

    start: (1, *input_shape) point the attack tries first (e.g. the clean image).
    deadline: time.monotonic() value; running past it gives 'unknown' / 'timeout'.
    """
    stages = stages_for(mode)
    settings = settings or VerifySettings()
    model.eval()
    dtype, device = x_lower.dtype, x_lower.device
    clauses = [Clause(c.spec.to(device=device, dtype=dtype), c.offset.to(device=device, dtype=dtype))
               for c in clauses]
    quick = replace(settings, pgd_steps=min(settings.pgd_steps, QUICK_STEPS),
                    pgd_restarts=min(settings.pgd_restarts, QUICK_RESTARTS))
    cex = _attack(model, x_lower, x_upper, clauses, start, quick, deadline)
    if cex is not None:
        return PropertyResult("falsified", "pgd", None, 0, cex)
    attacked = quick == settings  # the short attack was the whole attack

    def full_attack() -> Optional[PropertyResult]:
        nonlocal attacked
        if attacked:
            return None
        attacked = True
        found = _attack(model, x_lower, x_upper, clauses, start, settings, deadline)
        return None if found is None else PropertyResult("falsified", "pgd", None, 0, found)

    if time.monotonic() > deadline:
        return PropertyResult("unknown", "timeout", None)
    runs_after = {s.name: s is not stages[-1] for s in stages}
    state = Ladder.start(model, x_lower, x_upper, clauses, mode, deadline, settings, runs_after)
    first_costly = next((s for s in stages if not s.cheap), None)  # the full attack and shortcuts go first
    for stage in stages:
        if stage is first_costly:
            result = full_attack() or next((r for r in (s.shortcut(state) for s in stages if s.shortcut is not None)
                                            if r is not None), None)
            if result is not None:
                return _checked(result, state)
        result = stage.run(state)
        if result is not None:
            return _checked(result, state)
        timed_out = time.monotonic() > deadline
        if timed_out and stage.timeout_first:
            return state.unknown("timeout")
        if stage is stages[-1]:
            return full_attack() or (state.unknown("timeout") if time.monotonic() > deadline
                                     else state.unknown(stage.name))
        if timed_out:
            return state.unknown("timeout")
    raise AssertionError("the last stage always returns")


def _checked(result: PropertyResult, state: Ladder) -> PropertyResult:
    """A counterexample that a float64 forward pass does not confirm is not returned."""
    if result.status != "falsified" or confirm_counterexample(state.model, result.counterexample, state.clauses):
        return result
    return PropertyResult("unknown", "bab", result.margin_lower, result.domains, None, result.bab_seconds,
                          result.final_margin_lower)


def _attack(model, x_lower, x_upper, clauses, start, settings, deadline) -> Optional[Tensor]:
    """PGD on the single-row clauses together (any violated row is a counterexample), then
    on each multi-row clause. Returns a counterexample (*input_shape) confirmed in float64, or None."""
    single = [c for c in clauses if c.spec.shape[0] == 1]
    groups = []
    if single:
        groups.append((torch.cat([c.spec for c in single]), torch.cat([c.offset for c in single]), False))
    groups += [(c.spec, c.offset, True) for c in clauses if c.spec.shape[0] > 1]
    for spec, offset, require_all in groups:
        # Every row of an AND clause must fall below 0 at one point: such clauses get
        # twice the steps (on Marabou CIFAR-10's large net, image 6413, PGD succeeds in
        # 5 of 6 seeds at 100 steps and 12 of 12 at 200; ~1 s for 200 x 30 there).
        steps = settings.pgd_steps * (AND_CLAUSE_STEPS if require_all and spec.shape[0] > 1 else 1)
        x, success = attack_box(model, x_lower, x_upper, spec.unsqueeze(0), offset.unsqueeze(0),
                                steps, settings.pgd_restarts, require_all=require_all,
                                start=start, deadline=deadline)
        if bool(success[0]) and confirm_counterexample(model, x[0], clauses):
            return x[0]
    return None
