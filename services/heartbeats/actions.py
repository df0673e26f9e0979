"""What people do with heartbeats (`/heartbeat add|remove|pause|resume`, `/heartbeats`), each
checked against the permission table and audited, and the checks RULES_FILE defines."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

import asyncpg
from loguru import logger

from services import staff
from services.alerts.config import AlertsRules
from services.alerts.durations import BadDuration, parse_duration
from services.heartbeats import alerting, store
from services.heartbeats.config import HeartbeatSpec, HeartbeatsRules
from services.heartbeats.model import (
    MAX_PERIOD,
    MIN_PERIOD,
    NAME,
    BadSchedule,
    Heartbeat,
    cron_trigger,
    going_down_after,
    paused,
    resumed,
)
from services.storage.db import transaction
from services.storage.types import Executor
from services.users import Person


class BadHeartbeat(Exception):
    """`/heartbeat add` arguments that cannot be used; `reason` says which part."""

    NAME = "name"
    PERIOD = "period"
    SCHEDULE = "schedule"
    GRACE = "grace"
    USAGE = "usage"
    TAKEN = "taken"

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(reason)
        self.reason = reason
        self.detail = detail


class UnknownHeartbeat(Exception):
    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.name = name


@dataclass(frozen=True)
class Definition:
    name: str
    period: timedelta | None
    schedule: str | None
    grace: timedelta


def _bounded(text: str, reason: str) -> timedelta:
    try:
        value = parse_duration(text)
    except BadDuration:
        raise BadHeartbeat(reason, text) from None
    if not MIN_PERIOD <= value <= MAX_PERIOD:
        raise BadHeartbeat(reason, text)
    return value


def parse_add(args: str) -> Definition:
    """`<name> <period> <grace>` or `<name> <five cron fields> <grace>` (the cron fields may be
    in double quotes): `backup 1d 1h`, `backup "0 2 * * *" 1h`, `backup 0 2 * * * 1h`."""
    words = args.replace('"', " ").split()
    if len(words) not in (3, 7):
        raise BadHeartbeat(BadHeartbeat.USAGE)
    name = words[0].lower()
    if not NAME.match(name):
        raise BadHeartbeat(BadHeartbeat.NAME, words[0])
    grace = _bounded(words[-1], BadHeartbeat.GRACE)
    if len(words) == 3:
        return Definition(name, _bounded(words[1], BadHeartbeat.PERIOD), None, grace)
    schedule = " ".join(words[1:6])
    try:
        cron_trigger(schedule, "UTC")
    except BadSchedule:
        raise BadHeartbeat(BadHeartbeat.SCHEDULE, schedule) from None
    return Definition(name, None, schedule, grace)


async def _audit(
    db: Executor, person: Person, action: staff.Action, target: str, chat_id: int | None
) -> None:
    await staff.done(db, person, action, target=target, chat_id=chat_id)


async def check(
    db: Executor,
    person: Person | None,
    action: staff.Action,
    *,
    target: str,
    chat_id: int | None,
) -> Person:
    await staff.require(db, person, action, target=target, chat_id=chat_id)
    assert person is not None
    return person


async def add(
    pool: asyncpg.Pool,
    person: Person | None,
    definition: Definition,
    *,
    tz: str,
    severity: str,
    chat_id: int | None,
    now: datetime,
) -> Heartbeat:
    who = await check(pool, person, staff.Action.MANAGE_HEARTBEATS, target="add", chat_id=chat_id)
    async with transaction(pool) as conn:
        new = _new(definition, tz, severity, source="chat", created_by=who.id)
        created = await store.insert(conn, new, now)
        if created is None:
            raise BadHeartbeat(BadHeartbeat.TAKEN, definition.name)
        await _audit(conn, who, staff.Action.MANAGE_HEARTBEATS, f"add {definition.name}", chat_id)
    return created


async def change(
    pool: asyncpg.Pool,
    person: Person | None,
    verb: str,
    name: str,
    *,
    alerts_config: AlertsRules,
    chat_id: int | None,
    now: datetime,
) -> Heartbeat:
    """`remove`, `pause` or `resume` a check. A check that was down has its alert resolved
    (a removed or paused check is not watched, so its alert is over)."""
    assert verb in ("remove", "pause", "resume")
    who = await check(pool, person, staff.Action.MANAGE_HEARTBEATS, target=verb, chat_id=chat_id)
    async with transaction(pool) as conn:
        hb = await store.by_name(conn, name.lower(), lock=True)
        if hb is None:
            raise UnknownHeartbeat(name)
        if verb in ("remove", "pause"):
            await alerting.went_up(conn, hb, now, alerts_config)
        if verb == "remove":
            await store.delete(conn, hb.id)
            after = hb
        else:
            after = paused(hb) if verb == "pause" else resumed(hb)
            await store.save_state(conn, after, now, rate_limited=False)
        await _audit(conn, who, staff.Action.MANAGE_HEARTBEATS, f"{verb} {hb.name}", chat_id)
    return after


async def listing(
    pool: asyncpg.Pool, person: Person | None, *, chat_id: int | None, target: str = "heartbeats"
) -> list[Heartbeat]:
    await check(pool, person, staff.Action.VIEW_HEARTBEATS, target=target, chat_id=chat_id)
    return await store.all_heartbeats(pool)


def _new(
    check: Definition | HeartbeatSpec,
    tz: str,
    severity: str,
    *,
    source: str,
    created_by: int | None = None,
    ping_key: uuid.UUID | None = None,
) -> store.NewHeartbeat:
    """A check as stored, from `/heartbeat add` (source "chat") or RULES_FILE ("rules"): one
    with a schedule is a cron check, else a simple one (a ping every period)."""
    return store.NewHeartbeat(
        name=check.name,
        kind="cron" if check.schedule else "simple",
        grace=check.grace,
        tz=tz,
        period=check.period,
        schedule=check.schedule,
        severity=severity,
        source=source,
        created_by=created_by,
        ping_key=ping_key,
    )


async def sync_rules(pool: asyncpg.Pool, rules: HeartbeatsRules, tz: str, now: datetime) -> None:
    """The checks RULES_FILE defines exist with its schedule (their state and key are kept;
    a key given in the file is used). Checks added in chat are left alone, and a check the file
    no longer names stays until someone removes it: its pings must not start to 404 silently."""
    async with transaction(pool) as conn:
        for spec in rules.checks:
            found = await store.by_name(conn, spec.name, lock=True)
            new = _new(spec, tz, spec.severity, source="rules", ping_key=spec.ping_key)
            if found is None:
                await store.insert(conn, new, now)
                logger.info("heartbeat {} defined by RULES_FILE", spec.name)
            else:
                await store.update_definition(conn, found.id, new, now)
                moved = await store.by_name(conn, spec.name)
                assert moved is not None
                moved = replace(moved, alert_after=going_down_after(moved))
                await store.save_state(conn, moved, now, rate_limited=False)
