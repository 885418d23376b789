"""Command-line entry point: wires the subcommands and turns user errors into one line.

Each subcommand lives in ``usguide/commands/<name>.py`` with ``add_parser(subparsers)`` and
``run(args) -> int``; this module only dispatches.
"""

from __future__ import annotations

import argparse
import importlib
import sys

from usguide import __version__
from usguide.errors import UsguideError

# Order is the order shown in --help.
COMMANDS = (
    "run",
    "analyze",
    "bench",
    "probe",
    "devices",
    "record",
    "simulate",
    "evaluate",
    "label",
    "train",
)


class _Parser(argparse.ArgumentParser):
    """argparse that prints one line and exits with code 2 on a bad option."""

    def error(self, message: str) -> None:  # noqa: D102 - argparse API
        command = self.prog.split()[-1]
        sys.stderr.write(f"usguide: error: {message} (see usguide {command} --help)\n")
        raise SystemExit(2)


def build_parser() -> argparse.ArgumentParser:
    """Builds the parser with every available subcommand."""
    parser = _Parser(prog="usguide", description="Real-time ultrasound needle guidance.")
    parser.add_argument("--version", action="version", version=f"usguide {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for name in COMMANDS:
        try:
            module = importlib.import_module(f"usguide.commands.{name}")
        except ModuleNotFoundError as exc:
            if exc.name == f"usguide.commands.{name}":
                continue  # command not built yet
            raise
        module.add_parser(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Runs the CLI; returns the process exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        return int(args.func(args) or 0)
    except UsguideError as exc:
        sys.stderr.write(f"usguide: error: {exc}\n")
        return UsguideError.exit_code
    except KeyboardInterrupt:
        sys.stderr.write("usguide: interrupted\n")
        return 130


if __name__ == "__main__":
    raise SystemExit(main())
