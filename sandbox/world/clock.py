"""The demo clock: real time, optionally running faster so an escalation tree plays in minutes.

It satisfies the bot's `Clock` protocol (`now()` -> aware UTC datetime) without importing it.
Changing the speed never makes time jump or run backwards; the offset from real time is
saved with the world, so a restart does not move the demo back before what it already stored.
`shown_in` tells the world panel which zone the bot writes its times in.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

MAX_SPEED = 600.0


class DemoClock:
    def __init__(self, *, offset_s: float = 0.0, real: Callable[[], float] = time.time) -> None:
        self._real = real
        self._anchor_real = real()
        self._anchor_demo = self._anchor_real + offset_s
        self.speed = 1.0

    def timestamp(self) -> float:
        return self._anchor_demo + (self._real() - self._anchor_real) * self.speed

    def now(self) -> datetime:
        return datetime.fromtimestamp(self.timestamp(), UTC)

    @property
    def offset_s(self) -> float:
        """How far the demo is ahead of real time."""
        return self.timestamp() - self._real()

    def set_speed(self, speed: float) -> None:
        if not 1.0 <= speed <= MAX_SPEED:
            raise ValueError(f"speed must be between 1 and {MAX_SPEED:g}")
        self._anchor_demo = self.timestamp()
        self._anchor_real = self._real()
        self.speed = speed

    def jump(self, delta: timedelta) -> None:
        """Move the demo forward (never back)."""
        if delta < timedelta(0):
            raise ValueError("the demo clock only moves forward")
        self._anchor_demo += delta.total_seconds()

    def real_seconds(self, demo_seconds: float) -> float:
        """How long to wait in real time for `demo_seconds` of demo time to pass."""
        return demo_seconds / self.speed


def shown_in(at: datetime, timezone: str) -> dict[str, str]:
    """The zone the bot shows `at` in (its TIMEZONE) and that zone's abbreviation then, as the
    bot writes it after a time (`2026-12-01 19:20 WIB`): the page formats the rest itself."""
    local = at.astimezone(ZoneInfo(timezone))
    return {"timezone": timezone, "zone": local.tzname() or timezone}
