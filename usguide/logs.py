"""Logging set-up for the command line, done once at start-up by ``usguide.cli.main``.

Warnings and errors reach stderr by default, one line each (``usguide: warning: …``); ``-v``
adds info, ``-vv`` debug with tracebacks; ``--log-file`` also appends timestamped records (info
and up) to a file.
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path

from usguide.errors import UsguideError

LOGGER = "usguide"  # every module logs under it: logging.getLogger(__name__)


def level_for(verbosity: int) -> int:
    """0 → WARNING, 1 → INFO, 2 or more → DEBUG."""
    if verbosity <= 0:
        return logging.WARNING
    return logging.INFO if verbosity == 1 else logging.DEBUG


class _StderrHandler(logging.StreamHandler):
    """Writes to whatever ``sys.stderr`` is now (test captures and redirects swap it)."""

    def __init__(self) -> None:
        logging.Handler.__init__(self)

    @property
    def stream(self):  # noqa: ANN201 - the current sys.stderr
        return sys.stderr

    @stream.setter
    def stream(self, _value) -> None:  # noqa: ANN001 - StreamHandler API; the stream is always stderr
        pass


class OneLineFormatter(logging.Formatter):
    """``usguide: warning: message``, one line; an exception adds ``(Type: message)``."""

    def __init__(self, tracebacks: bool = False) -> None:
        super().__init__()
        self.tracebacks = tracebacks

    def format(self, record: logging.LogRecord) -> str:
        message = " ".join(record.getMessage().splitlines())
        line = f"usguide: {record.levelname.lower()}: {message}"
        if record.exc_info and record.exc_info[1] is not None:
            if self.tracebacks:
                return f"{line}\n{self.formatException(record.exc_info).rstrip()}"
            error = record.exc_info[1]
            detail = " ".join(str(error).splitlines())
            name = type(error).__name__
            line += f" ({name}: {detail})" if detail else f" ({name})"
        return line


def configure_logging(verbosity: int = 0, log_file: Path | None = None) -> None:
    """Sets up the ``usguide`` loggers; calling it again replaces the previous set-up.

    Args:
        verbosity: 0 warnings only, 1 info, 2 or more debug (stderr; tracebacks from 2).
        log_file: also append records at info level or more detailed to this file.

    Raises:
        UsguideError: the log file cannot be opened for writing.
    """
    logger = logging.getLogger(LOGGER)
    for handler in [h for h in logger.handlers if getattr(h, "_usguide", False)]:
        logger.removeHandler(handler)
        handler.close()

    level = level_for(verbosity)
    console = _StderrHandler()
    console.setLevel(level)
    console.setFormatter(OneLineFormatter(tracebacks=level <= logging.DEBUG))
    handlers: list[logging.Handler] = [console]
    if log_file is not None:
        path = Path(log_file).expanduser()
        try:
            file_handler = logging.FileHandler(path, mode="a", encoding="utf-8")
        except OSError as exc:
            raise UsguideError(
                f"cannot write the log file {path}: {exc.strerror or exc} — choose a writable path"
            ) from None
        file_handler.setLevel(min(level, logging.INFO))
        file_handler.setFormatter(
            logging.Formatter("%(asctime)s %(levelname)s %(name)s [%(threadName)s] %(message)s")
        )
        handlers.append(file_handler)
    for handler in handlers:
        handler._usguide = True  # type: ignore[attr-defined]  # marks ours for the next call
        logger.addHandler(handler)
    logger.setLevel(min(h.level for h in handlers))
