"""SLA deadlines: the tighter of priority and channel, business hours across evenings and weekends.

Dates: 2026-11-02 is a Monday; Jakarta is UTC+7 all year.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from services.classification import Priority
from services.rules import Rules
from services.sla import (
    BusinessHours,
    Channel,
    SlaRules,
    add_business_minutes,
    breached,
    business_minutes_between,
    deadlines,
    next_check,
    response_minutes,
)

JKT = ZoneInfo("Asia/Jakarta")


def jkt(day: int, hour: int, minute: int = 0, month: int = 11) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=JKT)


@pytest.mark.parametrize(
    ("start", "minutes", "expected", "story"),
    [
        (jkt(2, 10), 60, jkt(2, 11), "inside Monday's hours"),
        (jkt(2, 16), 120, jkt(3, 10), "Monday late afternoon runs into Tuesday morning"),
        (jkt(2, 20), 60, jkt(3, 10), "Monday evening starts counting at Tuesday 09:00"),
        (jkt(3, 7, 30), 30, jkt(3, 9, 30), "before opening starts counting at 09:00"),
        (jkt(6, 16), 120, jkt(9, 10), "Friday afternoon jumps the weekend"),
        (jkt(6, 18), 60, jkt(9, 10), "Friday evening to Monday"),
        (jkt(7, 12), 480, jkt(9, 17), "Saturday: eight business hours is Monday's close"),
        (jkt(8, 23, 59), 1, jkt(9, 9, 1), "Sunday night"),
        (jkt(2, 9), 480, jkt(2, 17), "exactly one business day"),
        (jkt(2, 9), 2880, jkt(9, 17), "48 business hours: six working days"),
        (jkt(6, 17), 0, jkt(9, 9), "zero minutes at Friday close is Monday's opening"),
        (jkt(2, 16, 59), 2, jkt(3, 9, 1), "one minute before close"),
    ],
)
def test_business_minutes_are_counted_monday_to_friday_nine_to_five(
    start: datetime, minutes: int, expected: datetime, story: str
) -> None:
    due = add_business_minutes(start.astimezone(UTC), minutes, JKT)
    assert due == expected, story
    assert due.tzinfo is not None and due.utcoffset() == timedelta(0)


def test_holidays_are_skipped() -> None:
    hours = BusinessHours(holidays=[date(2026, 11, 3)])
    assert add_business_minutes(jkt(2, 16), 120, JKT, hours) == jkt(4, 10)


def test_empty_business_hours_are_refused() -> None:
    with pytest.raises(ValueError):
        add_business_minutes(jkt(2, 10), 60, JKT, BusinessHours(weekdays=[]))
    with pytest.raises(ValueError):
        add_business_minutes(datetime(2026, 11, 2, 10), 60, JKT)  # naive


@pytest.mark.parametrize(
    ("start", "end", "minutes"),
    [
        (jkt(2, 10), jkt(2, 11), 60),
        (jkt(6, 16), jkt(9, 10), 120),
        (jkt(6, 20), jkt(8, 20), 0),
        (jkt(2, 8), jkt(2, 18), 480),
        (jkt(9, 10), jkt(6, 16), -120),
    ],
)
def test_business_minutes_between(start: datetime, end: datetime, minutes: int) -> None:
    assert business_minutes_between(start, end, JKT) == minutes


@pytest.mark.parametrize(
    ("priority", "channel", "opened", "response", "resolution"),
    [
        # bot: 2 h / 24 h around the clock; the priority's response target is tighter
        (Priority.P0, Channel.BOT, jkt(7, 3), jkt(7, 3, 15), jkt(8, 3)),
        (Priority.P1, Channel.BOT, jkt(2, 10), jkt(2, 11), jkt(3, 10)),
        (Priority.P2, Channel.BOT, jkt(2, 10), jkt(2, 12), jkt(3, 10)),
        (Priority.P3, Channel.BOT, jkt(7, 22), jkt(8, 0), jkt(8, 22)),
        # admin chat: 15 min / 1 h
        (Priority.P3, Channel.ADMIN_CHAT, jkt(2, 10), jkt(2, 10, 15), jkt(2, 11)),
        # emergency: immediate / 30 min
        (Priority.P2, Channel.EMERGENCY, jkt(7, 2), jkt(7, 2), jkt(7, 2, 30)),
        # email: 8 h / 48 h of business hours, unless the priority is tighter
        (Priority.P3, Channel.EMAIL, jkt(6, 16), jkt(7, 16), jkt(16, 16)),
        (Priority.P2, Channel.EMAIL, jkt(6, 16), jkt(6, 20), jkt(16, 16)),
        (Priority.P3, Channel.EMAIL, jkt(7, 10), jkt(8, 10), jkt(16, 17)),
        (Priority.P3, Channel.EMAIL, jkt(2, 10), jkt(3, 10), jkt(10, 10)),
    ],
)
def test_the_tighter_target_wins(
    priority: Priority,
    channel: Channel,
    opened: datetime,
    response: datetime,
    resolution: datetime,
) -> None:
    due = deadlines(priority, channel, opened.astimezone(UTC), JKT)
    assert (due.response_due, due.resolution_due) == (response, resolution)


def test_email_over_the_weekend_counts_business_hours_only() -> None:
    # no priority target: the channel alone counts 8 business hours from Friday 16:00
    rules = SlaRules(response_minutes={})
    due = deadlines(Priority.P3, Channel.EMAIL, jkt(6, 16), JKT, rules)
    assert due.response_due == jkt(9, 16)
    # with the seed's P3 target (24 wall-clock hours) Saturday 16:00 is tighter
    assert deadlines(Priority.P3, Channel.EMAIL, jkt(6, 16), JKT).response_due == jkt(7, 16)


def test_promised_response_time_for_the_customer() -> None:
    assert response_minutes(Priority.P1, Channel.BOT) == 60
    assert response_minutes(Priority.P3, Channel.BOT) == 120
    assert response_minutes(Priority.P0, Channel.EMERGENCY) == 0


def test_targets_come_from_the_rules_file() -> None:
    rules = Rules(
        {
            "sla": {
                "response_minutes": {"P1": 30},
                "resolution_minutes": {"P0": 240},
                "channels": {
                    "bot": {"response_minutes": 90, "resolution_minutes": 600},
                    "email": {
                        "response_minutes": 60,
                        "resolution_minutes": 120,
                        "business_hours": True,
                    },
                },
                "business_hours": {"start": "08:00", "end": "16:00"},
            }
        }
    ).section("sla", SlaRules)
    due = deadlines(Priority.P1, Channel.BOT, jkt(2, 10), JKT, rules)
    assert due.response_due == jkt(2, 10, 30)
    assert due.resolution_due == jkt(2, 20)
    assert deadlines(Priority.P0, Channel.BOT, jkt(2, 10), JKT, rules).resolution_due == jkt(2, 14)
    email = deadlines(Priority.P2, Channel.EMAIL, jkt(2, 15, 30), JKT, rules)
    assert email.response_due == jkt(3, 8, 30)


@pytest.mark.parametrize(
    ("due", "done", "now", "expected"),
    [
        (None, None, jkt(2, 10), False),
        (jkt(2, 10), None, jkt(2, 9), False),
        (jkt(2, 10), None, jkt(2, 11), True),
        (jkt(2, 10), jkt(2, 9), jkt(2, 11), False),
        (jkt(2, 10), jkt(2, 10, 1), jkt(2, 11), True),
    ],
)
def test_breached(
    due: datetime | None, done: datetime | None, now: datetime, expected: bool
) -> None:
    assert breached(due, done, now) is expected


@pytest.mark.parametrize(
    ("running", "now", "expected"),
    [
        ((), jkt(2, 10), None),  # nothing runs: the card never changes by itself
        ((jkt(2, 11),), jkt(2, 10), jkt(2, 11)),  # the deadline itself
        ((jkt(2, 11), jkt(3, 10)), jkt(2, 10), jkt(2, 11)),  # the nearer of two
        ((jkt(2, 11),), jkt(2, 11), jkt(2, 12)),  # missed: an hour late next
        ((jkt(2, 11),), jkt(2, 13, 30), jkt(2, 15)),  # then four hours late
        ((jkt(2, 11),), jkt(2, 16), jkt(2, 23)),  # twelve
        ((jkt(2, 11),), jkt(3, 0), jkt(3, 11)),  # a day
        ((jkt(2, 11),), jkt(3, 11), jkt(4, 11)),  # then once a day, at the deadline's hour
        ((jkt(2, 11),), jkt(5, 12), jkt(6, 11)),
        ((jkt(2, 11), jkt(3, 10)), jkt(3, 9), jkt(3, 10)),  # a running one due before
    ],
)
def test_the_next_check_of_a_card_is_a_deadline_or_a_step_of_lateness(
    running: tuple[datetime, ...], now: datetime, expected: datetime | None
) -> None:
    assert next_check(running, now) == expected
