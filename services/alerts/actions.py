"""What people do to alerts: the buttons (acknowledge, silence, escalate, resolve) and the
commands (silences, maintenance windows). Each checks the person's roles, is audited (refusals
too), and shows its result on the group's messages through the outbox."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

import asyncpg

from services import audit, staff
from services.alerts import silences, store
from services.alerts.incidents import EscalationUnavailable, OpenIncident
from services.alerts.matchers import Matcher
from services.alerts.outbound import Audience, group_view, incident_request, refresh
from services.alerts.render import SILENCE_HOURS
from services.storage.db import transaction
from services.storage.types import Executor
from services.users import Person, Role, shown_name


class Action(StrEnum):
    ACKNOWLEDGE = "ack"
    SILENCE = "silence"
    ESCALATE = "esc"
    RESOLVE = "res"
    UNSILENCE = "unsilence"
    MAINTENANCE = "maintenance"
    VIEW = "view"


# Who may: the bot's one permission table, where each of these is `alerts.<value>`.
ALLOWED: dict[Action, frozenset[Role]] = {
    action: staff.PERMISSIONS[staff.Action(f"alerts.{action.value}")] for action in Action
}


def may(person: Person | None, action: Action) -> bool:
    return person is not None and person.has_any(ALLOWED[action])


# The bot's one refusal (the handlers' Refusals middleware answers it).
NotAllowed = staff.NotAllowed


class GroupNotFound(Exception):
    pass


class AlreadyDone(Exception):
    """Acknowledged / escalated / resolved before; `who` did it."""

    def __init__(self, who: str | None = None) -> None:
        super().__init__(who)
        self.who = who


def display_name(person: Person) -> str:
    """The one naming rule of every message (`users.shown_name`)."""
    return shown_name(person.first_name, user_id=person.id)


async def check(
    db: asyncpg.Pool | asyncpg.Connection,
    person: Person | None,
    action: Action,
    *,
    target: str,
    chat_id: int | None,
    now: datetime,
) -> None:
    """Raise NotAllowed (and audit the refusal) unless the person may act."""
    if may(person, action):
        return
    await record(db, person, action, allowed=False, target=target, chat_id=chat_id, now=now)
    raise NotAllowed(staff.Action(f"alerts.{action.value}"))


async def record(
    db: Executor,
    person: Person | None,
    action: str,
    *,
    target: str,
    chat_id: int | None,
    now: datetime,
    allowed: bool = True,
    details: dict[str, Any] | None = None,
) -> None:
    """The audit entry of an alerts action, `alerts.<action>` (an `Action` or a finer name such
    as `maintenance.start`): done by default, or refused."""
    await audit.record(
        db,
        actor_id=person.id if person else None,
        action=f"alerts.{action}",
        allowed=allowed,
        target=target,
        chat_id=chat_id,
        at=now,
        details=details,
    )


@dataclass
class Acting:
    """An allowed action under way: its transaction's connection and the person, and what its
    audit entry will say (the body may name a finer `audited` action, the `target` it made and
    the `details`)."""

    conn: asyncpg.Connection
    person: Person
    audited: str
    target: str
    details: dict[str, Any] = field(default_factory=dict)


@asynccontextmanager
async def acting(
    pool: asyncpg.Pool,
    person: Person | None,
    action: Action,
    *,
    target: str,
    chat_id: int | None,
    now: datetime,
) -> AsyncIterator[Acting]:
    """The frame of every alerts action: refuse (audited) unless the person may; else one
    transaction in which the body acts and, when it has not raised, the action is audited."""
    await check(pool, person, action, target=target, chat_id=chat_id, now=now)
    assert person is not None
    async with transaction(pool) as conn:
        done = Acting(conn, person, action, target)
        yield done
        await record(
            conn,
            person,
            done.audited,
            target=done.target,
            chat_id=chat_id,
            now=now,
            details=done.details,
        )


@dataclass(frozen=True)
class ButtonResult:
    action: str
    group_id: int
    silence: silences.Silence | None = None
    incident_id: int | None = None


async def press(
    pool: asyncpg.Pool,
    person: Person | None,
    group_id: int,
    act: str,
    *,
    chat_id: int | None,
    now: datetime,
    audience: Audience,
    open_incident: OpenIncident | None = None,
) -> ButtonResult:
    """One button on a group message: `act` is ack, s1, s4, s24, esc or res."""
    action = {"ack": Action.ACKNOWLEDGE, "esc": Action.ESCALATE, "res": Action.RESOLVE}.get(
        act, Action.SILENCE
    )
    target = f"alert_group:{group_id}"
    await check(pool, person, action, target=target, chat_id=chat_id, now=now)
    assert person is not None
    if action is Action.ESCALATE and open_incident is None:
        await record(
            pool,
            person,
            action,
            allowed=False,
            target=target,
            chat_id=chat_id,
            now=now,
            details={"reason": "unavailable"},
        )
        raise EscalationUnavailable
    result = ButtonResult(act, group_id)
    async with transaction(pool) as conn:
        group = await store.get_group(conn, group_id, lock=True)
        if group is None:
            raise GroupNotFound(group_id)
        if action is Action.ACKNOWLEDGE:
            if group.acknowledged_at is not None:
                raise AlreadyDone(group.acknowledged_name)
            await store.acknowledge(conn, group_id, person.id, display_name(person), now)
        elif action is Action.SILENCE:
            hours = SILENCE_HOURS[act]
            matchers = [Matcher(k, "=", v) for k, v in sorted(group.labels.items())]
            silence = await silences.create_silence(
                conn,
                matchers,
                now=now,
                duration=timedelta(hours=hours),
                created_by=person.id,
                created_name=display_name(person),
                comment=f"alert group {group_id}",
            )
            await store.set_silence(conn, group_id, silence.id)
            result = ButtonResult(act, group_id, silence=silence)
        elif action is Action.ESCALATE:
            if group.incident_id is not None:
                raise AlreadyDone(str(group.incident_id))
            assert open_incident is not None
            view = await group_view(conn, group, now)
            incident_id = await open_incident(conn, incident_request(group, view, person.id, now))
            await store.set_escalated(conn, group_id, incident_id, person.id, now)
            result = ButtonResult(act, group_id, incident_id=incident_id)
        else:
            if group.status != "open":
                raise AlreadyDone(None)
            await store.resolve_firing(conn, group_id, person.id, now)
        await record(
            conn,
            person,
            action,
            target=target,
            chat_id=chat_id,
            now=now,
            details={
                "button": act,
                **({"silence_id": result.silence.id} if result.silence else {}),
                **({"incident_id": result.incident_id} if result.incident_id else {}),
            },
        )
        await refresh(conn, group_id, now, audience)
    return result


async def add_silence(
    pool: asyncpg.Pool,
    person: Person | None,
    matchers: tuple[Matcher, ...],
    duration: timedelta,
    comment: str,
    *,
    chat_id: int | None,
    now: datetime,
) -> silences.Silence:
    async with acting(
        pool, person, Action.SILENCE, target="silence", chat_id=chat_id, now=now
    ) as done:
        silence = await silences.create_silence(
            done.conn,
            matchers,
            now=now,
            duration=duration,
            created_by=done.person.id,
            created_name=display_name(done.person),
            comment=comment,
        )
        done.target = f"silence:{silence.id}"
        done.details = {
            "matchers": [str(m) for m in matchers],
            "seconds": duration.total_seconds(),
            "comment": comment,
        }
    return silence


async def remove_silence(
    pool: asyncpg.Pool,
    person: Person | None,
    silence_id: int,
    *,
    chat_id: int | None,
    now: datetime,
) -> bool:
    target = f"silence:{silence_id}"
    async with acting(
        pool, person, Action.UNSILENCE, target=target, chat_id=chat_id, now=now
    ) as done:
        expired = await silences.expire_silence(done.conn, silence_id, now=now, by=done.person.id)
        done.details = {"expired": expired}
    return expired


async def start_maintenance(
    pool: asyncpg.Pool,
    person: Person | None,
    duration: timedelta,
    reason: str,
    *,
    chat_id: int | None,
    now: datetime,
    starts_at: datetime | None = None,
) -> silences.MaintenanceWindow:
    async with acting(
        pool, person, Action.MAINTENANCE, target="maintenance", chat_id=chat_id, now=now
    ) as done:
        window = await silences.start_window(
            done.conn,
            starts_at=starts_at or now,
            duration=duration,
            reason=reason,
            created_by=done.person.id,
            created_name=display_name(done.person),
            now=now,
        )
        done.audited = "maintenance.start"
        done.target = f"maintenance:{window.id}"
        done.details = {"seconds": duration.total_seconds(), "reason": reason}
    return window


async def stop_maintenance(
    pool: asyncpg.Pool, person: Person | None, *, chat_id: int | None, now: datetime
) -> list[silences.MaintenanceWindow]:
    async with acting(
        pool, person, Action.MAINTENANCE, target="maintenance", chat_id=chat_id, now=now
    ) as done:
        stopped = await silences.stop_windows(done.conn, now=now, by=done.person.id)
        done.audited = "maintenance.stop"
        done.details = {"windows": [w.id for w in stopped]}
    return stopped
