"""certprune-engine config: validate a configuration, print it filled in, with its run id."""
from __future__ import annotations

import json
import sys

from certprune.protocol import ConfigError, load_config, run_id


def add_arguments(parser) -> None:
    parser.add_argument("--config", required=True, help="run configuration (JSON file)")


def main(args) -> int:
    try:
        config = load_config(args.config)
    except ConfigError as e:
        print(f"error: invalid configuration: {e}", file=sys.stderr)
        return 2
    print(json.dumps({"runId": run_id(config), "config": config}, indent=2))
    return 0
