"""Moments typed in the chat, read in Asia/Jakarta from a frozen 'now'."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from services.oncall.when import MomentError, parse_moment, parse_range

WIB = ZoneInfo("Asia/Jakarta")
NOW = datetime(2026, 11, 3, 14, 30, tzinfo=WIB).astimezone(UTC)  # a Tuesday afternoon


def wib(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=WIB)


@pytest.mark.parametrize(
    ("typed", "expected", "used"),
    [
        ("now", "2026-11-03 14:30", 1),
        ("18:00", "2026-11-03 18:00", 1),
        ("09:00", "2026-11-04 09:00", 1),  # already past today: tomorrow
        ("tue 18:00", "2026-11-03 18:00", 2),
        ("selasa 09:00", "2026-11-10 09:00", 2),  # past today: next week
        ("besok 09:00", "2026-11-04 09:00", 2),
        ("tomorrow 9.30", "2026-11-04 09:30", 2),
        ("2026-12-01 18:00", "2026-12-01 18:00", 2),
        ("2026-12-01T18:00", "2026-12-01 18:00", 1),
        ("2026-12-01", "2026-12-01 00:00", 1),
        ("+12h", "2026-11-04 02:30", 1),
        ("90m", "2026-11-03 16:00", 1),
    ],
)
def test_moments(typed: str, expected: str, used: int) -> None:
    assert parse_moment(typed.split(), NOW, WIB) == (wib(expected), used)


def test_a_range_over_midnight_reads_the_end_after_the_start() -> None:
    start, end, rest = parse_range(["tue", "18:00", "09:00", "senior_engineer"], NOW, WIB)
    assert (start, end, rest) == (
        wib("2026-11-03 18:00"),
        wib("2026-11-04 09:00"),
        ["senior_engineer"],
    )


@pytest.mark.parametrize("typed", ["", "<b>", "2026-13-45", "25:00", "2026-12-01 18:00 2026-11-01"])
def test_nonsense_is_refused(typed: str) -> None:
    with pytest.raises(MomentError):
        parse_range(typed.split(), NOW, WIB)
