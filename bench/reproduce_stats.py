"""The reproduction's statistics: intervals, paired tests, and the compact per-sample record.

    verdicts = load_verdicts(runs_dir, curves)          # {method: {round: "vvfum..."}}
    lines = paired_lines(rows, curves, verdicts)         # Markdown bullets: best rounds vs dense, method pairs
    histories = load_histories(runs_dir, curves)         # {method: {round: [[train, test] accuracy per epoch]}}
    record = compact(schedule_name, seed, curves, verdicts, meta, histories)   # docs/reproduction/<schedule>-seed<k>.json

Every round verifies the same first N test images, so two rounds (of one run, or of two
runs with the same samples) are compared image by image: the exact two-sided McNemar test
on the images verified by one and not the other (certprune.stats, the engine's own test).
Intervals are 95% Wilson intervals of verified / samples.
"""
from __future__ import annotations

import json
import os

from certprune.stats import discordant, indistinguishable_rounds, mcnemar_exact, wilson_interval

CODES = {"verified": "v", "falsified": "f", "unknown": "u", "misclassified": "m"}
# Method pairs a reviewer asks about: does the criterion matter beyond sparsity?
PAIRS = (("IMP", "Random"), ("IMP", "HYDRA"), ("IMP+NRS", "IMP"), ("Slim", "IMP"))
# The fields of a round kept in the compact record (everything the tables and chart use).
ROUND_FIELDS = ("round", "remainingRatio", "remainingChannelRatio", "sparsity", "standardAccuracy",
                "adversarialAccuracy", "verifiedAccuracy", "verified", "falsified", "unknown", "misclassified",
                "samples", "meanVerifySeconds", "unstableRatio", "testAccuracy", "evaluationImages", "seconds")


def _round_files(runs_dir: str, curves: dict, name: str):
    """(method, round, parsed JSON) of each round's file ``name`` that exists."""
    for label, curve in curves.items():
        for row in curve:
            path = os.path.join(runs_dir, label, f"round_{row['round']}", name)
            if os.path.exists(path):
                with open(path) as f:
                    yield label, row["round"], json.load(f)


def load_verdicts(runs_dir: str, curves: dict) -> dict:
    """{method: {round: status codes by sample index}} from each round's verification.json."""
    found = {}
    for label, k, stored in _round_files(runs_dir, curves, "verification.json"):
        results = sorted(stored.get("results", []), key=lambda r: int(r["index"]))
        found.setdefault(label, {})[k] = "".join(CODES[r["status"]] for r in results)
    return found


def verified_map(codes: str) -> dict:
    return {i: c == "v" for i, c in enumerate(codes)}


def interval_text(row: dict) -> str:
    if not row.get("samples"):
        return "-"
    low, high = wilson_interval(row["verified"], row["samples"])
    return f"[{100 * low:.1f}, {100 * high:.1f}]"


def compare(a_codes: str, b_codes: str) -> dict:
    """A against B on the same images: difference in verified accuracy, its discordant pairs and p."""
    a, b = verified_map(a_codes), verified_map(b_codes)
    only_a, only_b = discordant(a, b)
    n = len(a.keys() & b.keys())
    return {"difference": (only_a - only_b) / n if n else None, "onlyA": only_a, "onlyB": only_b, "samples": n,
            "p": mcnemar_exact(only_a, only_b)}


def _verdict(p: float) -> str:
    return "significant at 0.05" if p < 0.05 else "**not significant**"


def paired_lines(rows: list, curves: dict, verdicts: dict) -> list:
    """Markdown bullets: each method's best round against dense, then the PAIRS, best round against best round."""
    dense_label = "IMP" if "IMP" in verdicts else next(iter(verdicts), None)
    dense = verdicts.get(dense_label, {}).get(0)
    best = {row["method"]: row["round"] for row in rows if row["method"] != "dense"}
    lines = []

    def line(name_a, round_a, name_b, round_b, codes_a, codes_b):
        c = compare(codes_a, codes_b)
        if c["difference"] is None:
            return
        lines.append(f"- {name_a} (round {round_a}) vs {name_b} (round {round_b}): {100 * c['difference']:+.1f} "
                     f"points on {c['samples']} images ({c['onlyA']} verified only by {name_a}, {c['onlyB']} only by "
                     f"{name_b}); exact McNemar p = {c['p']:.3g}, {_verdict(c['p'])}")

    for label, k in best.items():
        codes = verdicts.get(label, {}).get(k)
        if codes is not None and dense is not None:
            line(label, k, "dense", 0, codes, dense)
    for a, b in PAIRS:
        if a in best and b in best and best[a] in verdicts.get(a, {}) and best[b] in verdicts.get(b, {}):
            line(a, best[a], b, best[b], verdicts[a][best[a]], verdicts[b][best[b]])
    for label, curve in curves.items():
        rounds = {k: verified_map(c) for k, c in verdicts.get(label, {}).items()}
        if label in best and best[label] in rounds:
            same = indistinguishable_rounds(rounds, best[label])
            if same:
                lines.append(f"- {label}: best round {best[label]} is not distinguishable from round"
                             f"{'s' if len(same) > 1 else ''} {', '.join(map(str, same))} (p >= 0.05)")
    return lines


def load_histories(runs_dir: str, curves: dict) -> dict:
    """{method: {round: [[train accuracy, test accuracy], ...] per epoch}} from each round's history.json."""
    found = {}
    for label, k, stored in _round_files(runs_dir, curves, "history.json"):
        found.setdefault(label, {})[k] = [
            [None if e.get(key) is None else round(e[key], 4) for key in ("trainAccuracy", "testAccuracy")]
            for e in stored.get("history", [])]
    return found


def compact(schedule_name: str, seed: int, curves: dict, verdicts: dict, meta: dict,
            histories: dict | None = None) -> dict:
    """What regenerates every table, chart and test of one seed, without the checkpoints
    (histories: each round's training curve, train and test accuracy per epoch)."""
    return {"schedule": schedule_name, "seed": seed, "meta": meta, "histories": histories or {},
            "curves": {label: [{key: row.get(key) for key in ROUND_FIELDS if key in row} for row in curve]
                       for label, curve in curves.items()},
            "verdicts": verdicts, "codes": {v: k for k, v in CODES.items()}}
