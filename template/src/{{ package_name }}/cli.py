"""Command line: one sub-command per pipeline step, plus the whole pipeline and the gate check."""

import argparse
from collections.abc import Sequence
from pathlib import Path

from .evaluate import check_gate
from .paths import PARAMS
from .pipeline import STEPS, run_all, run_step


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=__package__, description=__doc__)
    parser.add_argument(
        "--params", type=Path, default=PARAMS, help="parameters file (default: %(default)s)"
    )
    commands = parser.add_subparsers(dest="command", required=True)
    for name in STEPS:
        commands.add_parser(name, help=f"run the {name} step")
    commands.add_parser("pipeline", help="run every step in order, in this process")
    commands.add_parser("gate", help="exit 1 when the last evaluation failed the promotion gate")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command == "pipeline":
        run_all(args.params)
    elif args.command == "gate":
        return check_gate()
    else:
        run_step(args.command, args.params)
    return 0
