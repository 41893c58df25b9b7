"""Verification outcomes: one ``SampleResult`` per sample, and the per-run summary."""
from __future__ import annotations

import statistics
from dataclasses import dataclass
from typing import Iterable, List, Optional

from torch import Tensor

STATUSES = ("verified", "falsified", "unknown", "misclassified")
DECIDERS = ("clean", "pgd", "ibp", "crown", "alpha-crown", "bab", "timeout")


@dataclass
class SampleResult:
    """How one sample was decided.

    status: 'verified' (proven robust), 'falsified' (counterexample found), 'unknown'
    (neither, within the mode and time limit) or 'misclassified' (clean input wrong).
    decided_by: the step that settled it; 'timeout' when the time limit ended it.
    margin_lower: min over the margins of the best proven lower bound before branch and
    bound, i.e. the root bound (None if not bounded).
    domains: branch-and-bound subdomains explored (0 without branch and bound).
    counterexample: (*input_shape) point in the box that is misclassified, or None.
    bab_seconds: the part of ``seconds`` spent in branch and bound (for domains per second).
    final_margin_lower: branch and bound over ReLUs: the smallest lower bound over its
    subdomains (open, and closed by their bound) when it stopped, min over the margins; > 0
    when verified, <= 0 when it stopped undecided. Input splitting stopped undecided (time
    or memory): the lowest bound among its open boxes (<= 0). None for every other decider.
    """

    index: int
    label: int
    predicted: int
    status: str
    decided_by: str
    seconds: float
    margin_lower: Optional[float] = None
    domains: int = 0
    counterexample: Optional[Tensor] = None
    bab_seconds: float = 0.0
    final_margin_lower: Optional[float] = None

    def to_event(self) -> dict:
        """The fields of a ``sample_verified`` event (the caller adds ``round``)."""
        return {
            "index": int(self.index),
            "label": int(self.label),
            "predicted": int(self.predicted),
            "status": self.status,
            "decidedBy": self.decided_by,
            "seconds": float(self.seconds),
            "marginLower": None if self.margin_lower is None else float(self.margin_lower),
            "domains": int(self.domains),
            "finalMarginLower": None if self.final_margin_lower is None else float(self.final_margin_lower),
        }


def summarize(results: Iterable[SampleResult]) -> dict:
    """Per-run totals: verifiedAccuracy, verified, falsified, unknown, misclassified,
    samples, meanVerifySeconds, medianVerifySeconds (None when there are no samples)."""
    results: List[SampleResult] = list(results)
    counts = {s: sum(r.status == s for r in results) for s in STATUSES}
    seconds = [r.seconds for r in results]
    n = len(results)
    return {
        "verifiedAccuracy": counts["verified"] / n if n else None,
        "verified": counts["verified"],
        "falsified": counts["falsified"],
        "unknown": counts["unknown"],
        "misclassified": counts["misclassified"],
        "samples": n,
        "meanVerifySeconds": statistics.fmean(seconds) if n else None,
        "medianVerifySeconds": statistics.median(seconds) if n else None,
    }


def decided_by_text(results: Iterable[SampleResult]) -> str:
    """'verified: ibp 135, alpha-crown 2; falsified: pgd 14; ...': which step decided each
    correctly classified sample, per outcome."""
    from collections import Counter
    counts = Counter((r.status, r.decided_by) for r in results if r.status != "misclassified")
    parts = []
    for status in ("verified", "falsified", "unknown"):
        steps = sorted(((by, n) for (s, by), n in counts.items() if s == status), key=lambda t: -t[1])
        if steps:
            parts.append(f"{status}: " + ", ".join(f"{by} {n}" for by, n in steps))
    return "; ".join(parts) or "-"
