"""SLA targets and deadlines: per priority (the seed's SEVERITY_LEVELS) and per channel (the
seed's support SLA table); the tighter target wins.

Priority targets run around the clock. A channel marked `business_hours` (email) counts only
Monday–Friday 09:00–17:00 in TIMEZONE, minus listed holidays. "Tighter" compares deadlines, not
minutes: an email P1 must be answered within 60 wall-clock minutes even though the email channel
alone would allow 8 business hours.

Pure functions taking datetimes; RULES_FILE section `sla` overrides the defaults.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from pydantic import BaseModel, Field

from services.classification import Priority


class Channel(StrEnum):
    BOT = "bot"
    ADMIN_CHAT = "admin_chat"
    EMAIL = "email"
    EMERGENCY = "emergency"


class ChannelTarget(BaseModel):
    response_minutes: int = Field(ge=0)
    resolution_minutes: int = Field(ge=0)
    business_hours: bool = False


class BusinessHours(BaseModel):
    start: time = time(9, 0)
    end: time = time(17, 0)
    weekdays: list[int] = Field(default_factory=lambda: [0, 1, 2, 3, 4])  # Monday = 0
    holidays: list[date] = Field(default_factory=list)


class SlaRules(BaseModel):
    """RULES_FILE section `sla`."""

    response_minutes: dict[Priority, int] = Field(
        default_factory=lambda: {
            Priority.P0: 15,
            Priority.P1: 60,
            Priority.P2: 240,
            Priority.P3: 1440,
        }
    )
    # The seed gives no resolution time per priority; the channel's applies unless set here.
    resolution_minutes: dict[Priority, int] = Field(default_factory=dict)
    channels: dict[Channel, ChannelTarget] = Field(
        default_factory=lambda: {
            Channel.BOT: ChannelTarget(response_minutes=120, resolution_minutes=24 * 60),
            Channel.ADMIN_CHAT: ChannelTarget(response_minutes=15, resolution_minutes=60),
            Channel.EMAIL: ChannelTarget(
                response_minutes=8 * 60, resolution_minutes=48 * 60, business_hours=True
            ),
            Channel.EMERGENCY: ChannelTarget(response_minutes=0, resolution_minutes=30),
        }
    )
    business_hours: BusinessHours = Field(default_factory=BusinessHours)


@dataclass(frozen=True)
class Deadlines:
    response_due: datetime
    resolution_due: datetime


def is_business_day(day: date, hours: BusinessHours) -> bool:
    return day.weekday() in hours.weekdays and day not in hours.holidays


def _window(day: date, hours: BusinessHours, tz: ZoneInfo) -> tuple[datetime, datetime]:
    return (datetime.combine(day, hours.start, tzinfo=tz), datetime.combine(day, hours.end, tz))


def add_business_minutes(
    start: datetime, minutes: int, tz: ZoneInfo, hours: BusinessHours | None = None
) -> datetime:
    """`start` plus `minutes` counted only inside business hours; the result is in UTC.

    A start outside business hours begins counting at the next opening, so zero minutes
    from Saturday noon is Monday 09:00.
    """
    hours = hours or BusinessHours()
    if start.tzinfo is None:
        raise ValueError("start must be timezone-aware")
    if not hours.weekdays or hours.start >= hours.end:
        raise ValueError("business hours are empty")
    remaining = timedelta(minutes=minutes)
    current = start.astimezone(tz)
    day = current.date()
    for _ in range(3660):  # ten years of days: a guard against a calendar of holidays only
        if is_business_day(day, hours):
            opens, closes = _window(day, hours, tz)
            current = max(current, opens)
            if current < closes:
                available = closes - current
                if remaining <= available:
                    return (current + remaining).astimezone(ZoneInfo("UTC"))
                remaining -= available
        day += timedelta(days=1)
        current = datetime.combine(day, time(0, 0), tzinfo=tz)
    raise ValueError("no business hours within ten years")


def business_minutes_between(
    start: datetime, end: datetime, tz: ZoneInfo, hours: BusinessHours | None = None
) -> int:
    """Whole business minutes from `start` to `end` (negative when end is earlier)."""
    hours = hours or BusinessHours()
    if end < start:
        return -business_minutes_between(end, start, tz, hours)
    total = timedelta()
    day = start.astimezone(tz).date()
    last = end.astimezone(tz).date()
    while day <= last:
        if is_business_day(day, hours):
            opens, closes = _window(day, hours, tz)
            lo, hi = max(opens, start), min(closes, end)
            if hi > lo:
                total += hi - lo
        day += timedelta(days=1)
    return int(total.total_seconds() // 60)


def _channel_due(
    opened_at: datetime, minutes: int, target: ChannelTarget, rules: SlaRules, tz: ZoneInfo
) -> datetime:
    if target.business_hours:
        return add_business_minutes(opened_at, minutes, tz, rules.business_hours)
    return opened_at + timedelta(minutes=minutes)


def deadlines(
    priority: Priority,
    channel: Channel,
    opened_at: datetime,
    tz: ZoneInfo,
    rules: SlaRules | None = None,
) -> Deadlines:
    """Response and resolution deadlines for a ticket opened at `opened_at`: the earlier of
    the priority's and the channel's target."""
    rules = rules or SlaRules()
    target = rules.channels[channel]
    response = [_channel_due(opened_at, target.response_minutes, target, rules, tz)]
    resolution = [_channel_due(opened_at, target.resolution_minutes, target, rules, tz)]
    if priority in rules.response_minutes:
        response.append(opened_at + timedelta(minutes=rules.response_minutes[priority]))
    if priority in rules.resolution_minutes:
        resolution.append(opened_at + timedelta(minutes=rules.resolution_minutes[priority]))
    utc = ZoneInfo("UTC")
    return Deadlines(
        response_due=min(response).astimezone(utc), resolution_due=min(resolution).astimezone(utc)
    )


def response_minutes(priority: Priority, channel: Channel, rules: SlaRules | None = None) -> int:
    """The promised response time in minutes, for telling the customer ("within 1 hour")."""
    rules = rules or SlaRules()
    target = rules.channels[channel].response_minutes
    by_priority = rules.response_minutes.get(priority)
    return target if by_priority is None else min(target, by_priority)


def remaining(due: datetime, now: datetime) -> timedelta:
    """Time left until `due`; negative once breached."""
    return due - now


def breached(due: datetime | None, done_at: datetime | None, now: datetime) -> bool:
    """A clock is breached when it was stopped late, or is still running past its deadline."""
    if due is None:
        return False
    return (done_at or now) > due


# How late a missed deadline is reported on a card: when it passes, then at these ages, then
# once a day. Enough to keep "overdue by …" honest without editing a card every minute.
LATE_CHECKPOINTS = (
    timedelta(0),
    timedelta(hours=1),
    timedelta(hours=4),
    timedelta(hours=12),
    timedelta(days=1),
)


def next_check(running: Iterable[datetime], now: datetime) -> datetime | None:
    """The next moment a card's deadline lines change, for the clocks still running: a deadline
    passing, or a missed one reaching its next checkpoint of lateness. None: nothing runs."""
    found: list[datetime] = []
    for due in running:
        if now < due:
            found.append(due)
            continue
        late = now - due
        later = [c for c in LATE_CHECKPOINTS if c > late]
        if later:
            found.append(due + later[0])
        else:  # past the last checkpoint: once a day, on the deadline's time of day
            days = late // timedelta(days=1) + 1
            found.append(due + timedelta(days=days))
    return min(found) if found else None
