"""Command line: one sub-command per pipeline step, plus the whole pipeline, the gate check and the
registry's rollback."""

import argparse
import importlib
import importlib.util
import logging
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from .paths import PARAMS
from .steps import STEPS

# Components chosen at generation time add their own sub-commands (each sets `handler`).
COMPONENTS = ("serving", "monitoring")
# Failures a user can fix (bad params, bad data, missing files): one line, no traceback.
EXPECTED_ERRORS = (ValueError, OSError)


def add_component_commands(commands: argparse._SubParsersAction) -> None:
    for component in COMPONENTS:
        if importlib.util.find_spec(f"{__package__}.{component}") is not None:
            importlib.import_module(f"{__package__}.{component}.cli").add_commands(commands)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=__package__, description=__doc__)
    parser.add_argument(
        "--params", type=Path, default=PARAMS, help="parameters file (default: %(default)s)"
    )
    parser.add_argument(
        "--debug",
        action="store_true",
        default=bool(os.environ.get("DEBUG")),
        help="show the traceback of a failure (also DEBUG=1)",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    for step in STEPS:
        commands.add_parser(step.name, help=f"{step.does} (step {step.name})")
    commands.add_parser("pipeline", help="run every step in order, in this process")
    commands.add_parser(
        "gate", help="print the last promotion decision; exit 1 when it failed a threshold"
    )
    if importlib.util.find_spec(f"{__package__}.registry") is not None:
        rollback = commands.add_parser(
            "rollback", help="move the champion alias back to the champion it replaced"
        )
        rollback.add_argument("--to", help="go back to this version instead")
        rollback.add_argument("--reason", default="", help="why, kept as a version tag")
    add_component_commands(commands)
    return parser


def one_line(error: BaseException, params: Path) -> str:
    """The error as one line; a params.yaml mistake names each field, as pydantic reports it."""
    from pydantic import ValidationError  # params.py depends on it: no extra import cost

    if isinstance(error, ValidationError):
        fields = [
            f"{'.'.join(map(str, item['loc']))}: {item['msg']}"
            + (f" (got {item['input']!r})" if not isinstance(item.get("input"), dict) else "")
            for item in error.errors()
        ]
        return f"{params}: " + "; ".join(fields)
    return " ".join(str(error).split()) or type(error).__name__


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return dispatch(args)
    except EXPECTED_ERRORS as error:
        if args.debug:
            raise
        print(f"error: {one_line(error, args.params)} (--debug shows where)", file=sys.stderr)
        return 1


def roll_back(args: argparse.Namespace) -> int:
    """Move the champion back, then rewrite the model card for it (when the pipeline ran here)."""
    from .params import load_params
    from .registry import rollback
    from .steps import BY_NAME

    params = load_params(args.params)
    moved = rollback(params, args.to, args.reason)
    card = BY_NAME["card"]
    if all(path.is_file() for path in card.inputs.values()):
        card.run(params)
    print(f"{moved['model_name']}: {moved['alias']} is version {moved['to']} (was {moved['from']})")
    return 0


def dispatch(args: argparse.Namespace) -> int:
    """Run the chosen command."""
    if "handler" in args:
        return args.handler(args)
    if args.command == "gate":
        from .gate import check_gate

        return check_gate()
    if args.command == "rollback":
        return roll_back(args)
    from .pipeline import run_all, run_step

    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    if args.command == "pipeline":
        run_all(args.params)
    else:
        run_step(args.command, args.params)
    return 0
