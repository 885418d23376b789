"""Progress of the long commands on stderr: a tqdm bar on a terminal, a plain line every few seconds
when stderr is a file or a pipe (no carriage returns in logs), nothing with ``-q/--quiet``.

Every long command (``analyze``, ``evaluate``, ``simulate``, ``train``, ``bench``, ``batch``,
``export``) reports through ``Progress``; nothing else draws progress.
"""

from __future__ import annotations

import sys
import time
from types import TracebackType
from typing import IO

from tqdm import tqdm

PLAIN_EVERY_S = 5.0  # a redirected run writes one line per this many seconds (and a last one)


class Progress:
    """Counts work done; draws it as a bar on a terminal or as periodic lines otherwise.

    Use as a context manager (``with Progress("analyze", total=600) as bar: bar.update()``) so the
    bar is closed on every path. ``note`` prints a line that stays (above the bar on a terminal).

    Args:
        label: what is progressing, printed first on each line (usually the command's name).
        total: the number of units expected, if known.
        unit: the singular name of a unit ("frame", "clip"); plurals add an "s".
        enabled: False draws nothing and prints no notes (``-q/--quiet``).
        stream: where to write (default: ``sys.stderr`` as it is when the bar is made).
        terminal: draw a bar (True) or plain lines (False); default: whether ``stream`` is a TTY.
        every_s: seconds between plain lines (0: a line for every update).
    """

    def __init__(
        self,
        label: str,
        total: int | None = None,
        unit: str = "frame",
        *,
        enabled: bool = True,
        stream: IO[str] | None = None,
        terminal: bool | None = None,
        every_s: float = PLAIN_EVERY_S,
    ) -> None:
        self.label = label
        self.total = total if total and total > 0 else None
        self.unit = unit
        self.enabled = enabled
        self.count = 0
        self.lines = 0  # plain progress lines written
        self._lined_count = 0  # the count the last plain line showed
        self._stream = stream if stream is not None else sys.stderr
        self._every_s = every_s
        self._start = self._last = time.perf_counter()
        self._detail = ""
        self._bar: tqdm | None = None
        if enabled and (_is_tty(self._stream) if terminal is None else terminal):
            self._bar = tqdm(
                total=self.total,
                desc=label,
                unit=f" {unit}s",
                unit_scale=False,
                file=self._stream,
                dynamic_ncols=True,
                mininterval=0.2,
                leave=True,
            )

    def update(self, n: int = 1, detail: str | None = None) -> None:
        """Adds ``n`` units done; ``detail`` (e.g. the clip just written) is shown beside them."""
        self.count += n
        if detail is not None:
            self._detail = detail
        if not self.enabled:
            return
        if self._bar is not None:
            if detail is not None:
                self._bar.set_postfix_str(detail, refresh=False)
            self._bar.update(n)
            return
        now = time.perf_counter()
        if now - self._last >= self._every_s:
            self._last = now
            self._write_line()

    def set_total(self, total: int | None) -> None:
        """Sets (or corrects) the number of units expected."""
        self.total = total if total and total > 0 else None
        if self._bar is not None:
            self._bar.total = self.total
            self._bar.refresh()

    def note(self, text: str) -> None:
        """Prints a line that stays (a stage begins, an epoch's figures); silent when disabled."""
        if not self.enabled:
            return
        if self._bar is not None:
            self._bar.write(text, file=self._stream)
        else:
            self._stream.write(text + "\n")
            self._stream.flush()

    def line(self) -> str:
        """The plain progress line for the work counted so far."""
        elapsed = time.perf_counter() - self._start
        rate = self.count / elapsed if elapsed > 0 else 0.0
        units = self.unit if self.count == 1 and not self.total else f"{self.unit}s"
        done = f"{self.count}/{self.total} {units}" if self.total else f"{self.count} {units}"
        if self.total:
            done += f" ({100.0 * self.count / self.total:.0f} %)"
        parts = [f"{self.label}: {done}", f"{rate:.1f} {self.unit}s/s"]
        parts.append(f"{tqdm.format_interval(elapsed)} elapsed")
        if self.total and rate > 0 and self.count < self.total:
            parts.append(f"about {tqdm.format_interval((self.total - self.count) / rate)} left")
        if self._detail:
            parts.append(self._detail)
        return ", ".join(parts)

    def close(self) -> None:
        """Ends the bar; plain mode ends with a last line if it wrote any (a log shows the end)."""
        if self._bar is not None:
            self._bar.close()
            self._bar = None
        elif self.enabled and self.lines and self._lined_count != self.count:
            self._write_line()
        self.enabled = False

    def __enter__(self) -> Progress:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.close()

    def _write_line(self) -> None:
        self._stream.write(self.line() + "\n")
        self._stream.flush()
        self.lines += 1
        self._lined_count = self.count


def _is_tty(stream: IO[str]) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):  # no isatty, or a closed stream
        return False
