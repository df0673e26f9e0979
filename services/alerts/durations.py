"""Prometheus-style durations: `30s`, `5m`, `1h30m`, `4h`, `1d`, `1w`."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Annotated, Any

from pydantic import BeforeValidator

_PART = re.compile(r"(\d+)(ms|s|m|h|d|w)")
_UNITS = {
    "ms": timedelta(milliseconds=1),
    "s": timedelta(seconds=1),
    "m": timedelta(minutes=1),
    "h": timedelta(hours=1),
    "d": timedelta(days=1),
    "w": timedelta(weeks=1),
}
MAX_DURATION = timedelta(days=366)


class BadDuration(ValueError):
    """Not a duration like 30s, 5m, 1h30m, 2d."""


def parse_duration(text: str) -> timedelta:
    """`1h30m` -> 90 minutes. Raises `BadDuration` for anything else (or zero, or > 366 d)."""
    raw = text.strip().lower()
    if not raw:
        raise BadDuration(text)
    pos = 0
    total = timedelta()
    for match in _PART.finditer(raw):
        if match.start() != pos:
            raise BadDuration(text)
        total += int(match[1]) * _UNITS[match[2]]
        pos = match.end()
    if pos != len(raw) or total <= timedelta() or total > MAX_DURATION:
        raise BadDuration(text)
    return total


def format_duration(value: timedelta) -> str:
    """90 minutes -> `1h30m`; the inverse of `parse_duration` for whole seconds."""
    seconds = int(value.total_seconds())
    if seconds <= 0:
        return "0s"
    parts: list[str] = []
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        count, seconds = divmod(seconds, size)
        if count:
            parts.append(f"{count}{unit}")
    return "".join(parts)


def _duration(value: Any) -> Any:
    if isinstance(value, str):
        return parse_duration(value) if value.strip() not in ("0", "0s") else timedelta()
    if isinstance(value, int | float):
        return timedelta(seconds=value)
    return value


Duration = Annotated[timedelta, BeforeValidator(_duration)]
"""A pydantic field type: `5m`, `0`, or a number of seconds."""
