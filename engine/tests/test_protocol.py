"""The engine's side of the protocol: it must agree with lib/protocol (zod) exactly."""
import io
import json
import os
import subprocess
import sys

import pytest

from certprune.protocol import ConfigError, EventWriter, canonical_json, load_config, run_id

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
EXAMPLES = json.load(open(os.path.join(REPO, "tests", "fixtures", "protocol-examples.json")))
ENGINE = os.path.join(REPO, "engine", "bin", "certprune-engine")


def test_pinned_run_ids_match_the_servers():
    for case in EXAMPLES["pinnedRunIds"]:
        assert run_id(case["config"]) == case["runId"], case["config"]


def test_run_id_ignores_defaults_and_key_order():
    a = run_id({"seed": 1, "training": {"epochs": 3, "regime": "natural"}})
    b = run_id({"training": {"regime": "natural", "epochs": 3, "batchSize": 128}, "seed": 1})
    assert a == b
    assert run_id({"seed": 2}) != run_id({"seed": 1})


def test_canonical_json_prints_numbers_as_javascript_does():
    assert canonical_json({"b": 1e-5, "a": [2.0, 0.5, 1.5e-7]}) == '{"a":[2,0.5,1.5e-7],"b":0.00001}'


def test_defaults_come_from_the_schema():
    config = load_config({})
    assert config["training"]["regime"] == "crown-ibp"
    assert config["training"]["batchSize"] == 128
    assert config["pruning"]["rounds"] == 16
    assert config["verification"]["mode"] == "bab"
    assert config["data"]["root"] is None


def test_valid_configs_load_and_invalid_ones_name_their_field():
    for config in EXAMPLES["validConfigs"]:
        load_config(config)
    for case in EXAMPLES["invalidConfigs"]:
        with pytest.raises(ConfigError) as error:
            load_config(case["config"])
        assert error.value.field == case["field"]


def test_event_writer_accepts_every_valid_example_and_rejects_invalid_ones():
    out = io.StringIO()
    writer = EventWriter(out)
    for event in EXAMPLES["validEvents"]:
        fields = {k: v for k, v in event.items() if k not in ("type", "seq", "time")}
        writer.emit(event["type"], **fields)
    lines = [json.loads(line) for line in out.getvalue().splitlines()]
    assert [e["seq"] for e in lines] == list(range(len(EXAMPLES["validEvents"])))
    for event in EXAMPLES["invalidEvents"]:
        fields = {k: v for k, v in event.items() if k not in ("type", "seq", "time")}
        with pytest.raises(ValueError):
            writer.emit(event["type"], **fields)


def test_event_writer_turns_nan_into_null():
    out = io.StringIO()
    EventWriter(out).emit("epoch", round=0, epoch=1, epochs=1, loss=1.0, trainAccuracy=0.5, testAccuracy=float("nan"),
                          robustAccuracy=None, eps=0.0, lr=0.1, seconds=1.0)
    assert json.loads(out.getvalue())["testAccuracy"] is None


def test_cli_rejects_an_invalid_config_with_exit_code_2(tmp_path):
    config = tmp_path / "run.json"
    config.write_text(json.dumps({"training": {"epochs": 0}}))
    result = subprocess.run([ENGINE, "run", "--config", str(config), "--out", str(tmp_path / "out")],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert "training.epochs" in result.stderr
    event = json.loads(result.stdout.strip().splitlines()[-1])
    assert event["type"] == "failed" and "training.epochs" in event["reason"]
    assert not (tmp_path / "out").exists()


def test_cli_rejects_a_config_that_is_not_json(tmp_path):
    config = tmp_path / "run.json"
    config.write_text("{not json")
    result = subprocess.run([ENGINE, "config", "--config", str(config)], capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert "not valid JSON" in result.stderr
