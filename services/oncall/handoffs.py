"""The on-call scan: handoffs told as they happen, gaps announced a day ahead, and pages
followed up on the person's second channel when nobody acknowledged them.

At each handoff the incoming person gets the open incidents and tickets of their role, the
outgoing one a thank-you and the summary, the admin chat one line. Each event is claimed once in
oncall_events, so several replicas (or a restart) never tell it twice. Handoffs older than the
lookback (the bot was down) are not told late; the board shows the truth anyway.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import asyncpg
from loguru import logger

from services import roster
from services.alerts.config import SmsChannel
from services.clock import Clock
from services.escalation import store as incidents
from services.escalation.render import role_label
from services.i18n import gettext as _
from services.loop import FeatureLoop
from services.oncall import contacts, outbound, render, store
from services.oncall.actions import OncallContext
from services.oncall.render import OpenWork
from services.oncall.schedule import handoffs, person_stretches, shifts
from services.storage.db import transaction
from services.storage.types import Executor
from services.tickets import store as tickets
from services.tickets.model import ticket_number

SCAN_EVERY = 30.0


@dataclass
class ScanReport:
    handoffs: list[tuple[str, int | None, int | None, datetime]] = field(default_factory=list)
    gaps: list[tuple[str, datetime]] = field(default_factory=list)
    followups: list[int] = field(default_factory=list)


async def open_work(db: Executor, ctx: OncallContext, role: str) -> list[OpenWork]:
    """Open incidents whose level belongs to `role`; for level 1's role also the active
    tickets that are not incidents."""
    work: list[OpenWork] = []
    levels = ctx.escalation.levels
    incident_ids: set[int] = set()
    for incident in await incidents.open_incidents(db):
        incident_ids.add(incident.ticket_id)
        if 1 <= incident.level <= len(levels) and levels[incident.level - 1].role.value == role:
            ticket = await tickets.find(db, incident.ticket_id)
            subject = ticket.subject if ticket else ""
            work.append(OpenWork(ticket_number(incident.ticket_id), incident.priority, subject))
    if levels and levels[0].role.value == role:
        for ticket in await tickets.active(db, limit=100):
            if ticket.id not in incident_ids:
                work.append(OpenWork(ticket.number, str(ticket.priority), ticket.subject))
    return work


async def tell_handoff(
    db: Executor, ctx: OncallContext, role: str, outgoing: int | None, incoming: int | None,
    at: datetime, end: datetime,
) -> None:  # fmt: skip
    names = await roster.names_of(db, [outgoing, incoming])
    work = await open_work(db, ctx, role)
    key = f"oncall:handoff:{role}:{at.timestamp():.0f}"
    from services.oncall.model import Shift

    shift_in = Shift(role, incoming, at, end)
    if incoming is not None:
        await outbound.tell_person(
            db, ctx, incoming,
            lambda: render.handoff_incoming(role, shift_in, work, outgoing, names, ctx.tz),
            dedup=f"{key}:in",
        )  # fmt: skip
    if outgoing is not None and outgoing != incoming:
        shift_out = Shift(role, outgoing, at, at)
        await outbound.tell_person(
            db, ctx, outgoing,
            lambda: render.handoff_outgoing(role, shift_out, incoming, len(work), names, ctx.tz),
            dedup=f"{key}:out",
        )  # fmt: skip
    await outbound.tell_admin_chat(
        db, ctx, lambda: render.handoff_line(role, outgoing, incoming, names), dedup=f"{key}:admin"
    )


def _next_level_role(ctx: OncallContext, role: str) -> str | None:
    levels = [lv.role.value for lv in ctx.escalation.levels]
    if role in levels and levels.index(role) + 1 < len(levels):
        return levels[levels.index(role) + 1]
    return None


async def scan_once(
    pool: asyncpg.Pool, ctx: OncallContext, now: datetime, since: datetime,
    sms: SmsChannel | None,
) -> ScanReport:  # fmt: skip
    report = ScanReport()
    ahead = timedelta(hours=ctx.rules.gap_notice_hours)
    for role in await store.rotated_roles(pool):
        schedule = await store.schedule(
            pool, role, ctx.tz, since - timedelta(days=8), now + ahead + timedelta(days=8)
        )
        if schedule is None:
            continue
        for outgoing, incoming in handoffs(schedule, since, now):
            if not schedule.in_force(incoming.start):
                continue  # `/rotation off`: the slot answers from here, not a gap
            async with transaction(pool) as conn:
                if not await store.mark_event(conn, role, incoming.start, "handoff"):
                    continue
                await tell_handoff(
                    conn, ctx, role, outgoing.user_id, incoming.user_id, incoming.start,
                    incoming.end,
                )  # fmt: skip
            report.handoffs.append((role, outgoing.user_id, incoming.user_id, incoming.start))
        for stretch in person_stretches(shifts(schedule, now, now + ahead)):
            if stretch.user_id is not None or not schedule.in_force(stretch.start):
                continue
            # a gap running now is told too (its start may be before `now`)
            start, end = stretch.start, stretch.end
            around = (start - timedelta(days=8), start + timedelta(days=8))
            for candidate in person_stretches(shifts(schedule, *around)):
                if candidate.start <= start < candidate.end and candidate.user_id is None:
                    start, end = candidate.start, candidate.end  # its whole length
            async with transaction(pool) as conn:
                if not await store.mark_event(conn, role, start, "gap_notice"):
                    continue
                nxt = _next_level_role(ctx, role)
                text = _gap_text(ctx, role, start, end, nxt)
                await outbound.tell_admin_chat(
                    conn, ctx, text, dedup=f"oncall:gap:{role}:{start.timestamp():.0f}"
                )
            report.gaps.append((role, start))
    async with transaction(pool) as conn:
        due = await contacts.due_followups(conn, now)
    for item in due:
        ok = await contacts.send_followup(pool, sms, item, follow_up_text(item, ctx))
        if ok:
            report.followups.append(item.id)
    return report


def _gap_text(
    ctx: OncallContext, role: str, start: datetime, end: datetime, nxt: str | None
) -> Callable[[], str]:
    return lambda: render.gap_notice(role, start, end, ctx.tz, role_label(nxt) if nxt else None)


def follow_up_text(item: contacts.Followup, ctx: OncallContext) -> str:
    """Plain text for SMS / voice, in DEFAULT_LOCALE (a phone has no language setting here)."""
    from services.i18n import use_locale

    with use_locale(ctx.default_locale):
        return _(
            "QuickCart Ops: {priority} {number} not acknowledged: {subject}. Open Telegram."
        ).format(priority=item.priority, number=item.number, subject=item.subject[:200])


class OncallWorker(FeatureLoop[OncallContext]):
    """One loop: handoffs, gap notices, follow-ups; every SCAN_EVERY seconds or when woken."""

    what = "on-call scan"

    def __init__(
        self, pool: asyncpg.Pool, clock: Clock, ctx: OncallContext, sms: SmsChannel | None,
        *, every: float = SCAN_EVERY,
    ) -> None:  # fmt: skip
        super().__init__(pool, clock, ctx)
        self.sms = sms
        self.every = every
        self.since: datetime | None = None
        self.scans = 0

    def pause(self) -> float:
        return self.every

    async def round(self) -> None:
        now = self.clock.now()
        lookback = now - timedelta(minutes=self.ctx.rules.handoff_lookback_minutes)
        since = max(self.since or lookback, lookback)
        report = await scan_once(self.pool, self.ctx, now, since, self.sms)
        self.since = now
        self.scans += 1
        if report.handoffs or report.gaps or report.followups:
            logger.info(
                "on-call scan: {} handoffs, {} gaps announced, {} follow-ups sent",
                len(report.handoffs), len(report.gaps), len(report.followups),
            )  # fmt: skip
