"""Consumer callbacks of the pipeline: registered from any thread, called without a lock held."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Generic, TypeVar

T = TypeVar("T")


class Subscribers(Generic[T]):
    """A set of callbacks that a producer thread calls with each item.

    The callbacks live in an immutable tuple that is replaced on (un)subscribe, so ``emit`` reads it
    without a lock and a callback may unsubscribe itself while being called.

    Args:
        on_error: called with a one-line message when a callback raises; the other callbacks
            still run (a broken consumer must not stop the pipeline).
    """

    def __init__(self, on_error: Callable[[str], None]) -> None:
        self._callbacks: tuple[Callable[[T], None], ...] = ()
        self._lock = threading.Lock()
        self._on_error = on_error

    def add(self, callback: Callable[[T], None]) -> Callable[[], None]:
        """Registers ``callback``; returns a function that unregisters it."""
        with self._lock:
            self._callbacks = (*self._callbacks, callback)
        return lambda: self._remove(callback)

    def emit(self, item: T) -> None:
        for callback in self._callbacks:
            try:
                callback(item)
            except Exception as exc:
                self._on_error(f"subscriber {callback!r} failed: {exc}")

    def _remove(self, callback: Callable[[T], None]) -> None:
        with self._lock:
            self._callbacks = tuple(cb for cb in self._callbacks if cb is not callback)
