"""Moments as people type them in the chat, read in TIMEZONE: `2026-12-01 18:00`,
`tue 18:00` / `selasa 18:00`, `tomorrow 09:00` / `besok 09:00`, `18:00`, `now`, `+12h`.

A day name or a bare time means its next occurrence at or after the base instant (for the end of
a cover, the base is its start: `tue 18:00 09:00` runs overnight to Wednesday 09:00)."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from services.oncall.model import DAY_ALIASES, SpecError, parse_clock

_DATE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")
_STAMP = re.compile(r"^(\d{4}-\d{2}-\d{2})[Tt_](\d{1,2}[:.]\d{2})$")
_SPAN = re.compile(r"^\+?(\d{1,4})(m|h|d)$")
TODAY = {"today", "hariini", "hari-ini"}
TOMORROW = {"tomorrow", "besok"}
NOW = {"now", "sekarang"}
UNITS = {"m": "minutes", "h": "hours", "d": "days"}
MAX_AHEAD = timedelta(days=366)


class MomentError(SpecError):
    pass


def _clock_word(words: list[str], index: int) -> time | None:
    if index < len(words):
        try:
            return parse_clock(words[index])
        except SpecError:
            return None
    return None


def _at(day: date, moment: time, tz: ZoneInfo) -> datetime:
    return datetime.combine(day, moment, tz).astimezone(UTC)


def parse_moment(words: list[str], base: datetime, tz: ZoneInfo) -> tuple[datetime, int]:
    """The moment at the start of `words` and how many words it took; MomentError if none."""
    if not words:
        raise MomentError("bad_moment", "")
    first = words[0].strip().lower()
    local = base.astimezone(tz)
    if first in NOW:
        return base, 1
    if span := _SPAN.match(first):
        amount = timedelta(**{UNITS[span.group(2)]: int(span.group(1))})
        if amount > MAX_AHEAD:
            raise MomentError("bad_moment", first)
        return base + amount, 1
    if stamp := _STAMP.match(first):
        try:
            day = date.fromisoformat(stamp.group(1))
        except ValueError:
            raise MomentError("bad_moment", first) from None
        return _at(day, parse_clock(stamp.group(2)), tz), 1
    if found := _DATE.match(first):
        try:
            day = date(int(found.group(1)), int(found.group(2)), int(found.group(3)))
        except ValueError:
            raise MomentError("bad_moment", first) from None
        clock = _clock_word(words, 1)
        return _at(day, clock or time(0, 0), tz), 2 if clock else 1
    if first in TODAY or first in TOMORROW:
        clock = _clock_word(words, 1) or time(0, 0)
        day = local.date() + timedelta(days=1 if first in TOMORROW else 0)
        return _at(day, clock, tz), 2 if _clock_word(words, 1) else 1
    if first in DAY_ALIASES:
        clock = _clock_word(words, 1) or time(0, 0)
        ahead = (DAY_ALIASES[first] - local.weekday()) % 7
        moment = _at(local.date() + timedelta(days=ahead), clock, tz)
        if moment < base:
            moment += timedelta(days=7)
        return moment, 2 if _clock_word(words, 1) else 1
    clock = _clock_word(words, 0)
    if clock is not None:
        moment = _at(local.date(), clock, tz)
        if moment < base:
            moment = _at(local.date() + timedelta(days=1), clock, tz)
        return moment, 1
    raise MomentError("bad_moment", first)


def parse_range(
    words: list[str], now: datetime, tz: ZoneInfo
) -> tuple[datetime, datetime, list[str]]:
    """`<from> <to>` and the words left over; the end is read after the start."""
    start, used = parse_moment(words, now, tz)
    end, used_end = parse_moment(words[used:], start, tz)
    if end <= start:
        raise MomentError("end_before_start", "")
    if end - start > MAX_AHEAD or start - now > MAX_AHEAD:
        raise MomentError("too_far", "")
    return start, end, words[used + used_end :]
