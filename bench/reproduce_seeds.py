"""Pool a reproduction's seeds: the tables, paired tests and banded chart over seeds 0..k.

    .venv/bin/python bench/reproduce_seeds.py docs/reproduction/sabr-study-seed*.json \
        --markdown out.md --svg chart.svg

Reads the compact records that `bench/reproduce.py --record DIR` writes (one per seed; a
later run adds a seed by adding a file) and writes, without the runs:

- per round (the same remaining ratio for every seed): each method's verified accuracy
  pooled over seeds (verified / samples, 95% Wilson interval), each seed's value and the
  seeds' mean and standard deviation, the unknowns, clean accuracy;
- Table I form: each method's best round per seed (reproduce.py's rule: most verified,
  earliest on ties), mean over seeds, and its paired test against its seed's dense round;
- paired tests pooled over seeds: seed s's run A and run B verify the same first N test
  images, so every (seed, image) is one matched pair; the discordant pairs of all seeds
  are summed and tested with the exact McNemar test (for matched pairs in strata, this is
  the Mantel-Haenszel test). Best rounds are chosen on the same images they are then
  tested on, which flatters "best round vs dense"; the fixed-round comparisons (round k
  against round k, the same sparsity) are free of that choice and are the ones to quote;
- a chart of verified accuracy vs remaining ratio: each method's mean over seeds, with
  the band from the lowest to the highest seed.

The pooled Wilson interval treats (seed, image) pairs as independent; the seeds' standard
deviation is given beside it for the seed-to-seed spread it does not include.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "engine"))
from certprune.stats import mcnemar_exact, wilson_interval  # noqa: E402

from reproduce import COLORS, ChartFrame, best_row, ratio_text  # noqa: E402  (bench/, beside this file)

DENSE = "IMP"   # the run whose round 0 is the dense network (shared with HYDRA and Random)
# Pairs a reviewer asks about (A, B): does the criterion matter beyond sparsity, does NRS help?
PAIRS = (("IMP", "Random"), ("IMP+NRS", "IMP"), ("IMP+NRS", "Random"), ("HYDRA", "IMP"), ("Slim", "IMP"))


def load_records(paths: list) -> list:
    """The records, sorted by seed, with integer round keys; every record must be of one schedule."""
    records = []
    for path in paths:
        with open(path) as f:
            record = json.load(f)
        record["verdicts"] = {label: {int(k): codes for k, codes in rounds.items()}
                              for label, rounds in record["verdicts"].items()}
        records.append(record)
    schedules = {r["schedule"] for r in records}
    if len(schedules) != 1:
        raise ValueError(f"records of more than one schedule: {sorted(schedules)}")
    seeds = [r["seed"] for r in records]
    if len(set(seeds)) != len(seeds):
        raise ValueError(f"a seed appears twice: {sorted(seeds)}")
    return sorted(records, key=lambda r: r["seed"])


def labels_of(records: list) -> list:
    seen = []
    for record in records:
        seen += [label for label in record["curves"] if label not in seen]
    return seen


def round_row(record: dict, label: str, k: int):
    curve = record["curves"].get(label, [])
    return next((row for row in curve if row["round"] == k), None)


def pooled_pair(records: list, a: tuple, b: tuple) -> dict | None:
    """Run A's round against run B's, image by image within each seed, pooled over seeds.

    a, b: (label, round or "best"). Returns onlyA, onlyB, pairs, seeds, difference, p (None if no seed has both).
    """
    only_a = only_b = pairs = seeds = unknown_b = 0
    for record in records:
        picked = []
        for label, k in (a, b):
            if k == "best":
                best = best_row(record["curves"].get(label, []))
                k = None if best is None else best["round"]
            picked.append(record["verdicts"].get(label, {}).get(k))
        codes_a, codes_b = picked
        if codes_a is None or codes_b is None:
            continue
        n = min(len(codes_a), len(codes_b))
        only_a += sum(1 for i in range(n) if codes_a[i] == "v" and codes_b[i] != "v")
        only_b += sum(1 for i in range(n) if codes_b[i] == "v" and codes_a[i] != "v")
        unknown_b += sum(1 for i in range(n) if codes_b[i] == "u" and codes_a[i] != "u")
        pairs += n
        seeds += 1
    if not seeds:
        return None
    # B's unknowns (where A's verdict differs) all counted as verified: the least A can lead by,
    # were branch and bound to prove every sample it left open for B (A's unknowns stay unproven).
    return {"onlyA": only_a, "onlyB": only_b, "pairs": pairs, "seeds": seeds,
            "difference": (only_a - only_b) / pairs, "p": mcnemar_exact(only_a, only_b),
            "unknownB": unknown_b, "worstDifference": (only_a - only_b - unknown_b) / pairs}


def pooled_round(records: list, label: str, k: int) -> dict | None:
    """One method's round k over the seeds: pooled counts, Wilson interval, per-seed values."""
    rows = [row for row in (round_row(r, label, k) for r in records) if row and row.get("samples")]
    if not rows:
        return None
    verified = sum(row["verified"] for row in rows)
    samples = sum(row["samples"] for row in rows)
    per_seed = [row["verifiedAccuracy"] for row in rows]
    low, high = wilson_interval(verified, samples)
    return {"round": k, "remainingRatio": statistics.mean(row["remainingRatio"] for row in rows),
            "verified": verified, "samples": samples, "interval": (low, high), "perSeed": per_seed,
            "mean": statistics.mean(per_seed), "sd": statistics.stdev(per_seed) if len(per_seed) > 1 else None,
            "unknown": sum(row.get("unknown") or 0 for row in rows),
            "falsified": sum(row.get("falsified") or 0 for row in rows),
            "standard": statistics.mean(row["standardAccuracy"] for row in rows),
            "meanVerifySeconds": statistics.mean(row.get("meanVerifySeconds") or 0.0 for row in rows),
            "seeds": len(rows)}


def _pct(value) -> str:
    return "-" if value is None else f"{100 * value:.1f}"


def _test_text(test: dict | None) -> str:
    if test is None:
        return "-"
    verdict = "significant at 0.05" if test["p"] < 0.05 else "not significant"
    worst = (f"; {100 * test['worstDifference']:+.1f} if all {test['unknownB']} of the other's unknowns were robust"
             if test["unknownB"] else "")
    return (f"{100 * test['difference']:+.1f} points ({test['onlyA']} vs {test['onlyB']} discordant of "
            f"{test['pairs']} pairs, {test['seeds']} seed{'' if test['seeds'] == 1 else 's'}), p = {test['p']:.3g}, "
            f"{verdict}{worst}")


def dense_curve(records: list) -> list:
    """The dense round's training curve, per epoch: [epoch, mean train accuracy, mean test accuracy] over
    the seeds that recorded it ([] for records without histories)."""
    curves = [h for h in ((r.get("histories") or {}).get(DENSE, {}).get("0") or
                          (r.get("histories") or {}).get(DENSE, {}).get(0) for r in records) if h]
    if not curves:
        return []
    rows = []
    for epoch in range(min(len(c) for c in curves)):
        train = [c[epoch][0] for c in curves if c[epoch][0] is not None]
        test = [c[epoch][1] for c in curves if c[epoch][1] is not None]
        rows.append([epoch + 1, statistics.mean(train) if train else None, statistics.mean(test) if test else None])
    return rows


def summary(records: list) -> dict:
    """Everything the report shows, as data (the tests read this)."""
    labels = labels_of(records)
    rounds = sorted({row["round"] for r in records for c in r["curves"].values() for row in c})
    per_round = {label: [x for x in (pooled_round(records, label, k) for k in rounds) if x] for label in labels}
    best = {}
    for label in labels:
        chosen = [best_row(r["curves"].get(label, [])) for r in records]
        chosen = [row for row in chosen if row is not None]
        if chosen:
            accs = [row["verifiedAccuracy"] for row in chosen]
            best[label] = {"rounds": [row["round"] for row in chosen], "mean": statistics.mean(accs),
                           "sd": statistics.stdev(accs) if len(accs) > 1 else None,
                           "remaining": [row["remainingRatio"] for row in chosen],
                           "vsDense": pooled_pair(records, (label, "best"), (DENSE, 0))}
    fixed = []
    for k in rounds:
        for a, b in PAIRS:
            test = pooled_pair(records, (a, k), (b, k))
            if test is not None and k > 0:
                fixed.append({"round": k, "a": a, "b": b, **test})
        for label in labels:
            if k > 0:
                test = pooled_pair(records, (label, k), (DENSE, 0))
                if test is not None:
                    fixed.append({"round": k, "a": label, "b": "dense", **test})
    return {"schedule": records[0]["schedule"], "seeds": [r["seed"] for r in records], "labels": labels,
            "denseCurve": dense_curve(records),
            "perRound": per_round, "best": best, "fixed": fixed,
            "bestPairs": [{"a": a, "b": b, **t} for a, b in PAIRS
                          if (t := pooled_pair(records, (a, "best"), (b, "best"))) is not None]}


def markdown(data: dict) -> str:
    seeds = ", ".join(map(str, data["seeds"]))
    lines = [f"Schedule `{data['schedule']}`, seeds {seeds}, pooled by bench/reproduce_seeds.py.", "",
             "Per round (every seed prunes to the same remaining ratio). Verified: pooled verified / samples over "
             "the seeds [95% Wilson interval]; seeds: each seed's verified %, then mean ± sd; unknown: samples "
             "branch and bound left undecided, pooled.", "",
             "| method | round | remaining ratio | clean % (mean) | verified (pooled) [95% CI] | seeds: verified % | "
             "mean ± sd | unknown | mean verify s |", "|---|---|---|---|---|---|---|---|---|"]
    for label, rows in data["perRound"].items():
        for row in rows:
            if label != DENSE and row["round"] == 0 and label in ("HYDRA", "Random"):
                continue   # the same dense round as IMP's
            name = "dense" if label == DENSE and row["round"] == 0 else (
                f"{label} dense" if row["round"] == 0 else label)
            low, high = row["interval"]
            sd = "" if row["sd"] is None else f" ± {100 * row['sd']:.1f}"
            lines.append(f"| {name} | {row['round']} | {ratio_text(row['remainingRatio'])} | {_pct(row['standard'])} | "
                         f"{row['verified']}/{row['samples']} = {_pct(row['verified'] / row['samples'])} "
                         f"[{_pct(low)}, {_pct(high)}] | {' / '.join(_pct(v) for v in row['perSeed'])} | "
                         f"{_pct(row['mean'])}{sd} | {row['unknown']} | {row['meanVerifySeconds']:.2f} |")
    lines += ["", "Fixed-round paired tests (the same sparsity, pooled over seeds; exact McNemar on the discordant "
              "(seed, image) pairs; \"dense\" is the plain dense round, IMP's round 0, also for IMP+NRS):", ""]
    lines += [f"- round {t['round']}: {t['a']} vs {t['b']}: {_test_text(t)}" for t in data["fixed"]]
    lines += ["", "Table I form: each method's best round per seed (most verified, earliest on ties), mean ± sd "
              "over seeds, against its seed's dense round (best rounds are picked on the images they are tested "
              "on, which favours them):", "",
              "| method | best round per seed | remaining | verified % mean ± sd | vs dense (pooled paired) |",
              "|---|---|---|---|---|"]
    for label, row in data["best"].items():
        sd = "" if row["sd"] is None else f" ± {100 * row['sd']:.1f}"
        lines.append(f"| {label} | {', '.join(map(str, row['rounds']))} | "
                     f"{', '.join(ratio_text(r) for r in row['remaining'])} | {_pct(row['mean'])}{sd} | "
                     f"{_test_text(row['vsDense'])} |")
    if data["denseCurve"]:
        lines += ["", "The dense network's training curve (mean over seeds; epoch: train / test accuracy %): "
                  + "; ".join(f"{e}: {_pct(tr)} / {_pct(te)}" for e, tr, te in data["denseCurve"]) + "."]
    if data["bestPairs"]:
        lines += ["", "Best round against best round:", ""]
        lines += [f"- {t['a']} vs {t['b']}: {_test_text(t)}" for t in data["bestPairs"]]
    return "\n".join(lines) + "\n"


def svg(data: dict, title: str) -> str:
    """Mean verified accuracy over seeds vs remaining ratio (log scale), with the lowest-highest seed band."""
    series = {label: rows for label, rows in data["perRound"].items() if rows}
    frame = ChartFrame(title, [row["remainingRatio"] for rows in series.values() for row in rows],
                       [100 * v for rows in series.values() for row in rows for v in row["perSeed"]],
                       "remaining weight ratio (log scale); line: mean over seeds, band: lowest to highest seed",
                       ticks=(1, .5, .25, .125, .0625, .03125))
    for label, rows in series.items():
        color = COLORS.get(label, "#000")
        upper = [(frame.x_of(r["remainingRatio"]), frame.y_of(100 * max(r["perSeed"]))) for r in rows]
        lower = [(frame.x_of(r["remainingRatio"]), frame.y_of(100 * min(r["perSeed"]))) for r in rows]
        frame.parts.append(f'<polygon fill="{color}" fill-opacity="0.15" stroke="none" points="'
                           + " ".join(f"{x:.1f},{y:.1f}" for x, y in upper + lower[::-1]) + '"/>')
        frame.line([(frame.x_of(r["remainingRatio"]), frame.y_of(100 * r["mean"])) for r in rows], color)
        frame.legend(label, color)
    return frame.svg()


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("records", nargs="+", help="<schedule>-seed<k>.json records of one schedule")
    parser.add_argument("--markdown", default=None, help="write the report here (default: print it)")
    parser.add_argument("--svg", default=None, help="also write the banded chart here")
    parser.add_argument("--json", default=None, help="also write the summary as JSON here")
    args = parser.parse_args(argv)
    try:
        data = summary(load_records(args.records))
    except (OSError, ValueError, KeyError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    text = markdown(data)
    if args.markdown:
        with open(args.markdown, "w") as f:
            f.write(text)
    else:
        print(text)
    if args.svg:
        with open(args.svg, "w") as f:
            f.write(svg(data, f"{data['schedule']}: verified accuracy vs remaining ratio, seeds "
                              f"{', '.join(map(str, data['seeds']))}"))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(data, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
