"""The CLI's own contract: version, help, bad option → one line and exit code 2, a runtime failure
or a crash → one line and exit code 1; every option has help and every command an example."""

import argparse
import subprocess
import sys

import pytest

from usguide import __version__
from usguide.cli import build_parser, main
from usguide.paths import default_model_path


def test_version(capsys, monkeypatch, tmp_path):
    with pytest.raises(SystemExit) as exit_info:
        main(["--version"])
    assert exit_info.value.code == 0
    version, model = capsys.readouterr().out.splitlines()
    assert version == f"usguide {__version__}"
    assert model.startswith(f"model: {default_model_path()} (")
    assert "usguide-needle-v1, written by usguide" in model and "sha256 " in model
    monkeypatch.setenv("USGUIDE_MODEL", str(tmp_path / "absent.onnx"))
    with pytest.raises(SystemExit):
        main(["--version"])
    assert capsys.readouterr().out.splitlines()[1].startswith("model: not found (")


def test_no_command_exits_2(capsys):
    assert main([]) == 2


def test_bad_option_is_one_line_exit_2():
    proc = subprocess.run(
        [sys.executable, "-m", "usguide", "--no-such-option"], capture_output=True, text=True
    )
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr


def _all_parsers(parser, name="usguide"):
    """Every parser below the top one: (name, parser), sub-subcommands (session show) included."""
    found = []
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for command, child in action.choices.items():
                found.append((f"{name} {command}", child))
                found.extend(_all_parsers(child, f"{name} {command}"))
    return found


def test_every_option_has_help_and_every_command_an_example():
    parser = build_parser()
    parsers = _all_parsers(parser)
    assert len(parsers) >= 14
    assert "usguide analyze" in (parser.epilog or "")
    for name, child in parsers:
        assert child.description, f"{name} has no description"
        assert child.epilog and f"{name} " in child.epilog, f"{name}: no example in its epilog"
        for action in child._actions:
            if isinstance(action, (argparse._HelpAction, argparse._SubParsersAction)):
                continue
            label = action.option_strings or [action.dest]
            assert action.help and action.help.strip(), f"{name} {label[0]} has no help"
        text = child.format_help()
        assert "default: None" not in text, f"{name} shows 'default: None'"


def test_help_shows_real_defaults_and_exit_codes(capsys):
    with pytest.raises(SystemExit):
        main(["--help"])
    top = capsys.readouterr().out
    assert "exit codes:" in top and "1  runtime failure" in top and "2  usage or input" in top
    with pytest.raises(SystemExit):
        main(["evaluate", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "--tolerance-mm MM" in text and "(default 3.0" in text
    assert "both when a model is found" in text


def test_unknown_command_names_usguide_help_once(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["no-such-command"])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.rstrip().endswith("(see usguide --help)")
    with pytest.raises(SystemExit):
        main(["analyze", "--threads", "-1", "demo", "--out", "x.jsonl"])
    err = capsys.readouterr().err
    assert "--threads" in err and "(see usguide analyze --help)" in err


def test_crash_is_one_line_exit_1_and_traceback_with_verbose(monkeypatch, capsys):
    from usguide.commands import probe

    def boom(args):
        raise ZeroDivisionError("division by zero")

    monkeypatch.setattr(probe, "run", boom)
    assert main(["probe", "demo"]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert err.startswith(
        "usguide: error: unexpected failure (ZeroDivisionError: division by zero)"
    )
    assert main(["probe", "demo", "-v"]) == 1
    err = capsys.readouterr().err
    assert "Traceback (most recent call last)" in err and err.count("\n") > 2


def test_runtime_failure_exits_1_input_error_2(monkeypatch, capsys):
    from usguide.commands import probe
    from usguide.errors import RuntimeFailure, UsguideError

    for error, code in ((RuntimeFailure("device lost"), 1), (UsguideError("no such file"), 2)):

        def fail(args, error=error):
            raise error

        monkeypatch.setattr(probe, "run", fail)
        assert main(["probe", "demo"]) == code
        assert capsys.readouterr().err == f"usguide: error: {error}\n"


def test_a_reader_that_goes_away_ends_quietly_with_141(monkeypatch, capsys):
    from usguide.commands import probe

    def closed(args):
        raise BrokenPipeError(32, "Broken pipe")

    monkeypatch.setattr(probe, "run", closed)
    assert main(["probe", "demo"]) == 141
    assert capsys.readouterr().err == ""
