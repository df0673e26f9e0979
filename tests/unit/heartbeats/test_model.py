"""Healthchecks' states, told by a frozen clock: new -> up -> late -> down -> up, a start/finish
pair measuring the run, a fail ping, and a cron schedule across a day boundary in Jakarta."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from services.clock import FrozenClock
from services.heartbeats.actions import BadHeartbeat, parse_add
from services.heartbeats.model import (
    Heartbeat,
    PingKind,
    apply_ping,
    mark_down,
    next_fire,
    ping_kind,
    shown_status,
    went_down,
)
from tests.unit.heartbeats.build import heartbeat

T0 = datetime(2026, 12, 1, 1, 0, tzinfo=UTC)


def ping(hb: Heartbeat, clock: FrozenClock, kind: PingKind = "success", status: int | None = None):
    return apply_ping(hb, kind, clock.now(), status)


def test_it_goes_new_up_late_down_and_up_again() -> None:
    clock = FrozenClock(T0)
    hb = heartbeat()
    assert shown_status(hb, clock.now()) == "new"
    assert not went_down(hb, clock.now())

    result = ping(hb, clock)
    hb = result.heartbeat
    assert result.flip == "up"
    assert shown_status(hb, clock.now()) == "up"
    assert hb.alert_after == T0 + timedelta(hours=1, minutes=10)

    clock.advance(minutes=59, seconds=59)
    assert shown_status(hb, clock.now()) == "up"
    clock.advance(seconds=1)  # the period is over: late, not down yet
    assert shown_status(hb, clock.now()) == "late"
    assert not went_down(hb, clock.now())
    clock.advance(minutes=9, seconds=59)
    assert shown_status(hb, clock.now()) == "late"
    clock.advance(seconds=1)  # period + grace
    assert shown_status(hb, clock.now()) == "down"
    assert went_down(hb, clock.now())

    hb = mark_down(hb)
    assert hb.status == "down" and hb.down_reason == "missed" and hb.alert_after is None
    clock.advance(hours=5)
    assert shown_status(hb, clock.now()) == "down"

    result = ping(hb, clock)
    assert result.flip == "up"
    assert shown_status(result.heartbeat, clock.now()) == "up"


def test_a_start_and_a_success_measure_the_run() -> None:
    clock = FrozenClock(T0)
    hb = ping(heartbeat(), clock).heartbeat
    clock.advance(minutes=30)
    started = ping(hb, clock, "start")
    assert started.flip is None
    assert started.heartbeat.last_ping == T0  # a start is not a ping
    assert shown_status(started.heartbeat, clock.now()) == "started"
    clock.advance(minutes=2, seconds=3)
    done = ping(started.heartbeat, clock)
    assert done.duration == timedelta(minutes=2, seconds=3)
    assert done.heartbeat.last_duration == timedelta(minutes=2, seconds=3)
    assert done.heartbeat.last_start is None
    assert shown_status(done.heartbeat, clock.now()) == "up"
    # the next success without a start has no duration
    clock.advance(minutes=1)
    assert ping(done.heartbeat, clock).heartbeat.last_duration is None


def test_a_run_that_overruns_its_grace_is_down() -> None:
    clock = FrozenClock(T0)
    hb = ping(heartbeat(grace=timedelta(minutes=10)), clock).heartbeat
    clock.advance(minutes=5)
    hb = ping(hb, clock, "start").heartbeat
    assert hb.alert_after == clock.now() + timedelta(minutes=10)  # start + grace comes first
    clock.advance(minutes=10)
    assert shown_status(hb, clock.now()) == "down"
    assert went_down(hb, clock.now())


def test_a_fail_ping_is_down_at_once_and_measures_the_run() -> None:
    clock = FrozenClock(T0)
    hb = ping(heartbeat(), clock).heartbeat
    clock.advance(minutes=1)
    hb = ping(hb, clock, "start").heartbeat
    clock.advance(seconds=40)
    failed = ping(hb, clock, "fail", 2)
    assert failed.flip == "down"
    assert failed.heartbeat.down_reason == "fail"
    assert failed.heartbeat.last_exit_status == 2
    assert failed.duration == timedelta(seconds=40)
    assert shown_status(failed.heartbeat, clock.now()) == "down"
    # a second failure is no new flip (one alert, not two)
    assert ping(failed.heartbeat, clock, "fail").flip is None


@pytest.mark.parametrize(
    ("action", "status", "kind"),
    [
        (None, None, "success"),
        (None, 0, "success"),
        (None, 1, "fail"),
        (None, 255, "fail"),
        ("start", None, "start"),
        ("fail", None, "fail"),
    ],
)
def test_the_url_says_the_kind_of_ping(action: str | None, status: int | None, kind: str) -> None:
    assert ping_kind(action, status) == kind


def test_a_cron_schedule_in_jakarta_across_a_day_boundary() -> None:
    # 23:30 WIB every day: Jakarta is UTC+7, so that is 16:30 UTC the same day.
    clock = FrozenClock(datetime(2026, 12, 1, 16, 31, tzinfo=UTC))  # 23:31 WIB, Dec 1
    hb = heartbeat(
        name="nightly", grace=timedelta(hours=1), tz="Asia/Jakarta", schedule="30 23 * * *"
    )
    hb = ping(hb, clock).heartbeat
    # next expected: 23:30 WIB on Dec 2 (16:30 UTC), down at 00:30 WIB on Dec 3 (17:30 UTC)
    assert hb.alert_after == datetime(2026, 12, 2, 17, 30, tzinfo=UTC)
    clock.set(datetime(2026, 12, 2, 16, 29, tzinfo=UTC))
    assert shown_status(hb, clock.now()) == "up"
    clock.set(datetime(2026, 12, 2, 16, 30, tzinfo=UTC))  # 23:30 WIB Dec 2: late
    assert shown_status(hb, clock.now()) == "late"
    clock.set(datetime(2026, 12, 2, 17, 29, 59, tzinfo=UTC))  # 00:29:59 WIB Dec 3
    assert shown_status(hb, clock.now()) == "late"
    clock.set(datetime(2026, 12, 2, 17, 30, tzinfo=UTC))  # 00:30 WIB, the next local day
    assert shown_status(hb, clock.now()) == "down"
    assert went_down(hb, clock.now())


def test_a_ping_exactly_at_the_scheduled_time_expects_the_next_one() -> None:
    at = datetime(2026, 12, 1, 19, 0, tzinfo=UTC)  # 02:00 WIB
    assert next_fire("0 2 * * *", "Asia/Jakarta", at) == at + timedelta(days=1)
    assert next_fire("0 2 * * *", "Asia/Jakarta", at - timedelta(seconds=1)) == at


def test_a_paused_check_is_up_again_at_its_next_ping() -> None:
    clock = FrozenClock(T0)
    hb = replace(heartbeat(), status="paused")
    assert shown_status(hb, clock.now()) == "paused"
    assert not went_down(hb, clock.now() + timedelta(days=9))
    assert ping(hb, clock).heartbeat.status == "up"


@pytest.mark.parametrize(
    ("args", "period", "schedule"),
    [
        ("backup 1d 1h", timedelta(days=1), None),
        ('backup "0 2 * * *" 1h', None, "0 2 * * *"),
        ("Backup 0 2 * * * 30m", None, "0 2 * * *"),
    ],
)
def test_heartbeat_add_reads_a_period_or_a_cron_schedule(
    args: str, period: timedelta | None, schedule: str | None
) -> None:
    found = parse_add(args)
    assert found.name == "backup"
    assert (found.period, found.schedule) == (period, schedule)


@pytest.mark.parametrize(
    ("args", "reason"),
    [
        ("", "usage"),
        ("backup 1d", "usage"),
        ("<b>x</b> 1d 1h", "name"),
        ("backup soon 1h", "period"),
        ("backup 1d 10s", "grace"),
        ("backup 1d 400d", "grace"),
        ("backup 99 2 * * * 1h", "schedule"),
    ],
)
def test_heartbeat_add_refuses_what_it_cannot_use(args: str, reason: str) -> None:
    with pytest.raises(BadHeartbeat) as caught:
        parse_add(args)
    assert caught.value.reason == reason
