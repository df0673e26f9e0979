"""The records of on-call schedules and the RULES_FILE `oncall:` section that defines them.

A rotation belongs to a role and is a stack of layers; a layer hands a shift to its members in
turn (daily, weekly or every N hours, at a handoff time in TIMEZONE), optionally only inside
weekly windows ("mon-fri 09:00-17:00"). Where layers overlap the later one wins; an override
wins over every layer.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

from pydantic import BaseModel, Field, field_validator

from services.users import Role

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
# Indonesian day names as ops people type them
DAY_ALIASES = {
    "monday": 0, "senin": 0, "sen": 0,
    "tuesday": 1, "selasa": 1, "sel": 1,
    "wednesday": 2, "rabu": 2, "rab": 2,
    "thursday": 3, "kamis": 3, "kam": 3,
    "friday": 4, "jumat": 4, "jum'at": 4, "jum": 4,
    "saturday": 5, "sabtu": 5, "sab": 5,
    "sunday": 6, "minggu": 6, "ahad": 6, "min": 6,
} | {d: i for i, d in enumerate(DAYS)}  # fmt: skip
# The date a layer's first shift starts when the rules name none (a Monday).
DEFAULT_START = date(2026, 1, 5)
MAX_MEMBERS = 50
MAX_LAYERS = 5


class SpecError(ValueError):
    """A rotation that cannot be built; `reason` is a stable key the chat translates."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason
        self.detail = detail


_CLOCK = re.compile(r"^([01]?\d|2[0-3])[:.]([0-5]\d)$")
_HOURS = re.compile(r"^(\d{1,3})h$")


def parse_clock(word: str) -> time:
    found = _CLOCK.match(word.strip())
    if not found:
        raise SpecError("bad_time", word)
    return time(int(found.group(1)), int(found.group(2)))


def parse_day(word: str) -> int:
    day = DAY_ALIASES.get(word.strip().lower())
    if day is None:
        raise SpecError("bad_day", word)
    return day


def parse_days(word: str) -> frozenset[int]:
    """ "mon-fri", "sat,sun", "daily" -> weekday numbers (Monday 0)."""
    word = word.strip().lower()
    if word in ("daily", "every", "all", "setiap"):
        return frozenset(range(7))
    days: set[int] = set()
    for part in word.split(","):
        if "-" in part:
            first, last = (parse_day(p) for p in part.split("-", 1))
            span = (last - first) % 7
            days.update((first + i) % 7 for i in range(span + 1))
        else:
            days.add(parse_day(part))
    return frozenset(days)


@dataclass(frozen=True)
class Window:
    """A weekly window in local time; `end <= start` runs past midnight into the next day."""

    days: frozenset[int]  # the weekdays a window *starts* on
    start: time
    end: time

    @classmethod
    def parse(cls, text: str) -> Window:
        parts = text.split()
        if len(parts) == 1:
            parts = ["daily", parts[0]]
        if len(parts) != 2 or "-" not in parts[1]:
            raise SpecError("bad_window", text)
        first, last = parts[1].split("-", 1)
        return cls(parse_days(parts[0]), parse_clock(first), parse_clock(last))

    def contains(self, local: datetime) -> bool:
        moment = local.time()
        if self.end > self.start:
            return local.weekday() in self.days and self.start <= moment < self.end
        return (local.weekday() in self.days and moment >= self.start) or (
            (local.weekday() - 1) % 7 in self.days and moment < self.end
        )

    def edges(self, day: date, tz: ZoneInfo) -> list[datetime]:
        """The instants this window opens and closes when it starts on `day`."""
        if day.weekday() not in self.days:
            return []
        opens = datetime.combine(day, self.start, tz)
        closes_day = day if self.end > self.start else day + timedelta(days=1)
        return [opens, datetime.combine(closes_day, self.end, tz)]


@dataclass(frozen=True)
class Layer:
    name: str
    members: tuple[int, ...]
    shift: timedelta  # whole days step in local wall-clock days, else in absolute hours
    anchor: datetime  # an instant a shift of members[0] starts (aware)
    windows: tuple[Window, ...] = ()  # empty: always

    @property
    def by_days(self) -> bool:
        return self.shift % timedelta(days=1) == timedelta(0)


@dataclass(frozen=True)
class Rotation:
    role: str
    layers: tuple[Layer, ...]
    tz: ZoneInfo


@dataclass(frozen=True)
class Override:
    """`user_id` is on call for `role` in [start, end), whoever the layers say."""

    id: int
    role: str
    user_id: int
    start: datetime
    end: datetime
    replaces: int | None = None  # who was scheduled (for the notices)
    kind: str = "cover"  # cover | swap
    created_by: int | None = None


@dataclass(frozen=True)
class Shift:
    """A stretch of the final schedule with one person on call (None: a gap)."""

    role: str
    user_id: int | None
    start: datetime
    end: datetime
    layer: str | None = None
    override_id: int | None = None


# --- the RULES_FILE section (and the JSON a chat edit stores) ---------------------------------


class LayerSpec(BaseModel):
    name: str = Field(default="24/7", max_length=40)
    members: list[int] = Field(min_length=1, max_length=MAX_MEMBERS)
    shift: str = "weekly"  # daily | weekly | <N>h
    handoff: str = "monday 09:00"  # weekly: "<day> HH:MM"; otherwise "HH:MM"
    start: date = DEFAULT_START  # the first handoff is on or after this date
    restrict: list[str] = Field(default_factory=list, max_length=14)  # "mon-fri 09:00-17:00"

    @field_validator("shift")
    @classmethod
    def _shift(cls, value: str) -> str:
        value = value.strip().lower()
        if value in ("daily", "weekly"):
            return value
        found = _HOURS.match(value)
        if not found or not 1 <= int(found.group(1)) <= 24 * 28:
            raise ValueError("shift is daily, weekly or <N>h (1h to 672h)")
        return value

    @field_validator("restrict")
    @classmethod
    def _restrict(cls, value: list[str]) -> list[str]:
        for text in value:
            try:
                Window.parse(text)
            except SpecError as exc:
                raise ValueError(f"restriction {text!r}: {exc.reason}") from None
        return value

    @field_validator("handoff")
    @classmethod
    def _handoff(cls, value: str) -> str:
        words = value.split()
        try:
            if len(words) == 2:
                parse_day(words[0])
                parse_clock(words[1])
            elif len(words) == 1:
                parse_clock(words[0])
            else:
                raise SpecError("bad_handoff", value)
        except SpecError as exc:
            raise ValueError(f"handoff {value!r}: {exc.reason}") from None
        return value

    def shift_length(self) -> timedelta:
        if self.shift == "daily":
            return timedelta(days=1)
        if self.shift == "weekly":
            return timedelta(days=7)
        return timedelta(hours=int(self.shift[:-1]))

    def build(self, tz: ZoneInfo) -> Layer:
        words = self.handoff.split()
        at = parse_clock(words[-1])
        first = self.start
        if len(words) == 2 or self.shift == "weekly":
            weekday = parse_day(words[0]) if len(words) == 2 else self.start.weekday()
            first = self.start + timedelta(days=(weekday - self.start.weekday()) % 7)
        return Layer(
            name=self.name,
            members=tuple(self.members),
            shift=self.shift_length(),
            anchor=datetime.combine(first, at, tz),
            windows=tuple(Window.parse(w) for w in self.restrict),
        )


class RotationSpec(BaseModel):
    layers: list[LayerSpec] = Field(min_length=1, max_length=MAX_LAYERS)

    def build(self, role: str, tz: ZoneInfo) -> Rotation:
        return Rotation(role=role, layers=tuple(layer.build(tz) for layer in self.layers), tz=tz)


class NotifyDefaults(BaseModel):
    sms_after: int = Field(default=10, ge=1, le=240)  # minutes before the secondary channel


class OncallRules(BaseModel):
    """RULES_FILE `oncall:`; no rotations by default (the `/oncall set` slots answer)."""

    rotations: dict[Role, RotationSpec] = Field(default_factory=dict)
    gap_notice_hours: int = Field(default=24, ge=1, le=24 * 7)
    handoff_lookback_minutes: int = Field(default=60, ge=1)  # handoffs older than this go untold
    notify: NotifyDefaults = Field(default_factory=NotifyDefaults)
    scan_seconds: float = Field(default=30.0, gt=0, le=300)  # how often handoffs are looked for


Source = Literal["rules", "chat"]


@dataclass(frozen=True)
class Swap:
    """Two whole future shifts of one role traded between two people (services/oncall/swaps.py)."""

    id: int
    role: str
    a_user: int
    a_start: datetime
    a_end: datetime
    b_user: int
    b_start: datetime
    b_end: datetime
    status: str
    a_accepted: bool
    b_accepted: bool
