"""Command-line entry point: wires the subcommands and turns user errors into one line.

Each subcommand lives in ``usguide/commands/<name>.py`` with ``add_parser(subparsers)`` and
``run(args) -> int``; this module only dispatches.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
import traceback
from pathlib import Path

from usguide.errors import RuntimeFailure, UsguideError
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
    "config",
)


EPILOG = """\
examples:
  usguide run                               the guidance display on the demo recording
  usguide analyze clip.mp4 --out a.jsonl    every frame of a clip -> one JSON line per frame
  usguide COMMAND --help                    a command's options, defaults and examples

exit codes:
  0  success
  1  runtime failure: a device lost mid-run, a failed batch input, an unexpected crash
     (one line; -v shows the traceback)
  2  usage or input error: a bad option, a missing or damaged file, an absent device,
     a bad model, an unwritable folder (one line saying what to do)
"""


class _HelpFormatter(argparse.HelpFormatter):
    """Shows each option's default, and keeps the line breaks of epilogs (the examples).

    An option whose help already says its default (or whose default is None or a flag's False,
    where the real default is worked out at run time and the help must say it) is left alone.
    """

    def _get_help_string(self, action: argparse.Action) -> str:
        text = action.help or ""
        default = action.default
        if (
            "default" in text
            or not action.option_strings
            or default in (None, False, True, argparse.SUPPRESS)
            or default == []
            or action.nargs == 0
        ):
            return text
        return f"{text} (default: %(default)s)"

    def _fill_text(self, text: str, width: int, indent: str) -> str:
        # A paragraph without line breaks (a description) is wrapped as argparse does; text with
        # line breaks (an epilog with examples) keeps them.
        if "\n" not in text.strip():
            return super()._fill_text(text, width, indent)
        return "\n".join(indent + line for line in text.rstrip().splitlines())


class _Parser(argparse.ArgumentParser):
    """argparse that prints one line and exits with code 2 on a bad option."""

    def __init__(self, *args, **kwargs) -> None:  # noqa: ANN002, ANN003 - argparse API
        kwargs.setdefault("formatter_class", _HelpFormatter)
        super().__init__(*args, **kwargs)

    def error(self, message: str) -> None:  # noqa: D102 - argparse API
        sys.stderr.write(f"usguide: error: {message} (see {self.prog} --help)\n")
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
    """``-v``, ``-q`` and ``--log-file``, before the command or after it (``usguide run -v``)."""
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
        "-q",
        "--quiet",
        action="store_true",
        **(unset or {"default": False}),
        help="no progress bars or progress lines (warnings and errors are still shown)",
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
    parser = _Parser(
        prog="usguide", description="Real-time ultrasound needle guidance.", epilog=EPILOG
    )
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
    except UsguideError as exc:  # bad input (2) or a runtime failure usguide recognised (1)
        sys.stderr.write(f"usguide: error: {exc}\n")
        return exc.exit_code
    except KeyboardInterrupt:
        sys.stderr.write("usguide: interrupted\n")
        return 130
    except BrokenPipeError:
        # The reader went away (`usguide evaluate --line-probe | head`): not a failure worth a
        # message. Point stdout at devnull so the interpreter's final flush cannot fail again.
        try:
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        except (OSError, ValueError):  # no real stdout (captured, closed): nothing to flush
            pass
        return 141  # 128 + SIGPIPE, as a shell tool killed by the broken pipe would end
    except Exception as exc:  # noqa: BLE001 - a crash: one line, exit 1, the traceback with -v
        return _crashed(exc, args.verbose)


def _crashed(error: Exception, verbose: int) -> int:
    """Reports an unexpected failure in one line (with the traceback first under ``-v``)."""
    if verbose:
        traceback.print_exc(file=sys.stderr)
    detail = " ".join(str(error).split())[:200]
    what = f"{type(error).__name__}: {detail}" if detail else type(error).__name__
    hint = "" if verbose else "; run again with -v for the traceback"
    sys.stderr.write(f"usguide: error: unexpected failure ({what}){hint} — please report it\n")
    return RuntimeFailure.exit_code


if __name__ == "__main__":
    raise SystemExit(main())
