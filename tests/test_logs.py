"""Logging options: warnings on stderr one line each, -v for info, --log-file; bad file: exit 2."""

from __future__ import annotations

import logging

import pytest

from usguide.cli import main
from usguide.commands import devices
from usguide.logs import configure_logging

log = logging.getLogger("usguide.commands.devices")


@pytest.fixture(autouse=True)
def reset_logging():
    yield
    configure_logging()  # closes a log file a test opened


@pytest.fixture
def chatty(monkeypatch):
    """``usguide devices`` that logs one message of each level and an exception."""

    def listing():
        log.debug("debug detail")
        log.info("probing devices")
        log.warning("device 3 did not answer\nretrying")
        try:
            raise OSError("unplugged")
        except OSError:
            log.exception("reconnect failed")
        return []

    monkeypatch.setattr(devices, "list_devices", listing)


def test_warnings_shown_by_default_one_line_each(chatty, capsys):
    assert main(["devices"]) == 0
    err = capsys.readouterr().err.splitlines()
    assert err == [
        "usguide: warning: device 3 did not answer retrying",
        "usguide: error: reconnect failed (OSError: unplugged)",
    ]


def test_verbose_before_or_after_the_command(chatty, capsys):
    assert main(["-v", "devices"]) == 0
    err = capsys.readouterr().err
    assert "usguide: info: probing devices" in err and "debug detail" not in err
    assert main(["devices", "-vv"]) == 0
    err = capsys.readouterr().err
    assert "usguide: debug: debug detail" in err
    assert "Traceback" in err  # -vv: tracebacks for engineers


def test_log_file_gets_info_with_times(chatty, capsys, tmp_path):
    path = tmp_path / "usguide.log"
    assert main(["devices", "--log-file", str(path)]) == 0
    assert "probing devices" not in capsys.readouterr().err
    lines = path.read_text().splitlines()
    assert any(
        " INFO usguide.commands.devices " in line and "probing devices" in line for line in lines
    )
    assert "debug detail" not in path.read_text()


def test_unwritable_log_file_is_a_one_line_error(capsys, tmp_path):
    assert main(["--log-file", str(tmp_path / "absent" / "x.log"), "devices", "--json"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("usguide: error: cannot write the log file") and err.count("\n") == 1
