"""The engine's registries as data: engine/schemas/registry.json, for the dashboard.

    .venv/bin/python -m certprune.describe > engine/schemas/registry.json    (`npm run schemas` runs this)

One direction, no copies: the records in train/regimes/, train/regularizers.py,
pruning/registry.py and models.py are the source; this file writes their facts as JSON;
scripts/export-schemas.ts turns that JSON into lib/protocol/generated.ts (method lists,
structured methods, default rates, regimes with labels and help), which
lib/protocol/names.ts re-exports and config.ts builds its enums from. Tests on both sides
fail when a generated file is stale (engine/tests/test_registry.py,
lib/protocol/generated.test.ts).
"""
from __future__ import annotations

import json
import sys

COMMENT = ("Generated from the engine's registries by `npm run schemas` (python -m certprune.describe); "
           "do not edit. lib/protocol/generated.ts is generated from this file.")


def describe() -> dict:
    from .models import ARCHITECTURES
    from .pruning.method import UNITS
    from .pruning.registry import METHODS, PAPER_METHODS
    from .train.regimes import REGIMES
    from .train.regularizers import REGULARIZERS
    return {
        "$comment": COMMENT,
        "regimes": [regime.describe() for regime in REGIMES.values()],
        "regularizers": [{"name": r.name, "help": r.help, "stability": r.stability} for r in REGULARIZERS.values()],
        "pruningMethods": [method.describe() for method in METHODS.values()],
        "defaultRates": dict(UNITS),
        "paperMethods": [{"label": label, "method": method, "regularizer": regularizer}
                         for label, method, regularizer in PAPER_METHODS],
        "architectures": [{"name": a.name, "help": a.help} for a in ARCHITECTURES.values()],
    }


def render() -> str:
    return json.dumps(describe(), indent=2, ensure_ascii=False) + "\n"


if __name__ == "__main__":
    sys.stdout.write(render())
