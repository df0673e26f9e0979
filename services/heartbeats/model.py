"""A heartbeat and its states, as Healthchecks decides them, in pure functions.

- `new` until the first ping; a success ping makes it `up`, a fail ping `down` at once.
- `up` turns `late` when no ping came within its period (or by the next time its cron schedule
  fires after the last ping, in its time zone) and `down` when the grace is over too.
- A start ping (the job began) does not count as a ping; the success or fail after it measures
  the run's duration. A job that started and did not finish within the grace is `down`.
- `paused`: not watched until the next ping (or `/heartbeat resume`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

from apscheduler.triggers.cron import CronTrigger

Kind = Literal["simple", "cron"]
Status = Literal["new", "up", "down", "paused"]
Shown = Literal["new", "up", "late", "down", "paused", "started"]
PingKind = Literal["success", "start", "fail"]

NAME = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,62}$")
MIN_PERIOD = timedelta(minutes=1)
MAX_PERIOD = timedelta(days=365)
# Healthchecks leaves a duration out when the start was longer ago than this.
MAX_DURATION = timedelta(hours=72)


class BadSchedule(ValueError):
    """Not a five-field cron expression APScheduler can read."""


def cron_trigger(schedule: str, tz: str) -> CronTrigger:
    fields = schedule.split()
    if len(fields) != 5:
        raise BadSchedule(schedule)
    try:
        return CronTrigger.from_crontab(" ".join(fields), timezone=ZoneInfo(tz))
    except (ValueError, KeyError) as exc:
        raise BadSchedule(schedule) from exc


def next_fire(schedule: str, tz: str, after: datetime) -> datetime | None:
    """The first time the schedule fires strictly after `after` (UTC)."""
    trigger = cron_trigger(schedule, tz)
    # APScheduler's next fire time may equal `now`; Healthchecks' is strictly later.
    found = trigger.get_next_fire_time(None, after + timedelta(microseconds=1))
    return found.astimezone(ZoneInfo("UTC")) if found is not None else None


@dataclass(frozen=True)
class Heartbeat:
    id: int
    name: str
    ping_key: str
    kind: Kind
    grace: timedelta
    tz: str
    period: timedelta | None = None
    schedule: str | None = None
    severity: str = "warning"
    status: Status = "new"
    down_reason: str | None = None
    last_ping: datetime | None = None
    last_start: datetime | None = None
    last_duration: timedelta | None = None
    last_kind: str | None = None
    last_exit_status: int | None = None
    last_body: str | None = None
    alert_after: datetime | None = None
    n_pings: int = 0
    n_rate_limited: int = 0
    source: str = "chat"
    created_at: datetime | None = None


def grace_start(hb: Heartbeat, *, with_started: bool = True) -> datetime | None:
    """When the grace begins: the period (or the schedule) after the last ping, or the start
    of a run still going. None while new, paused or down and not running."""
    result: datetime | None = None
    if hb.status == "up" and hb.last_ping is not None:
        if hb.kind == "simple":
            assert hb.period is not None
            result = hb.last_ping + hb.period
        else:
            assert hb.schedule is not None
            result = next_fire(hb.schedule, hb.tz, hb.last_ping)
    if with_started and hb.last_start is not None and hb.status != "down":
        result = hb.last_start if result is None else min(result, hb.last_start)
    return result


def going_down_after(hb: Heartbeat) -> datetime | None:
    start = grace_start(hb)
    return start + hb.grace if start is not None else None


def shown_status(hb: Heartbeat, now: datetime) -> Shown:
    """What `/heartbeats` says now (the stored status moved on by the clock)."""
    if hb.last_start is not None:
        if now >= hb.last_start + hb.grace:
            return "down"
        if hb.status != "down":
            return "started"
    if hb.status in ("new", "paused", "down"):
        return hb.status
    start = grace_start(hb, with_started=False)
    if start is None:
        return "up"
    if now >= start + hb.grace:
        return "down"
    if now >= start:
        return "late"
    return "up"


def went_down(hb: Heartbeat, now: datetime) -> bool:
    """The scan's question: is this check, still stored as up (or running), down by now?"""
    return hb.status != "down" and hb.alert_after is not None and now >= hb.alert_after


@dataclass(frozen=True)
class PingResult:
    heartbeat: Heartbeat
    flip: Literal["up", "down"] | None  # the stored status changed to this
    duration: timedelta | None


def apply_ping(hb: Heartbeat, kind: PingKind, now: datetime, exit_status: int | None) -> PingResult:
    """Healthchecks' `Check.ping`: the check after one ping, and whether it flipped."""
    if kind == "start":
        started = replace(hb, last_start=now, last_kind="start", n_pings=hb.n_pings + 1)
        return PingResult(replace(started, alert_after=going_down_after(started)), None, None)
    duration = None
    if hb.last_start is not None and now - hb.last_start < MAX_DURATION:
        duration = now - hb.last_start
    status: Literal["up", "down"] = "down" if kind == "fail" else "up"
    flip: Literal["up", "down"] | None = status if hb.status != status else None
    after = replace(
        hb,
        status=status,
        down_reason="fail" if kind == "fail" else None,
        last_ping=now,
        last_start=None,
        last_duration=duration,
        last_kind=kind,
        last_exit_status=exit_status,
        n_pings=hb.n_pings + 1,
    )
    return PingResult(replace(after, alert_after=going_down_after(after)), flip, duration)


def mark_down(hb: Heartbeat) -> Heartbeat:
    """The scan found it missed its time (or a run overran its grace)."""
    return replace(hb, status="down", down_reason="missed", last_start=None, alert_after=None)


def paused(hb: Heartbeat) -> Heartbeat:
    return replace(hb, status="paused", last_start=None, alert_after=None, down_reason=None)


def resumed(hb: Heartbeat) -> Heartbeat:
    """Back to `new`: watched again from its next ping (as Healthchecks' resume does)."""
    return replace(hb, status="new", last_start=None, alert_after=None, down_reason=None)


def ping_kind(action: str | None, exit_status: int | None) -> PingKind:
    """`/ping/<uuid>[/start|/fail|/<exit status>]` -> the kind of ping (0 is a success)."""
    if action in ("start", "fail"):
        return action  # type: ignore[return-value]
    if exit_status is not None and exit_status > 0:
        return "fail"
    return "success"
