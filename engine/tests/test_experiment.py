"""The round-by-round runner: events, counted sparsity, rewinding, resuming, sweeps, seeds."""
import io
import json
import os

import pytest
import torch

from certprune import experiment
from certprune import paths as files
from certprune.experiment import dense_key, prepare_run, round_targets, run_experiment, starting_model
from certprune.stats import aggregate_seeds, best_round
from certprune.protocol import EventWriter, load_config


def small_config(**overrides):
    config = {"data": {"dataset": "synthetic", "trainSize": 64, "testSize": 40, "augment": False},
              "model": {"arch": "cnn4"},
              "training": {"regime": "natural", "epochs": 2, "batchSize": 32},
              "pruning": {"method": "imp", "rounds": 2},
              "verification": {"mode": "none"}, "device": "cpu"}
    for group, values in overrides.items():
        if isinstance(values, dict):
            config.setdefault(group, {}).update(values)
        else:
            config[group] = values
    return load_config(config)


class Events:
    """A validating event sink (the lead's EventWriter) that keeps the parsed events."""

    def __init__(self, fail_on=None):
        self.stream = io.StringIO()
        self.writer = EventWriter(self.stream)
        self.fail_on = fail_on

    def __call__(self, type, **fields):
        if self.fail_on is not None and self.fail_on(type, fields):
            raise RuntimeError("simulated crash")
        self.writer.emit(type, **fields)

    @property
    def list(self):
        return [json.loads(line) for line in self.stream.getvalue().splitlines()]

    def of(self, type):
        return [e for e in self.list if e["type"] == type]


def comparable(metrics):
    """A round's numbers without wall-clock times."""
    return {k: v for k, v in metrics.items() if k not in ("seconds", "meanVerifySeconds")}


def test_the_smallest_run_emits_the_protocol_events_in_order(tmp_path, monkeypatch):
    from certprune.phases import context
    monkeypatch.setattr(context, "PROGRESS_INTERVAL_S", 1e9)     # a busy machine must not add progress events
    events = Events()
    summary = run_experiment(small_config(pruning={"method": "none"}), str(tmp_path), events)
    kinds = [e["type"] for e in events.list if e["type"] not in ("artifact", "log")]
    assert kinds == ["round_started", "epoch", "epoch", "round_finished", "finished"]
    assert events.of("progress") == []          # epochs quicker than PROGRESS_INTERVAL_S: their epoch events suffice
    finished = events.of("round_finished")[0]
    assert finished["verifiedAccuracy"] is None and finished["samples"] == 0 and finished["remainingRatio"] == 1.0
    assert [e["round"] for e in events.of("epoch")] == [0, 0]
    artifacts = {e["path"] for e in events.of("artifact")}
    assert {"init.pt", "round_0/mask.pt", "round_0/checkpoint.pt", "round_0/metrics.json"} <= artifacts
    assert all(os.path.exists(tmp_path / p) for p in artifacts)
    assert summary["rounds"] == 1 and summary["bestRound"] is None
    assert files.load_json(str(tmp_path / "summary.json"))["curve"] == summary["curve"]


@pytest.fixture(scope="module")
def imp_run(tmp_path_factory):
    """One uninterrupted 3-round IMP run shared by the tests below: (folder, summary, events)."""
    folder = tmp_path_factory.mktemp("imp")
    events = Events()
    summary = run_experiment(small_config(), str(folder), events)
    return folder, summary, events


def test_counted_remaining_ratio_follows_the_schedule_and_masks_hold(imp_run):
    tmp_path, summary, events = imp_run
    started = [e["remainingRatio"] for e in events.of("round_started")]
    finished = [e["remainingRatio"] for e in events.of("round_finished")]
    total = 16 * 1 * 16 + 32 * 16 * 16                     # cnn4 conv weights on 1x16x16 inputs
    for k, (a, b) in enumerate(zip(started, finished)):
        assert a == b and abs(b * total - round(total * 0.8 ** k)) < 1e-6
    assert [e["rounds"] for e in events.of("round_started")] == [3, 3, 3]
    run = prepare_run(small_config(), str(tmp_path), lambda *a, **k: None)
    for k in range(3):
        model, mask = experiment.trained_model(run, k)
        params = dict(model.named_parameters())
        for name, m in mask.items():
            assert bool((params[name].detach()[m == 0] == 0).all())
        layers = {l["name"]: l for l in summary["curve"][k]["layers"]}
        assert layers["conv1"]["remainingWeights"] + layers["conv2"]["remainingWeights"] == round(total * 0.8 ** k)
        assert layers["fc2"]["remainingWeights"] == layers["fc2"]["weights"]


def test_rewinding_restores_the_initial_values_of_surviving_weights_exactly(imp_run):
    tmp_path = imp_run[0]
    run = prepare_run(small_config(), str(tmp_path), lambda *a, **k: None)
    init = files.load_torch(run.paths.init)
    mask = files.load_torch(run.paths.mask(2))
    start = starting_model(run, 2, init, mask).state_dict()
    trained = files.load_torch(run.paths.checkpoint(1))
    for name, m in mask.items():
        assert torch.equal(start[name][m == 1], init[name][m == 1])            # bit-identical survivors
        assert bool((start[name][m == 0] == 0).all())
        if "weight" in name and m.dim() > 1:
            assert not torch.equal(start[name], trained[name])                 # not the trained values
    for name in init:                                                          # BN statistics rewound too
        if "running" in name:
            assert torch.equal(start[name], init[name])


def test_finetuning_starts_from_the_previous_rounds_trained_weights(tmp_path):
    config = small_config(pruning={"rewind": "finetune", "rounds": 1}, training={"epochs": 1})
    run_experiment(config, str(tmp_path), Events())
    run = prepare_run(config, str(tmp_path), lambda *a, **k: None)
    mask = files.load_torch(run.paths.mask(1))
    start = starting_model(run, 1, files.load_torch(run.paths.init), mask).state_dict()
    trained = files.load_torch(run.paths.checkpoint(0))
    for name, m in mask.items():
        assert torch.equal(start[name], trained[name] * m)


def test_one_shot_prunes_once_to_the_target():
    config = small_config(pruning={"schedule": "one-shot", "rounds": 5})
    assert round_targets(config) == [1.0, pytest.approx(0.8 ** 5)]
    config = small_config(pruning={"schedule": "one-shot", "targetRatio": 0.1})
    assert round_targets(config) == [1.0, 0.1]
    assert round_targets(small_config(pruning={"method": "slim", "rounds": 2}))[2] == pytest.approx(0.89 ** 2)
    assert round_targets(small_config(pruning={"method": "none"})) == [1.0]


def test_a_run_crashed_mid_round_resumes_to_the_same_numbers(tmp_path, imp_run):
    config = small_config()
    whole, reference, _ = imp_run
    crash = Events(fail_on=lambda type, f: type == "epoch" and f["round"] == 1 and f["epoch"] == 2)
    with pytest.raises(RuntimeError, match="simulated crash"):
        run_experiment(config, str(tmp_path / "cut"), crash)
    assert os.path.exists(tmp_path / "cut" / "round_1" / "mask.pt")
    assert not os.path.exists(tmp_path / "cut" / "round_1" / "checkpoint.pt")
    resumed_events = Events()
    resumed = run_experiment(config, str(tmp_path / "cut"), resumed_events)
    assert [comparable(r) for r in resumed["curve"]] == [comparable(r) for r in reference["curve"]]
    for k in range(3):
        a = files.load_torch(str(whole / f"round_{k}" / "checkpoint.pt"))
        b = files.load_torch(str(tmp_path / "cut" / f"round_{k}" / "checkpoint.pt"))
        assert all(torch.equal(a[n], b[n]) for n in a)
    # the finished round 0 is reported again, the unfinished round 1 restarts its training
    assert [e["round"] for e in resumed_events.of("round_finished")] == [0, 1, 2]
    assert [e["round"] for e in resumed_events.of("round_started")] == [1, 2]


def test_a_folder_holding_another_configuration_is_refused(imp_run):
    with pytest.raises(ValueError, match="different configuration"):
        run_experiment(small_config(seed=3), str(imp_run[0]), Events())


def test_a_sweep_shares_the_dense_round(tmp_path):
    shared = str(tmp_path / "shared")
    imp = small_config(pruning={"rounds": 1})
    rand = small_config(pruning={"method": "random", "rounds": 1})
    assert dense_key(imp) == dense_key(rand)
    assert dense_key(imp) != dense_key(small_config(training={"regularizer": "nrs"}))
    first = run_experiment(imp, str(tmp_path / "imp"), Events(), shared_dir=shared)
    events = Events()
    second = run_experiment(rand, str(tmp_path / "random"), events, shared_dir=shared)
    assert comparable(first["curve"][0]) == comparable(second["curve"][0])
    a = files.load_torch(str(tmp_path / "imp" / "round_0" / "checkpoint.pt"))
    b = files.load_torch(str(tmp_path / "random" / "round_0" / "checkpoint.pt"))
    assert all(torch.equal(a[n], b[n]) for n in a)
    assert any("reusing the dense round" in e["message"] for e in events.of("log"))
    assert [e["round"] for e in events.of("epoch")] == [0, 0, 1, 1]            # round 0 replayed from history
    assert first["curve"][1]["remainingRatio"] == second["curve"][1]["remainingRatio"]


def test_channel_pruning_runs_shrink_and_count_channels(tmp_path):
    events = Events()
    summary = run_experiment(small_config(pruning={"method": "slim", "rounds": 2}, training={"regularizer": "slim"}),
                             str(tmp_path), events)
    ratios = [r["remainingChannelRatio"] for r in summary["curve"]]
    assert ratios == [1.0, round(48 * 0.89) / 48, round(48 * 0.89 ** 2) / 48]
    layers = {l["name"]: l for l in summary["curve"][2]["layers"]}
    assert layers["conv1"]["remainingChannels"] + layers["conv2"]["remainingChannels"] == round(48 * 0.89 ** 2)
    channels = [r["sparsity"]["channels"] for r in summary["curve"]]          # structured: channels counted
    assert [c["remaining"] / c["total"] for c in channels] == ratios and channels[0]["total"] == 48


def test_best_round_and_seed_aggregation():
    curve = [{"round": 0, "verifiedAccuracy": 0.5}, {"round": 1, "verifiedAccuracy": 0.7},
             {"round": 2, "verifiedAccuracy": 0.7}, {"round": 3, "verifiedAccuracy": None}]
    assert best_round(curve) == (1, 0.7)
    assert best_round([{"round": 0, "verifiedAccuracy": None}]) == (None, None)
    seeds = [[{"round": 0, "verifiedAccuracy": 0.2, "standardAccuracy": 0.5, "instability": None},
              {"round": 1, "verifiedAccuracy": 0.4, "standardAccuracy": 0.6, "instability": 2.0}],
             [{"round": 0, "verifiedAccuracy": 0.4, "standardAccuracy": 0.5, "instability": None}]]
    aggregated = aggregate_seeds(seeds)
    assert [a["round"] for a in aggregated] == [0]                             # only rounds every seed has
    assert aggregated[0]["verifiedAccuracy"]["mean"] == pytest.approx(0.3)
    assert aggregated[0]["verifiedAccuracy"]["std"] == pytest.approx((0.02) ** 0.5)   # sample std of 0.2, 0.4
    assert aggregated[0]["standardAccuracy"] == {"mean": 0.5, "std": 0.0}
    assert aggregated[0]["instability"] is None
    assert aggregate_seeds([]) == []


def test_every_method_runs_through_the_runner_on_a_shared_dense_round(tmp_path):
    shared = str(tmp_path / "shared")
    cases = [("random", "none"), ("imp", "nrs"), ("snip", "none"), ("taylor", "none"), ("hydra", "nrs"),
             ("struct-lth", "none"), ("slim", "slim"), ("nrs-channel", "nrs")]
    for method, regularizer in cases:
        config = small_config(data={"trainSize": 32, "testSize": 20}, pruning={"method": method, "rounds": 1, "hydraEpochs": 1, "scope": "conv-linear"
                                       if method in ("imp", "random") else "conv"},
                              training={"regime": "natural", "epochs": 1, "regularizer": regularizer})
        summary = run_experiment(config, str(tmp_path / method), Events(), shared_dir=shared)
        last = summary["curve"][1]
        if method in ("struct-lth", "slim", "nrs-channel"):
            assert last["remainingChannelRatio"] == round(48 * 0.89) / 48, method
        else:
            total = 16 * 16 + 32 * 16 * 16 + (512 * 100 if method in ("imp", "random") else 0)
            assert abs(last["remainingRatio"] - round(total * 0.8) / total) < 1e-9, method


def test_load_round_model_gives_the_trained_network_of_a_round(imp_run):
    folder = imp_run[0]
    model, config = experiment.load_round_model(str(folder), 2)
    assert config["pruning"]["method"] == "imp" and not model.training
    run = prepare_run(small_config(), str(folder), lambda *a, **k: None)
    full, _ = experiment.trained_model(run, 2)
    x = torch.rand(4, 1, 16, 16)
    with torch.no_grad():
        assert torch.allclose(model(x), full(x), atol=1e-5)
    with pytest.raises(FileNotFoundError, match="rounds with one: \\[0, 1, 2\\]"):
        experiment.load_round_model(str(folder), 5)
    assert experiment.has_progress(str(folder)) and not experiment.has_progress(str(folder / "nothing"))
