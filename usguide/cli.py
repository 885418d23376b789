"""Command-line entry point: wires the subcommands and turns user errors into one line.

Each subcommand lives in ``usguide/commands/<name>.py`` with ``add_parser(subparsers)`` and
``run(args) -> int``; this module only dispatches.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from pathlib import Path

from usguide.errors import UsguideError
from usguide.logs import configure_logging

# Order is the order shown in --help.
COMMANDS = (
    "run",
    "analyze",
    "batch",
    "bench",
    "probe",
    "devices",
    "record",
    "session",
    "report",
    "export",
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


class _VersionAction(argparse.Action):
    """``--version``: the package and default-model versions, read only when asked for."""

    def __init__(self, option_strings: list[str], dest: str = argparse.SUPPRESS, **kwargs) -> None:
        kwargs.setdefault("help", "show the usguide version and the default model's, then exit")
        super().__init__(option_strings, dest=dest, default=argparse.SUPPRESS, nargs=0, **kwargs)

    def __call__(self, parser, namespace, values, option_string=None) -> None:  # noqa: ANN001
        from usguide.about import version_text

        sys.stdout.write(version_text() + "\n")
        parser.exit()


def _add_global_options(parser: argparse.ArgumentParser, *, top_level: bool) -> None:
    """``-v`` and ``--log-file``, accepted before the command and after it (``usguide run -v``)."""
    # A subcommand's defaults would overwrite values given before the command: it sets none.
    unset = {} if top_level else {"default": argparse.SUPPRESS}
    parser.add_argument(
        "-v",
        "--verbose",
        action="count",
        **(unset or {"default": 0}),
        help="more messages on stderr: -v info, -vv debug with tracebacks (default: warnings only)",
    )
    parser.add_argument(
        "--log-file",
        metavar="PATH",
        type=Path,
        **(unset or {"default": None}),
        help="also append timestamped messages (info and up) to PATH",
    )


def build_parser() -> argparse.ArgumentParser:
    """Builds the parser with every available subcommand."""
    parser = _Parser(prog="usguide", description="Real-time ultrasound needle guidance.")
    parser.add_argument("--version", action=_VersionAction)
    _add_global_options(parser, top_level=True)
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for name in COMMANDS:
        try:
            module = importlib.import_module(f"usguide.commands.{name}")
        except ModuleNotFoundError as exc:
            if exc.name == f"usguide.commands.{name}":
                continue  # command not built yet
            raise
        module.add_parser(subparsers)
    for command_parser in {id(p): p for p in subparsers.choices.values()}.values():
        try:
            _add_global_options(command_parser, top_level=False)
        except argparse.ArgumentError:
            pass  # the command has its own -v or --log-file: the global one goes before the command
    return parser


def main(argv: list[str] | None = None) -> int:
    """Runs the CLI; returns the process exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        configure_logging(args.verbose, args.log_file)
        return int(args.func(args) or 0)
    except UsguideError as exc:
        sys.stderr.write(f"usguide: error: {exc}\n")
        return UsguideError.exit_code
    except KeyboardInterrupt:
        sys.stderr.write("usguide: interrupted\n")
        return 130


if __name__ == "__main__":
    raise SystemExit(main())
