"""Does the verification budget change a comparison? Re-verify a round's unknown images longer.

    .venv/bin/python bench/timeout_sensitivity.py --out bench/out/reproduce-adversarial IMP:0 IMP:3 --timeout 60
    .venv/bin/python bench/timeout_sensitivity.py --out DIR IMP:0 --timeout 60 --shard 1/2   # half of the images, in
    .venv/bin/python bench/timeout_sensitivity.py --out DIR IMP:0 --timeout 60 --shard 2/2   # two processes
    .venv/bin/python bench/timeout_sensitivity.py --out DIR IMP:0 IMP:3 --timeout 60 --report-only

A reproduction (bench/reproduce.py) verifies every round with one timeout per image. An
image left unknown is neither robust nor not, and a short timeout leaves the hardest
images unknown: on a dense, adversarially trained network that is most of them, so a
short budget can make pruning look better than it is. This script takes each
LABEL:ROUND of the runs under --out (runs/<LABEL>/round_<ROUND>/verification.json),
re-verifies only the images that ended *unknown* with --timeout (the same mode, eps and
attack as the round; every verified or falsified image keeps its verdict: a proof or a
checked counterexample is final) and prints, per round, the counts before and after; with
two specs, the paired difference (first - second) in verified accuracy before and after,
with the exact McNemar p-value. Each shard's results are kept in
<out>/sensitivity/<LABEL>-r<ROUND>-t<TIMEOUT>[-pgd<S>x<R>]-s<K>of<N>.json, so a stopped run
resumes and --report-only (given the same --timeout and --pgd) merges them. --pgd 100x30
gives the unknowns a stronger attack too: an unknown image may be one the round's short
attack did not break.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "engine"))


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("specs", nargs="+", help="LABEL:ROUND, e.g. IMP:0 (the run runs/<LABEL>, its round <ROUND>)")
    p.add_argument("--out", required=True, help="a reproduction's output folder (holding runs/)")
    p.add_argument("--timeout", type=float, required=True, help="seconds per unknown image")
    p.add_argument("--pgd", default=None, metavar="STEPSxRESTARTS",
                   help="the attack before the bounds (default: the round's own, e.g. 20x2)")
    p.add_argument("--shard", default="1/1", help="K/N: re-verify every N-th unknown image from the K-th")
    p.add_argument("--report-only", action="store_true", help="only merge the kept shards and print")
    args = p.parse_args(argv)
    try:
        k, n = (int(part) for part in args.shard.split("/"))
        if not 1 <= k <= n:
            raise ValueError
    except ValueError:
        p.error(f"--shard must be K/N with 1 <= K <= N, got {args.shard!r}")
    args.shard_k, args.shard_n = k, n
    args.pgd_steps = args.pgd_restarts = None
    if args.pgd is not None:
        try:
            args.pgd_steps, args.pgd_restarts = (int(part) for part in args.pgd.lower().split("x"))
            if args.pgd_steps < 1 or args.pgd_restarts < 1:
                raise ValueError
        except ValueError:
            p.error(f"--pgd must be STEPSxRESTARTS, both at least 1 (e.g. 100x30), got {args.pgd!r}")
    try:
        args.rounds = [split_spec(spec) for spec in args.specs]
    except ValueError as e:
        p.error(str(e))
    return args


def split_spec(spec: str) -> tuple[str, int]:
    """"IMP:3" -> ("IMP", 3); ValueError naming the spec otherwise."""
    label, _, round_text = spec.rpartition(":")
    if not label or not round_text.isdigit():
        raise ValueError(f"a spec is LABEL:ROUND (e.g. IMP:0), got {spec!r}")
    return label, int(round_text)


def stored_round(out: str, label: str, k: int) -> tuple[str, dict]:
    run_dir = os.path.join(out, "runs", label)
    path = os.path.join(run_dir, f"round_{k}", "verification.json")
    if not os.path.exists(path):
        raise SystemExit(f"error: {path} does not exist (no finished verification of {label} round {k})")
    with open(path) as f:
        return run_dir, json.load(f)


def run_name(label: str, k: int, timeout: float, pgd: tuple = (None, None)) -> str:
    """The kept results' name: LABEL-r<ROUND>-t<TIMEOUT>, plus -pgd<S>x<R> when the attack was overridden."""
    return f"{label}-r{k}-t{timeout:g}" + (f"-pgd{pgd[0]}x{pgd[1]}" if pgd[0] else "")


def shard_path(out: str, name: str, shard_k: int, shard_n: int) -> str:
    return os.path.join(out, "sensitivity", f"{name}-s{shard_k}of{shard_n}.json")


def reverify(out: str, label: str, k: int, timeout: float, shard_k: int, shard_n: int,
             pgd: tuple = (None, None)) -> None:
    """Re-verify this shard's unknown images of LABEL round k (with the round's attack unless
    ``pgd`` = (steps, restarts) says otherwise); keep each result as it finishes."""
    from certprune.device import engine_device
    from certprune.experiment import load_round_model
    from certprune.phases.verify import read_verification_samples, verify_sample

    run_dir, stored = stored_round(out, label, k)
    with open(os.path.join(run_dir, "config.json")) as f:
        config = json.load(f)
    images, labels, eps = read_verification_samples(run_dir)
    settings = config["verification"]
    steps, restarts = pgd[0] or settings["pgdSteps"], pgd[1] or settings["pgdRestarts"]
    longer = {**settings, "timeout": timeout, "pgdSteps": steps, "pgdRestarts": restarts}
    unknown = [r["index"] for r in stored["results"] if r["status"] == "unknown"]
    mine = unknown[shard_k - 1::shard_n]
    path = shard_path(out, run_name(label, k, timeout, pgd), shard_k, shard_n)
    done = {}
    if os.path.exists(path):
        with open(path) as f:
            done = {int(i): r for i, r in json.load(f)["results"].items()}
    device = engine_device("cpu")
    model, _ = load_round_model(run_dir, k, device)
    model.eval()
    print(f"{label} round {k}: {len(unknown)} unknown at {settings['timeout']:g} s; this shard re-verifies "
          f"{len(mine)} at {timeout:g} s, PGD {steps}x{restarts} ({len(done)} kept)", flush=True)

    def save():
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w") as f:
            json.dump({"label": label, "round": k, "timeout": timeout, "pgd": [steps, restarts],
                       "shard": [shard_k, shard_n],
                       "complete": all(i in done for i in mine),
                       "results": {str(i): r for i, r in sorted(done.items())}}, f, indent=1)

    for index in mine:
        if index in done:
            continue
        started = time.monotonic()
        outcome = verify_sample(model, images, labels, index, eps, longer, config["seed"], k)
        done[index] = {"status": outcome.status, "decidedBy": outcome.decided_by, "seconds": outcome.seconds,
                       "domains": outcome.domains, "finalMarginLower": outcome.to_event()["finalMarginLower"]}
        print(f"  #{index}: {outcome.status} by {outcome.decided_by} in {time.monotonic() - started:.1f} s",
              flush=True)
        save()
    save()     # also when this shard had nothing to do: it is complete


def merged(out: str, label: str, k: int, timeout: float, pgd: tuple) -> tuple[dict, dict, float, set]:
    """(stored verification, {image index: verdict after the longer timeout}, seconds re-verifying,
    the indices re-verified)."""
    _, stored = stored_round(out, label, k)
    after = {r["index"]: r["status"] for r in stored["results"]}
    spent, rerun = 0.0, set()
    folder = os.path.join(out, "sensitivity")
    prefix = run_name(label, k, timeout, pgd) + "-s"
    for name in sorted(os.listdir(folder)) if os.path.isdir(folder) else []:
        if name.startswith(prefix) and name.endswith(".json"):
            with open(os.path.join(folder, name)) as f:
                for index, r in json.load(f)["results"].items():
                    after[int(index)] = r["status"]
                    rerun.add(int(index))
                    spent += r["seconds"]
    return stored, after, spent, rerun


def counts(statuses) -> dict:
    from certprune.phases.verify import STATUSES
    statuses = list(statuses)
    return {s: statuses.count(s) for s in STATUSES}


def report(out: str, specs: list, timeout: float, pgd: tuple = (None, None)) -> list:
    from certprune.stats import mcnemar_exact
    lines, verdicts = [], []
    longer = f"at {timeout:g} s" + (f", PGD {pgd[0]}x{pgd[1]}" if pgd[0] else "")
    for spec in specs:
        label, k = split_spec(spec)
        stored, after, spent, rerun_indices = merged(out, label, k, timeout, pgd)
        before = {r["index"]: r["status"] for r in stored["results"]}
        b, a = counts(before.values()), counts(after.values())
        rerun = len(rerun_indices)
        decided = sum(1 for i in rerun_indices if after[i] != "unknown")
        lines.append(f"{spec}: {len(before)} images; before (the round's timeout): {b['verified']} verified / "
                     f"{b['falsified']} falsified / {b['unknown']} unknown / {b['misclassified']} misclassified; "
                     f"{longer}: {a['verified']} / {a['falsified']} / {a['unknown']} / {a['misclassified']} "
                     f"({rerun} of {b['unknown']} unknowns re-run, {decided} of them decided; "
                     f"{spent:.0f} s re-verifying)")
        verdicts.append((before, after))
    if len(verdicts) == 2:
        for name, pick in (("before", 0), (longer, 1)):
            first, second = verdicts[0][pick], verdicts[1][pick]
            shared = sorted(set(first) & set(second))
            only_a = sum(1 for i in shared if first[i] == "verified" and second[i] != "verified")
            only_b = sum(1 for i in shared if second[i] == "verified" and first[i] != "verified")
            lines.append(f"{specs[0]} - {specs[1]}, {name}: {100 * (only_a - only_b) / len(shared):+.1f} points "
                         f"({only_a} vs {only_b} of {len(shared)} paired images), McNemar p = "
                         f"{mcnemar_exact(only_a, only_b):.2g}")
    return lines


def main(argv=None) -> int:
    args = parse_args(argv)
    out = os.path.abspath(args.out)
    if not args.report_only:
        for label, k in args.rounds:
            reverify(out, label, k, args.timeout, args.shard_k, args.shard_n,
                     (args.pgd_steps, args.pgd_restarts))
    print("\n".join(report(out, args.specs, args.timeout, (args.pgd_steps, args.pgd_restarts))))
    return 0


if __name__ == "__main__":
    sys.exit(main())
