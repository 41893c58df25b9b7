"""The registries (regimes, regularisers, pruning methods, architectures) are the one source
of the names and facts the dashboard shows: engine/schemas/registry.json must be what they
describe, and the run-config schema's enums must list them (`npm run schemas` regenerates both)."""
import json
import os

import pytest

from certprune import describe
from certprune.models import ARCHITECTURES
from certprune.protocol import default_config, schema
from certprune.pruning import METHODS, default_rate, get_method, is_channel_method
from certprune.train import REGIMES, REGULARIZERS, TrainingSettings, get_regime
from certprune.train.settings import _camel

SCHEMAS = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "schemas")


def _enum(group: str, key: str) -> list:
    node = schema("run-config")["properties"][group]["properties"][key]
    return node["enum"]


def test_registry_json_is_what_the_registries_describe():
    with open(os.path.join(SCHEMAS, "registry.json"), encoding="utf-8") as f:
        on_disk = f.read()
    assert on_disk == describe.render(), "engine/schemas/registry.json is stale: run npm run schemas"


def test_the_config_schema_lists_every_registered_name_in_order():
    assert _enum("training", "regime") == list(REGIMES)
    assert _enum("training", "regularizer") == list(REGULARIZERS)
    assert _enum("pruning", "method") == ["none", *METHODS]
    assert _enum("model", "arch") == [*ARCHITECTURES, "onnx"]


def test_method_facts_come_from_their_records():
    assert {name for name in METHODS if is_channel_method(name)} == {"struct-lth", "slim", "nrs-channel"}
    assert {name: default_rate(name) for name in METHODS} == {
        name: (0.11 if name in ("struct-lth", "slim", "nrs-channel") else 0.2) for name in METHODS}
    assert get_method("snip").needs == {"batches", "loss", "init_state"}
    assert get_method("imp").needs == frozenset() and not get_method("imp").structured
    described = {m["name"]: m for m in describe.describe()["pruningMethods"]}
    assert described["slim"] == {"name": "slim", "label": "Slim", "help": get_method("slim").help, "unit": "channels",
                                 "structured": True, "defaultRate": 0.11, "needs": []}
    with pytest.raises(ValueError, match="unknown pruning method 'magnitude'"):
        get_method("magnitude")


def test_regime_facts_come_from_their_records():
    assert [get_regime(n).certified for n in REGIMES] == [False, False, True, True, True, True]
    assert [get_regime(n).robust_accuracy for n in REGIMES] == [False, True, True, True, True, True]
    assert get_regime("fgsm").checkpoint.metric == "fgsmTestAccuracy"
    assert [get_regime(n).hydra_lr for n in REGIMES] == [0.01, 0.01, 0.001, 0.001, 0.001, 0.001]
    with pytest.raises(ValueError, match="training.regime must be one of natural, fgsm, ibp, crown-ibp"):
        get_regime("pgd")


def test_training_defaults_are_the_schemas():
    """No second copy of a default: every non-null training default is the schema's."""
    training = default_config()["training"]
    settings = TrainingSettings.from_config({})
    for field, value in vars(settings).items():
        key = _camel(field)
        if training.get(key) is not None:
            assert value == training[key], key
    direct = TrainingSettings()
    assert direct.to_dict() == settings.to_dict()


def test_training_defaults_follow_the_schema_when_it_changes(monkeypatch):
    """Proof that the schema is read, not copied: a changed schema default changes the settings."""
    import certprune.train.settings as settings_module
    changed = json.loads(json.dumps(default_config()))
    changed["training"].update(epochs=7, gradClip=3)
    monkeypatch.setattr(settings_module, "_schema_defaults", lambda: changed)
    settings = TrainingSettings.from_config({"regime": "natural"})
    assert (settings.epochs, settings.grad_clip, settings.lr_milestones) == (7, 3.0, [5, 6])
