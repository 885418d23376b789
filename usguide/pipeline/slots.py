"""A one-element, thread-safe, newest-wins slot: the only hand-over point on the frame path.

A producer never blocks and never queues: ``put`` replaces whatever is waiting (that item is dropped
    and counted), so the consumer always gets the newest item and latency cannot grow with time.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Generic, TypeVar

from usguide.types import Frame

T = TypeVar("T")


@dataclass(slots=True)
class CapturedFrame:
    """What the pipeline's frame slot holds: a frame and the generation of the source it came
    from (a frame of a replaced source is analysed but not shown)."""

    generation: int
    frame: Frame


class LatestSlot(Generic[T]):
    """Holds at most one item; ``put`` overwrites, ``get`` takes the newest item exactly once.

    Attributes:
        drops: how many items were overwritten before anyone took them.
        puts: how many items were put.
    """

    def __init__(self) -> None:
        self._cond = threading.Condition(threading.Lock())
        self._item: T | None = None
        self._full = False
        self._closed = False
        self.drops = 0
        self.puts = 0

    def put(self, item: T) -> T | None:
        """Stores ``item`` as the newest one and wakes a waiting ``get``.

        Returns: The item that was waiting and is now dropped (counted in ``drops``), or None.
        """
        with self._cond:
            replaced = self._item if self._full else None
            if self._full:
                self.drops += 1
            self._item = item
            self._full = True
            self.puts += 1
            self._cond.notify()
        return replaced

    def get(self, timeout: float | None = None) -> T | None:
        """Takes the newest item, waiting up to ``timeout`` seconds (None: wait until one arrives).

        Returns: The item, or None when the timeout passed or the slot was closed with nothing in
            it.
        """
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._cond:
            while not self._full and not self._closed:
                if deadline is None:
                    self._cond.wait()
                else:
                    remaining = deadline - time.monotonic()
                    if remaining <= 0:
                        return None
                    self._cond.wait(remaining)
            return self._take()

    def get_nowait(self) -> T | None:
        """Takes the newest item if there is one, else returns None at once."""
        with self._cond:
            return self._take()

    def clear(self) -> T | None:
        """Empties the slot without counting a drop; returns what was in it."""
        with self._cond:
            return self._take()

    def close(self) -> None:
        """Wakes every waiting ``get`` (they return None when the slot is empty)."""
        with self._cond:
            self._closed = True
            self._cond.notify_all()

    def reopen(self) -> None:
        """Undoes ``close`` so the slot can be used again."""
        with self._cond:
            self._closed = False

    @property
    def empty(self) -> bool:
        with self._cond:
            return not self._full

    def _take(self) -> T | None:
        if not self._full:
            return None
        item, self._item, self._full = self._item, None, False
        return item
