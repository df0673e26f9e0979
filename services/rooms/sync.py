"""The rooms worker: every few seconds (and whenever woken) it

- opens a room for every incident that has none (whichever way it was opened: `/incident`, an
  alert's Escalate, a ticket's Escalate, the emergency line);
- edits each live room's pinned summary when what it says changed (so a restart edits, never
  duplicates);
- puts the incident's alerts firing and resolving on its timeline, once each;
- reminds the lead when the severity's update interval passed, once, then the next level;
- drafts the postmortem when a P0 or P1 resolved;
- closes the room's topic once the incident is resolved (after the draft), reopens it if the
  incident is open again.

One replica does it at a time (a PostgreSQL advisory lock held for the tick's transaction).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

import asyncpg
from loguru import logger

from services import outbox, users
from services.clock import Clock
from services.escalation import store as incidents_store
from services.escalation.store import Incident
from services.i18n import use_locale
from services.loop import FeatureLoop
from services.message import html
from services.oncall import lookup as oncall
from services.postmortem import build, draft
from services.rooms import closing, render, store
from services.rooms import room as rooms
from services.rooms.config import RoomsContext
from services.rooms.store import Room
from services.storage.db import transaction
from services.storage.types import Executor
from services.tickets import briefs as tickets

ROOMS_LOCK = 0x526F6F6D  # "Room"
NEW_INCIDENTS_WINDOW = timedelta(days=7)  # older incidents without a room get none
RESOLVED_WINDOW = timedelta(days=1)  # a resolved incident's room is kept current this long


@dataclass
class TickReport:
    opened: list[int] = field(default_factory=list)
    edited: list[int] = field(default_factory=list)
    reminded: list[tuple[int, int]] = field(default_factory=list)  # (ticket, stage)
    postmortems: list[int] = field(default_factory=list)
    closed: list[int] = field(default_factory=list)  # topics closed (resolved)


async def tick(pool: asyncpg.Pool, clock: Clock, ctx: RoomsContext) -> TickReport:
    report = TickReport()
    if ctx.chat_id is None:
        return report
    now = clock.now()
    async with transaction(pool) as conn:
        if not await conn.fetchval("SELECT pg_try_advisory_xact_lock($1)", ROOMS_LOCK):
            return report
        for ticket_id in await store.without_room(conn, now - NEW_INCIDENTS_WINDOW):
            incident = await incidents_store.get(conn, ticket_id)
            if incident is not None and await rooms.open_room(conn, ctx, incident, now):
                report.opened.append(ticket_id)
        for room in await store.live(conn, now - RESOLVED_WINDOW):
            try:
                async with conn.transaction():  # a savepoint: one room's failure stays its own
                    await look_after(conn, ctx, room, now, report)
            except Exception:  # logged with its traceback; the other rooms go on
                logger.exception("rooms: looking after QC-{:06d} failed", room.ticket_id)
    return report


async def look_after(
    conn: Executor, ctx: RoomsContext, room: Room, now: datetime, report: TickReport
) -> None:
    incident = await incidents_store.get(conn, room.ticket_id)
    if incident is None:
        return
    await alerts_on_timeline(conn, room.ticket_id)
    if await rooms.refresh_summary(conn, ctx, room.ticket_id):
        report.edited.append(room.ticket_id)
    await rooms.rename_topic(conn, room.ticket_id)
    stage = await remind(conn, ctx, incident, room, now)
    if stage:
        report.reminded.append((room.ticket_id, stage))
    if await postmortem_due(conn, ctx, incident, room, now):
        report.postmortems.append(room.ticket_id)
    if await closing.follow(conn, ctx, room.ticket_id, now) == "closed":
        report.closed.append(room.ticket_id)


async def alerts_on_timeline(conn: Executor, ticket_id: int) -> int:
    count = 0
    for row in await store.alert_changes(conn, ticket_id):
        if await store.mark_alert(conn, row["id"], row["state"], row["at"], ticket_id):
            kind = "alert_firing" if row["state"] == "firing" else "alert_resolved"
            await tickets.add_event(
                conn, ticket_id, row["at"], None, kind, {"alert": row["alertname"]}
            )
            count += 1
    return count


async def remind(
    conn: Executor, ctx: RoomsContext, incident: Incident, room: Room, now: datetime
) -> int:
    """0, or the reminder stage reached now: 1 the lead (once), 2 the next level (once)."""
    minutes = ctx.rules.rhythm(incident.priority)
    if minutes is None or incident.resolved_at is not None or room.reminder_stage >= 2:
        return 0
    base = room.last_update_at or incident.opened_at
    stage = room.reminder_stage + 1
    if now < base + timedelta(minutes=minutes * stage):
        return 0
    ticket = await tickets.brief(conn, incident.ticket_id)
    assert ticket is not None
    lead = await tickets.display_name(conn, room.lead_id)
    told: list[tuple[int, str]] = []
    if stage == 1 and room.lead_id is not None:
        told = [(room.lead_id, lead or str(room.lead_id))]
    elif stage == 2 or room.lead_id is None:
        level = min(incident.level + 1, ctx.escalation.rules.top_level)
        if stage == 1:  # nobody leads: the level on call now is the one to remind
            level = incident.level
        people = await oncall.for_level(conn, ctx.escalation.rules, level, now, ctx.escalation.tz)
        told = [(p.user_id, p.display_name) for p in people]
    base_key = f"remind:{int(base.timestamp())}:{stage}"
    for user_id, _name in told:
        language = await users.language_of(conn, user_id)
        with use_locale(language):
            text = (
                render.reminder_to_lead(ticket.number, minutes * stage)
                if stage == 1 and room.lead_id is not None
                else render.reminder_to_level(ticket.number, minutes * stage, lead)
            )
        await outbox.send_text(
            conn,
            user_id,
            html(text),
            dedup_key=f"room:{incident.ticket_id}:{base_key}:{user_id}",
            owner=rooms.owner(incident.ticket_id),
            priority=outbox.PRIORITY_P1,
        )
    names = ", ".join(name for _uid, name in told)
    with use_locale(await rooms.language(conn, ctx, room.chat_id)):
        line = render.reminder_in_room(ticket.number, minutes * stage, names or "—")
    await rooms.post(conn, room, line, dedup=base_key)
    await store.update(conn, incident.ticket_id, reminder_stage=stage)
    await tickets.add_event(
        conn, incident.ticket_id, now, None, "room_reminder",
        {"stage": stage, "minutes": minutes * stage, "names": [n for _u, n in told],
         "people": [u for u, _n in told]},
    )  # fmt: skip
    return stage


async def postmortem_due(
    conn: Executor, ctx: RoomsContext, incident: Incident, room: Room, now: datetime
) -> bool:
    if (
        incident.resolved_at is None
        or room.postmortem_at is not None
        or incident.priority not in ctx.rules.postmortem_priorities
    ):
        return False
    failed = await build.payments_failed(
        ctx.quickcart, incident.opened_at, incident.resolved_at, ctx.escalation.tz
    )
    await draft.post(conn, ctx, incident.ticket_id, now, actor_id=None, payments_failed=failed)
    return True


class RoomsWorker(FeatureLoop[RoomsContext]):
    """Ticks every `scan_seconds`, or when woken (services/loop.py)."""

    what = "rooms tick"

    def __init__(self, pool: asyncpg.Pool, clock: Clock, ctx: RoomsContext) -> None:
        super().__init__(pool, clock, ctx)
        self.ticks = 0

    def pause(self) -> float:
        return self.ctx.rules.scan_seconds

    async def round(self) -> None:
        report = await tick(self.pool, self.clock, self.ctx)
        self.ticks += 1
        if report.opened or report.reminded or report.postmortems:
            logger.info(
                "rooms: opened {}, reminded {}, postmortems {}",
                report.opened, report.reminded, report.postmortems,
            )  # fmt: skip
