"""certprune-engine: the engine's command line.

    certprune-engine run --config run.json --out DIR
    certprune-engine verify --onnx M.onnx --vnnlib P.vnnlib --timeout 60
    certprune-engine verify --batch instances.csv --results-dir DIR
    certprune-engine bounds --onnx M.onnx --vnnlib P.vnnlib --method crown
    certprune-engine export --run DIR --round K --out BUNDLE
    certprune-engine config --config run.json     (print the full config and its run id)

Each subcommand lives in certprune/commands/<name>.py with add_arguments() and main();
only the chosen one is imported.
"""
from __future__ import annotations

import argparse
import importlib
import sys

COMMANDS = {
    "run": "Run one experiment: train, prune and verify round by round; events on stdout.",
    "verify": "Verify a VNN-COMP instance (ONNX model + VNNLIB property), or an instances.csv with --batch.",
    "bounds": "Print output and per-layer bounds of an ONNX model on a VNNLIB input box.",
    "export": "Export a trained round as ONNX + VNNLIB + instances.csv.",
    "config": "Validate a run configuration; print it with defaults filled and its run id.",
}


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The parser; only ``command``'s module is imported (all of them when None), so that
    a command starts without loading what the others need (jsonschema, training code)."""
    parser = argparse.ArgumentParser(prog="certprune-engine", description="CertPrune engine")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    for name, help_text in COMMANDS.items():
        if command is not None and name != command:
            sub.add_parser(name, help=help_text, description=help_text)  # listed in --help, not loaded
            continue
        try:
            module = importlib.import_module(f"certprune.commands.{name}")
        except ModuleNotFoundError as e:
            if e.name != f"certprune.commands.{name}":
                raise
            continue  # a command whose module is not part of this build
        command_parser = sub.add_parser(name, help=help_text, description=help_text)
        module.add_arguments(command_parser)
        command_parser.set_defaults(handler=module.main)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    command = next((a for a in argv if not a.startswith("-")), None)
    args = build_parser(command if command in COMMANDS else None).parse_args(argv)
    return int(args.handler(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
