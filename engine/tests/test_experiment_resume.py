"""A run killed with SIGKILL mid-round and restarted gives the numbers of an uninterrupted run.

Uses the real command line (engine/bin/certprune-engine run) in subprocesses, one
thread each, so both runs compute in the same order.
"""
import json
import os
import signal
import subprocess

import torch

from certprune import paths as files

ENGINE = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "bin", "certprune-engine")
CONFIG = {"data": {"dataset": "synthetic", "trainSize": 96, "testSize": 40, "augment": True},
          "model": {"arch": "cnn4"},
          "training": {"regime": "natural", "epochs": 3, "batchSize": 32},
          "pruning": {"method": "imp", "rounds": 2},
          "verification": {"mode": "none"}, "device": "cpu", "seed": 7}


def engine(config_path, out, kill_when=None):
    """Run the engine; with kill_when(event), SIGKILL it at the first event that matches."""
    env = {**os.environ, "CERTPRUNE_THREADS": "1"}
    process = subprocess.Popen([ENGINE, "run", "--config", config_path, "--out", out], stdout=subprocess.PIPE,
                               stderr=subprocess.DEVNULL, text=True, env=env)
    events = []
    for line in process.stdout:
        events.append(json.loads(line))
        if kill_when is not None and kill_when(events[-1]):
            process.send_signal(signal.SIGKILL)
            break
    process.stdout.close()
    return process.wait(timeout=120), events


def comparable(metrics):
    return {k: v for k, v in metrics.items() if k != "seconds"}


def test_sigkill_mid_round_then_restart_matches_an_uninterrupted_run(tmp_path):
    config_path = str(tmp_path / "run.json")
    with open(config_path, "w") as f:
        json.dump(CONFIG, f)
    code, whole = engine(config_path, str(tmp_path / "whole"))
    assert code == 0 and whole[-1]["type"] == "finished"
    plan = whole[0]["plan"]                                       # the engine states its plan up front
    assert (plan["kind"], plan["rounds"], plan["epochs"], plan["unit"]) == ("experiment", 3, 3, "weights")
    assert [round(t, 6) for t in plan["remainingTargets"]] == [1.0, 0.8, 0.64]
    assert len([e for e in whole if e["type"] == "round_started"]) == plan["rounds"]

    cut = str(tmp_path / "cut")
    code, first = engine(config_path, cut, kill_when=lambda e: e["type"] == "epoch" and e["round"] == 1
                         and e["epoch"] == 2)
    assert code == -signal.SIGKILL
    assert not os.path.exists(os.path.join(cut, "round_1", "checkpoint.pt"))
    code, second = engine(config_path, cut)
    assert code == 0 and second[-1]["type"] == "finished"
    assert second[0]["type"] == "started" and second[0]["resumed"] is True

    for k in range(3):
        a = files.load_json(os.path.join(tmp_path, "whole", f"round_{k}", "metrics.json"))
        b = files.load_json(os.path.join(cut, f"round_{k}", "metrics.json"))
        assert comparable(a) == comparable(b)
        wa = files.load_torch(os.path.join(tmp_path, "whole", f"round_{k}", "checkpoint.pt"))
        wb = files.load_torch(os.path.join(cut, f"round_{k}", "checkpoint.pt"))
        assert all(torch.equal(wa[n], wb[n]) for n in wa)
    # the restarted process trains round 1 again from its first epoch
    assert [(e["round"], e["epoch"]) for e in second if e["type"] == "epoch"][:1] == [(1, 1)]
    assert not [n for n in os.listdir(os.path.join(cut, "round_1")) if n.endswith(".tmp")]
