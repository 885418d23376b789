"""Checks for numbers and JSON that come from outside (options, files, models): finite, in range,
bounded nesting. One place, so every boundary refuses the same inputs with the same one line."""

from __future__ import annotations

import argparse
import json
import math
from collections.abc import Callable
from typing import Any

from usguide.errors import UsguideError

# Plausible limits for what a file or an option may claim. Wider than any real scanner, narrow
# enough that a loop, an allocation or a drawing driven by the number stays bounded.
MAX_FRAME_SIDE = 16384  # pixels per side of a frame or a model input
MIN_MM_PER_PX = 1e-4
MAX_MM_PER_PX = 10.0
MAX_FPS = 10000.0
MAX_DEPTH_MM = 2000.0
MAX_JSON_DEPTH = 64  # nesting levels of a session or results JSON document


def check_number(
    value: Any,
    what: str,
    *,
    low: float | None = None,
    high: float | None = None,
    integer: bool = False,
    open_low: bool = False,
) -> float:
    """``value`` as a finite number within ``[low, high]`` (``(low, high]`` when ``open_low``).

    Args:
        value: anything read from a file or an option (bools are not numbers here).
        what: how to name it in the error, e.g. "meta.json video.fps".
        low, high: bounds (None: unbounded).
        integer: require an integral value.
        open_low: ``low`` itself is refused (e.g. a scale must be > 0).

    Returns:
        The value as float (or int when ``integer``).

    Raises:
        UsguideError: not a number, not finite, not integral, or out of range.
    """
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        try:
            number = float(value)
        except (TypeError, ValueError):
            raise UsguideError(f"{what} is {_short(value)}, not a number") from None
    else:
        number = float(value)
    if not math.isfinite(number):
        raise UsguideError(f"{what} is {_short(value)}; it must be a finite number")
    if integer and number != int(number):
        raise UsguideError(f"{what} is {_short(value)}; it must be a whole number")
    too_low = low is not None and (number <= low if open_low else number < low)
    if too_low or (high is not None and number > high):
        left = "(" if open_low else "["
        bounds = f"{left}{_fmt(low)}, {_fmt(high)}]"
        raise UsguideError(f"{what} is {_short(value)}; it must be in {bounds}")
    return int(number) if integer else number


def number_option(
    low: float | None = None,
    high: float | None = None,
    *,
    integer: bool = False,
    open_low: bool = False,
) -> Callable[[str], float]:
    """An argparse ``type=`` that accepts finite numbers in range (a bad one: one line, exit 2)."""

    def parse(text: str) -> float:
        try:
            return check_number(
                text, "the value", low=low, high=high, integer=integer, open_low=open_low
            )
        except UsguideError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None

    parse.__name__ = "integer" if integer else "number"  # argparse names the type in errors
    return parse


def load_json(text: str, where: str) -> Any:
    """Parses a JSON document that came from a file, refusing what no usguide writer produces.

    Refused: invalid JSON, ``NaN``/``Infinity`` and numbers that overflow to infinity (``1e400``),
    and nesting deeper than ``MAX_JSON_DEPTH`` (checked before parsing, so 100,000 brackets cost
    one pass over the text, not a recursion error).

    Raises:
        UsguideError: naming ``where`` and what is wrong.
    """
    if _nesting(text) > MAX_JSON_DEPTH:
        raise UsguideError(f"{where} is nested deeper than {MAX_JSON_DEPTH} levels; it is damaged")
    try:
        return json.loads(text, parse_constant=_refuse_constant, parse_float=_finite_float)
    except (ValueError, RecursionError) as exc:
        raise UsguideError(
            f"{where} is not valid JSON ({_short(exc, 80)}); it is damaged"
        ) from None


def _nesting(text: str) -> int:
    # Brackets inside strings count too: an over-estimate only refuses absurd documents.
    if text.count("[") + text.count("{") <= MAX_JSON_DEPTH:
        return 0  # cheap exit for the common small document
    depth = deepest = 0
    for char in text:
        if char in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif char in "]}":
            depth -= 1
    return deepest


def _refuse_constant(name: str) -> float:
    raise ValueError(f"{name} is not a finite number")


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"{text[:20]} is not a finite number")
    return value


def _fmt(bound: float | None) -> str:
    return "inf" if bound is None else f"{bound:g}"


def _short(value: Any, limit: int = 40) -> str:
    text = repr(value) if not isinstance(value, Exception) else str(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."
