"""A round's results (round_finished, metrics.json) and a run's (summary.json, finished), built here only.

    payload = finish_round(ctx, counted, layers, evaluation, stability, verification, seconds)
    summary = write_summary(run, curve, seconds, complete=True, evaluation={...})
    emit_finished(run, summary)

Both runners (experiment.py, verify_model.py) call these, so an event field is added once.
"""
from __future__ import annotations

import os

from .. import paths as files
from ..stats import ALPHA, BEST_ROUND_RULE, best_round, round_tests
from .context import RoundContext, pct_text, seconds_text
from .stability import stability_totals
from .verify import verdicts

TOTALS = ("verified", "falsified", "unknown", "misclassified", "samples")


def finish_round(ctx: RoundContext, counted: dict, layers: list, evaluation: dict, stability: dict | None,
                 verification: dict | None, seconds: float) -> dict:
    """Round k's round_finished fields: stored in metrics.json (which marks the round done), then emitted.

    counted: phases.prune.sparsity(...); layers: the layer report; evaluation:
    {"standardAccuracy", "adversarialAccuracy"}; stability / verification: the stored
    phases (None when they did not run).
    """
    run, k = ctx.run, ctx.k
    totals = verification or {}
    payload = {
        "round": k, "remainingRatio": counted["remainingRatio"],
        "remainingChannelRatio": counted["remainingChannelRatio"], "sparsity": counted["sparsity"],
        "standardAccuracy": evaluation["standardAccuracy"],
        "adversarialAccuracy": evaluation["adversarialAccuracy"],
        "verifiedAccuracy": totals.get("verifiedAccuracy"),
        **{key: totals.get(key, 0) for key in TOTALS},
        "meanVerifySeconds": totals.get("meanVerifySeconds"),
        **stability_totals(stability),
        "seconds": seconds, "layers": layers,
    }
    size = files.save_json(payload, run.paths.metrics(k))
    run.artifact(k, "metrics", run.paths.metrics(k), size)
    run.emit("round_finished", **payload)
    verified = (f"verified {payload['verified']} of {payload['samples']} ({pct_text(payload['verifiedAccuracy'])})"
                if verification is not None else "not verified")
    ctx.log(f"round {k} finished in {seconds_text(seconds)}: {pct_text(payload['remainingRatio'])} of the pruned "
            f"layers' weights remain, standard accuracy {pct_text(payload['standardAccuracy'])}, {verified}")
    return payload


def replay_round(ctx: RoundContext) -> dict:
    """A finished round's stored round_finished fields, emitted again (a resumed run)."""
    payload = files.load_json(ctx.paths.metrics(ctx.k))
    ctx.emit("round_finished", **payload)
    return payload


def round_verdicts(run, rounds: list) -> dict:
    """{round: {sample index: verified?}} of the rounds that verified (their verification.json)."""
    found = {}
    for k in rounds:
        path = run.paths.verification(k)
        if os.path.exists(path):
            found[k] = verdicts(files.load_json(path))
    return found


def write_summary(run, curve: list, seconds: float, **extra) -> dict:
    """summary.json: {"curve", "bestRound", "bestVerifiedAccuracy", "bestRoundRule",
    "indistinguishableRounds", "roundTests", "rounds", "seconds", **extra}.

    The best round follows stats.best_round; roundTests pairs every other round with it
    sample by sample (stats.round_tests: the discordant counts and McNemar's exact p);
    indistinguishableRounds are those with p >= ALPHA. Without verification there is no
    best round, and both lists are empty.
    """
    best, best_accuracy = best_round(curve)
    tests = round_tests(round_verdicts(run, [r["round"] for r in curve]), best)
    summary = {"curve": curve, "bestRound": best, "bestVerifiedAccuracy": best_accuracy,
               "bestRoundRule": BEST_ROUND_RULE, "indistinguishableRounds": [t["round"] for t in tests if t["p"] >= ALPHA],
               "roundTests": tests, "rounds": len(curve), **extra, "seconds": seconds}
    files.save_json(summary, run.paths.summary)
    return summary


def emit_finished(run, summary: dict) -> None:
    """The finished event (and a log line) of a completed run, from its summary."""
    best, same = summary["bestRound"], summary["indistinguishableRounds"]
    if best is None:
        run.log("finished: nothing was verified, so there is no best round")
    else:
        within = (f"; not distinguishable from round{'s' if len(same) > 1 else ''} {', '.join(map(str, same))} "
                  f"(exact McNemar test, p >= {ALPHA})" if same else "")
        run.log(f"finished: best round {best} ({pct_text(summary['bestVerifiedAccuracy'])} verified){within}")
    run.set_status(None, "finished")
    run.emit("finished", bestRound=best, bestVerifiedAccuracy=summary["bestVerifiedAccuracy"],
             bestRoundRule=summary["bestRoundRule"], indistinguishableRounds=same, rounds=summary["rounds"],
             seconds=summary["seconds"])
