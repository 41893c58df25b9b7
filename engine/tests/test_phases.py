"""The pieces the runners compose: the plan, progress throttling, counted sparsity, round contexts."""
import io
import json

import pytest

from certprune.phases import context as phase_context
from certprune.phases.prune import sparsity
from certprune.plan import round_targets, run_plan
from certprune.protocol import EventWriter, load_config
from certprune.stats import BEST_ROUND_RULE
from certprune.train import TrainingSettings, eps_at


def config(**groups):
    base = {"data": {"dataset": "synthetic"}, "model": {"arch": "cnn4"}, "device": "cpu"}
    for group, values in groups.items():
        base[group] = {**base.get(group, {}), **values} if isinstance(values, dict) else values
    return load_config(base)


def started_with(plan):
    """The plan inside a started event, validated against the events schema."""
    stream = io.StringIO()
    EventWriter(stream).emit("started", runId="run_x", config={}, device="cpu", torchVersion="2", resumed=False,
                             plan=plan)
    return json.loads(stream.getvalue())["plan"]


def test_the_plan_states_the_resolved_schedule_and_settings():
    imp = started_with(run_plan(config(pruning={"method": "imp", "rounds": 2}, training={"regime": "natural",
                                                                                       "epochs": 3})))
    assert imp["kind"] == "experiment" and imp["rounds"] == 3
    assert imp["remainingTargets"] == pytest.approx([1.0, 0.8, 0.64])
    assert (imp["pruneRate"], imp["unit"], imp["epochs"]) == (0.2, "weights", 3)
    assert (imp["lr"], imp["weightDecay"]) == (0.01, 5e-4)                  # SGD's defaults for natural training
    assert (imp["trainEps"], imp["epsSchedule"]) == (None, [])               # natural training uses no eps
    assert imp["verifyEps"] == 0.05 and imp["bestRoundRule"] == BEST_ROUND_RULE   # synthetic's default eps
    slim = run_plan(config(pruning={"method": "slim", "rounds": 1}))
    assert (slim["pruneRate"], slim["unit"], slim["remainingTargets"]) == (0.11, "channels", [1.0, 0.89])


def test_the_plan_of_a_certified_regime_lists_its_eps_ramp():
    cfg = config(pruning={"method": "none"}, training={"regime": "ibp", "epochs": 4, "epsStart": 2, "epsLength": 2,
                                                        "eps": 0.1}, verification={"mode": "none"})
    plan = started_with(run_plan(cfg))
    settings = TrainingSettings.from_config(cfg["training"])
    assert plan["epsSchedule"] == [eps_at(float(e), settings) for e in range(1, 5)]
    assert plan["epsSchedule"][0] == 0.0 and plan["epsSchedule"][2:] == [0.1, 0.1]   # ramp over epochs 2-3
    assert (plan["trainEps"], plan["lr"], plan["verifyEps"]) == (0.1, 1e-3, None)  # Adam; nothing verified
    assert (plan["rounds"], plan["pruneRate"], plan["unit"]) == (1, None, None)


def test_one_shot_plans_count_rounds_as_the_runner_does():
    zero = config(pruning={"method": "imp", "schedule": "one-shot", "rounds": 0})
    assert run_plan(zero)["rounds"] == len(round_targets(zero)) == 1
    five = run_plan(config(pruning={"method": "imp", "schedule": "one-shot", "rounds": 5}))
    assert five["rounds"] == 2 and five["pruneRate"] == pytest.approx(1 - 0.8 ** 5)
    target = run_plan(config(pruning={"method": "imp", "schedule": "one-shot", "targetRatio": 0.1}))
    assert target["remainingTargets"] == [1.0, 0.1] and target["pruneRate"] == pytest.approx(0.9)


def test_an_uploaded_model_plans_no_training_and_no_pruning():
    plan = started_with(run_plan(config(model={"arch": "onnx", "onnx": "/tmp/m.onnx"},
                                        verification={"eps": 0.03})))
    assert plan == {"kind": "uploaded-model", "rounds": 1, "remainingTargets": [1.0], "pruneRate": None,
                    "unit": None, "epochs": 0, "lr": None, "weightDecay": None, "trainEps": None,
                    "verifyEps": 0.03, "epsSchedule": [], "bestRoundRule": BEST_ROUND_RULE}


def test_progress_is_throttled_to_one_event_per_interval_plus_the_last():
    now = [0.0]
    sent = []
    report = phase_context.Progress(lambda type, **f: sent.append((type, f)), 2, "verify", clock=lambda: now[0])
    for done, at in [(1, 0.5), (2, 1.9), (3, 2.1), (4, 3.0), (5, 4.2), (6, 4.3), (7, 4.4)]:
        now[0] = at
        report(done, 7)
    assert [(f["done"], f["seconds"]) for _, f in sent] == [(3, 2.1), (5, 4.2), (7, 4.4)]
    assert all(t == "progress" and (f["round"], f["phase"], f["epoch"], f["total"]) == (2, "verify", None, 7)
               for t, f in sent)
    quick = []                                   # a phase quicker than the interval: its end event says it all
    report = phase_context.Progress(lambda type, **f: quick.append(f), 0, "train", 1, clock=lambda: now[0])
    for done in range(1, 5):
        now[0] += 0.3
        report(done, 4)
    assert quick == []


def layer(name, weights, remaining, channels, alive):
    return {"name": name, "kind": "conv", "weights": weights, "remainingWeights": remaining,
            "channels": channels, "remainingChannels": alive}


def test_sparsity_counts_the_scope_all_weights_and_channels():
    layers = [layer("conv1", 100, 50, 10, 5), layer("conv2", 300, 150, 20, 10), layer("fc1", 600, 600, 10, 10)]
    counted = sparsity(layers, {"conv1", "conv2"}, structured=True)
    assert counted["remainingRatio"] == 200 / 400 and counted["remainingChannelRatio"] == 15 / 30
    assert counted["sparsity"] == {"scope": {"remaining": 200, "total": 400}, "all": {"remaining": 800, "total": 1000},
                                   "channels": {"remaining": 15, "total": 30}}
    assert sparsity(layers, {"conv1", "conv2"}, structured=False)["sparsity"]["channels"] is None
    nothing = sparsity(layers, set(), structured=False)            # a scope that selects no layer removes nothing
    assert (nothing["remainingRatio"], nothing["sparsity"]["scope"]) == (1.0, {"remaining": 0, "total": 0})
    every = sparsity(layers, None, structured=False)                # an uploaded model: every layer
    assert every["remainingRatio"] == 0.8 and every["sparsity"]["scope"] == every["sparsity"]["all"]


def test_training_reports_every_batch_of_every_epoch_when_not_throttled(tmp_path, monkeypatch):
    from certprune.experiment import run_experiment
    from test_experiment import Events
    monkeypatch.setattr(phase_context, "PROGRESS_INTERVAL_S", 0.0)
    events = Events()
    run_experiment(config(data={"trainSize": 96, "testSize": 20, "augment": False},
                          training={"regime": "natural", "epochs": 2, "batchSize": 32},
                          pruning={"method": "none"}, verification={"mode": "none"}), str(tmp_path), events)
    progress = [(e["epoch"], e["done"], e["total"]) for e in events.of("progress")]
    assert progress == [(1, 1, 3), (1, 2, 3), (1, 3, 3), (2, 1, 3), (2, 2, 3), (2, 3, 3)]
    by_epoch = [[e["seconds"] for e in events.of("progress") if e["epoch"] == n] for n in (1, 2)]
    assert all(s == sorted(s) for s in by_epoch)                       # each epoch's clock runs forward
    logs = [(e["round"], e["phase"], e["message"]) for e in events.of("log")]
    assert logs[0][:2] == (None, "setup") and "96 training and" in logs[0][2]
    assert [m for r, p, m in logs if (r, p) == (0, "train")][0].startswith("round 0: training 2 epochs (natural)")
