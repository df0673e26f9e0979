"""The due-item scan and the worker that runs it.

Exact and cheap: it reads only incidents whose `next_deadline` has passed (a partial index),
locks them with `FOR UPDATE SKIP LOCKED` (two replicas never take the same incident) and
writes the new level with an UPDATE conditional on the level it read. An incident enters its
new level at the scan's time, so after downtime each scan moves it at most one level.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import asyncpg
from loguru import logger

from services.clock import Clock
from services.escalation import emergency, emergency_breach, outbound, store
from services.escalation import store_emergency as emergency_store
from services.escalation.context import EscalationContext
from services.escalation.incidents import escalate_step, record_event, record_notified
from services.escalation.policy import due_actions, level_deadline
from services.escalation.responders import told_of_breach
from services.escalation.store import Incident
from services.loop import FeatureLoop
from services.storage.db import transaction
from services.storage.types import Executor
from services.tickets import briefs as tickets
from services.tickets import deadlines as ticket_deadlines
from services.tickets import store as ticket_repo


@dataclass
class ScanReport:
    escalated: list[tuple[int, int, int]] = field(default_factory=list)  # ticket, from, to
    breaches: list[int] = field(default_factory=list)
    closed: list[int] = field(default_factory=list)  # ticket closed at the desk
    lateness: list[float] = field(default_factory=list)  # seconds after the deadline
    ticket_breaches: list[int] = field(default_factory=list)  # tickets' missed responses told
    tickets_checked: int = 0  # tickets whose card was brought up to date
    emergency_repeats: list[int] = field(default_factory=list)  # SOS tickets paged again
    emergency_breaches: list[int] = field(default_factory=list)  # SOS past their 30 minutes


async def scan_once(
    pool: asyncpg.Pool, clock: Clock, ctx: EscalationContext, *, batch: int = 200
) -> ScanReport:
    """Handle everything due now, in batches, each batch one transaction: incidents, then
    tickets whose deadline passed (their cards, a missed response told once)."""
    report = ScanReport()
    now = clock.now()
    while True:
        async with transaction(pool) as conn:
            due = await store.claim_due(conn, now, batch)
            for incident in due:
                await _handle(conn, clock, ctx, incident, report)
        if len(due) < batch:
            break
    desk = ctx.desk_config()
    while True:
        async with transaction(pool) as conn:
            checked = await ticket_deadlines.check_due(
                conn, desk, now, fallback_chat_id=ctx.admin_chat_id, limit=batch
            )
        report.tickets_checked += checked.tickets
        report.ticket_breaches += checked.breaches
        if checked.tickets < batch:
            break
    report.emergency_repeats = await emergency.repeat_due(pool, clock, ctx)
    report.emergency_breaches = await emergency_breach.breaches_due(pool, clock, ctx)
    return report


async def _handle(
    conn: Executor,
    clock: Clock,
    ctx: EscalationContext,
    incident: Incident,
    report: ScanReport,
) -> None:
    now = clock.now()
    ticket = await tickets.brief(conn, incident.ticket_id)
    if ticket is None or not ticket.active:
        # Resolved or closed at the desk: the incident ends with its ticket, silently.
        ended = replace(incident, resolved_at=now, next_deadline=None)
        await store.save(conn, ended, expected_level=incident.level)
        await record_event(conn, clock, incident.ticket_id, None, "incident_closed_with_ticket")
        if ticket is not None:
            await outbound.refresh_copies(conn, ctx, ended, ticket)
        report.closed.append(incident.ticket_id)
        return
    actions = due_actions(ctx.rules, incident.clock(), now)
    current = incident
    if actions.response_breach:
        current = replace(current, response_breach_told_at=now).with_deadline(ctx.rules)
        if not await store.save(conn, current, expected_level=incident.level):
            return
        await _tell_breach(conn, clock, ctx, current, ticket)
        report.breaches.append(incident.ticket_id)
    if actions.escalate:
        deadline = level_deadline(ctx.rules, incident.clock())
        assert deadline is not None
        stepped = await escalate_step(
            conn, clock, ctx, current, ticket, actor_id=None, reason=None, due_at=deadline
        )
        if stepped is not None:
            report.escalated.append((incident.ticket_id, incident.level, stepped[0].level))
            report.lateness.append((now - deadline).total_seconds())
    if not actions.response_breach and not actions.escalate:
        # the policy changed under a stored deadline: recompute it, do nothing else
        await store.save(conn, current.with_deadline(ctx.rules), expected_level=incident.level)


async def _tell_breach(
    conn: Executor,
    clock: Clock,
    ctx: EscalationContext,
    incident: Incident,
    ticket: tickets.TicketBrief,
) -> None:
    """Remind the assignee (or this level's on-call people) and tell the next level, once."""
    now = clock.now()
    people = await told_of_breach(conn, ctx.rules, ctx.tz, ticket.assignee_id, incident.level, now)
    told = await outbound.page_people(
        conn, ctx, incident, ticket, people, variant="breach", dedup="breach"
    )
    await record_event(
        conn,
        clock,
        ticket.id,
        None,
        "incident_response_breached",
        level=incident.level,
        minutes=ctx.rules.priority(incident.priority).response_time,
    )
    await record_notified(conn, clock, ticket.id, told, "response_breach")


class EscalationWorker(FeatureLoop[EscalationContext]):
    """Runs the scan until stopped: at the next deadline, and at least every `max_sleep` s.
    Owned by the app's lifecycle (start `run()` as a task, call `stop()` on shutdown)."""

    what = "escalation scan"

    def __init__(
        self,
        pool: asyncpg.Pool,
        clock: Clock,
        ctx: EscalationContext,
        *,
        max_sleep: float = 15.0,
        min_sleep: float = 0.05,
    ) -> None:
        super().__init__(pool, clock, ctx)
        self.max_sleep = max_sleep
        self.min_sleep = min_sleep
        self.scans = 0

    def pause(self) -> float:
        return self.max_sleep

    async def round(self) -> float:
        report = await scan_once(self.pool, self.clock, self.ctx)
        self.scans += 1
        if report.escalated or report.breaches or report.ticket_breaches:
            logger.info(
                "escalation scan: {} escalated, {} response breaches, {} tickets "
                "unanswered past their deadline",
                len(report.escalated),
                len(report.breaches),
                len(report.ticket_breaches),
            )
        return await self._delay()

    async def _delay(self) -> float:
        found = [
            d
            for d in (
                await store.earliest_deadline(self.pool),
                await ticket_repo.earliest_check(self.pool),
                await emergency_store.earliest_repeat(self.pool),
                await emergency_store.earliest_breach(self.pool),
            )
            if d is not None
        ]
        if not found:
            return self.max_sleep
        earliest = min(found)
        seconds = (earliest - self.clock.now()).total_seconds()
        return min(self.max_sleep, max(self.min_sleep, seconds))
