"""Incidents: open, acknowledge, escalate, resolve. Each step is one transaction that changes
the state, writes the timeline, queues the notifications and audits who did it."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

import asyncpg

from services import roster, staff
from services.clock import Clock
from services.escalation import outbound, store
from services.escalation.context import EscalationContext
from services.escalation.store import Incident
from services.staff import Action
from services.storage.db import transaction
from services.tickets import actions as desk_actions
from services.tickets import briefs as tickets
from services.tickets import outbound as desk_cards
from services.tickets import store as desk_repo
from services.tickets.briefs import TicketBrief
from services.tickets.model import ticket_number
from services.users import Person

Db = asyncpg.Pool | asyncpg.Connection


class IncidentError(Exception):
    """An expected refusal a handler turns into a sentence."""


class TicketNotFound(IncidentError):
    pass


class NotAnIncident(IncidentError):
    pass


class AlreadyResolved(IncidentError):
    pass


class AtTopLevel(IncidentError):
    pass


class StaleLevel(IncidentError):
    """The button was pressed on a copy older than the incident's current level."""

    def __init__(self, level: int) -> None:
        super().__init__(f"level is {level}")
        self.level = level


@dataclass(frozen=True)
class Outcome:
    incident: Incident
    number: str
    changed: bool = True
    told: tuple[int, ...] = ()  # user ids paged privately


async def _ticket(conn: Any, ticket_id: int) -> TicketBrief:
    ticket = await tickets.brief(conn, ticket_id)
    if ticket is None:
        raise TicketNotFound(str(ticket_id))
    return ticket


async def record_event(
    conn: Any, clock: Clock, ticket_id: int, actor: int | None, kind: str, **details: Any
) -> None:
    await tickets.add_event(conn, ticket_id, clock.now(), actor, kind, details)


async def record_notified(
    conn: Any, clock: Clock, ticket_id: int, people: list[roster.StaffMember], why: str, **more: Any
) -> None:
    if people or more.get("groups"):
        await record_event(
            conn,
            clock,
            ticket_id,
            None,
            "incident_notified",
            why=why,
            people=[p.user_id for p in people],
            names=[p.display_name for p in people],
            **more,
        )


async def open_incident(
    db: Db,
    clock: Clock,
    ctx: EscalationContext,
    *,
    source: str,
    title: str,
    priority: str,
    actor: Person | None = None,
    ticket_id: int | None = None,
    description: str | None = None,
    chat_id: int | None = None,
) -> Outcome:
    """Make a ticket an incident at level 1 (raising a ticket first when `ticket_id` is None:
    `/incident`, alerts) and tell who the policy says. Idempotent per ticket.
    `source`: "ticket", "staff", "alert". `actor` None means the bot itself (an alert)."""
    if actor is not None:
        await staff.require(db, actor, Action.RAISE_INCIDENT, target=title[:100], chat_id=chat_id)
    rules = ctx.rules
    now = clock.now()
    async with transaction(db) as conn:
        if ticket_id is None:
            response = rules.priority(priority).response_time
            ticket_id = await tickets.raise_ticket(
                conn,
                title=title,
                description=description or title,
                priority=priority,
                raised_by=actor.id if actor else None,
                now=now,
                response_minutes=response,
                resolution_minutes=max(response * 4, 60),
            )
        ticket = await _ticket(conn, ticket_id)
        fresh = Incident(
            ticket_id=ticket_id,
            priority=priority,
            source=source,
            level=1,
            opened_at=now,
            opened_by=actor.id if actor else None,
            level_entered_at=now,
            next_deadline=None,
            acknowledged_by=None,
            acknowledged_at=None,
            response_breach_told_at=None,
            resolved_by=None,
            resolved_at=None,
            escalations=0,
        ).with_deadline(rules)
        incident = await store.insert(conn, fresh)
        if incident is None:  # already an incident: nothing new to tell
            existing = await store.get(conn, ticket_id)
            assert existing is not None
            return Outcome(existing, ticket.number, changed=False)
        await record_event(
            conn,
            clock,
            ticket_id,
            fresh.opened_by,
            "incident_opened",
            source=source,
            priority=priority,
            level=1,
        )
        paged: list[roster.StaffMember] = []
        if rules.priority(priority).page_on_open:
            paged = await outbound.page_level(
                conn, ctx, incident, ticket, 1, variant="page", dedup="open", at=now
            )
        groups = [name for name, _rule in rules.groups_of(priority)]
        told = await outbound.notice_groups(
            conn, ctx, incident, ticket, groups, variant="notice", dedup="open", at=now
        )
        if source == "alert" and chat_id is not None and chat_id not in told:
            # Escalate pressed on an alert in a group the policy does not tell (a route's team
            # chat): the incident's card lands where they pressed too, with its buttons
            # (Acknowledge... Customer-facing), and follows the incident like the others.
            await outbound.notice_chat(conn, ctx, incident, ticket, chat_id, dedup="open")
        await record_notified(conn, clock, ticket_id, paged, "opened", groups=groups, level=1)
        if ctx.on_open is not None:  # the incident's room (services/rooms), in this transaction
            await ctx.on_open(conn, incident, now)
        await desk_cards.refresh_card_of(conn, ticket_id, ctx.desk_config(), now)
        await staff.done(
            conn,
            actor,
            "incident.open",
            target=ticket.number,
            chat_id=chat_id,
            source=source,
            priority=priority,
        )
        return Outcome(incident, ticket.number, told=tuple(p.user_id for p in paged))


async def _locked(conn: Any, ticket_id: int) -> Incident:
    incident = await store.get(conn, ticket_id, lock=True)
    if incident is None:
        raise NotAnIncident(ticket_number(ticket_id))
    if incident.resolved_at is not None:
        raise AlreadyResolved(ticket_number(ticket_id))
    return incident


def _lateness(due_at: datetime | None, now: datetime) -> dict[str, Any]:
    if due_at is None:
        return {}
    return {"due_at": due_at.isoformat(), "late_seconds": (now - due_at).total_seconds()}


async def escalate_step(
    conn: Any,
    clock: Clock,
    ctx: EscalationContext,
    incident: Incident,
    ticket: TicketBrief,
    *,
    actor_id: int | None,
    reason: str | None,
    due_at: datetime | None = None,
) -> tuple[Incident, list[roster.StaffMember]] | None:
    """Move one level up (conditional on the level read); None if someone else already did."""
    now = clock.now()
    moved = replace(
        incident,
        level=incident.level + 1,
        level_entered_at=now,
        escalations=incident.escalations + 1,
    ).with_deadline(ctx.rules)
    if not await store.save(conn, moved, expected_level=incident.level):
        return None
    await record_event(
        conn,
        clock,
        ticket.id,
        actor_id,
        "incident_escalated",
        from_level=incident.level,
        to_level=moved.level,
        auto=actor_id is None,
        reason=reason,
        **_lateness(due_at, now),
    )
    await outbound.refresh_copies(conn, ctx, moved, ticket)  # older copies, before new ones
    await desk_cards.refresh_card_of(conn, ticket.id, ctx.desk_config(), now)
    dedup = f"esc{moved.escalations}"
    paged = await outbound.page_level(
        conn, ctx, moved, ticket, moved.level, variant="escalated", dedup=dedup, at=now
    )
    await outbound.notice_groups(
        conn, ctx, moved, ticket, [], variant="escalated", dedup=dedup, also_mention=paged
    )
    await record_notified(conn, clock, ticket.id, paged, "escalated", level=moved.level)
    return moved, paged


async def escalate(
    db: Db,
    clock: Clock,
    ctx: EscalationContext,
    ticket_id: int,
    actor: Person,
    *,
    reason: str | None = None,
    expected_level: int | None = None,
    chat_id: int | None = None,
) -> Outcome:
    """The Escalate button and `/escalate`: one level up. A ticket that is not an incident yet
    becomes one at level 2 (its support engineer, level 1, is the one asking for help)."""
    number = ticket_number(ticket_id)
    await staff.require(db, actor, Action.ESCALATE, target=number, chat_id=chat_id)
    async with transaction(db) as conn:
        ticket = await _ticket(conn, ticket_id)
        incident = await store.get(conn, ticket_id, lock=True)
        if incident is None:
            opened = await open_incident(
                conn,
                clock,
                ctx,
                source="ticket",
                title=ticket.title,
                priority=ticket.priority,
                ticket_id=ticket_id,
                chat_id=chat_id,
            )
            incident = opened.incident
        if incident.resolved_at is not None:
            raise AlreadyResolved(number)
        if expected_level is not None and expected_level != incident.level:
            raise StaleLevel(incident.level)
        if incident.level >= ctx.rules.top_level:
            raise AtTopLevel(number)
        stepped = await escalate_step(
            conn, clock, ctx, incident, ticket, actor_id=actor.id, reason=reason
        )
        if stepped is None:
            raise StaleLevel(incident.level + 1)
        moved, paged = stepped
        await staff.done(
            conn,
            actor,
            Action.ESCALATE,
            target=number,
            chat_id=chat_id,
            **{"from": incident.level, "to": moved.level, "reason": reason},
        )
        return Outcome(moved, number, told=tuple(p.user_id for p in paged))


async def acknowledge(
    db: Db,
    clock: Clock,
    ctx: EscalationContext,
    ticket_id: int,
    actor: Person,
    *,
    chat_id: int | None = None,
) -> Outcome:
    number = ticket_number(ticket_id)
    await staff.require(db, actor, Action.ACKNOWLEDGE, target=number, chat_id=chat_id)
    async with transaction(db) as conn:
        ticket = await _ticket(conn, ticket_id)
        incident = await _locked(conn, ticket_id)
        if incident.acknowledged_at is not None:
            return Outcome(incident, number, changed=False)
        acked = replace(
            incident, acknowledged_by=actor.id, acknowledged_at=clock.now()
        ).with_deadline(ctx.rules)
        await store.save(conn, acked, expected_level=incident.level)
        await record_event(
            conn, clock, ticket_id, actor.id, "incident_acknowledged", level=acked.level
        )
        await outbound.refresh_copies(conn, ctx, acked, ticket)
        await desk_cards.refresh_card_of(conn, ticket_id, ctx.desk_config(), clock.now())
        await staff.done(conn, actor, Action.ACKNOWLEDGE, target=number, chat_id=chat_id)
        return Outcome(acked, number)


async def resolve(
    db: Db,
    clock: Clock,
    ctx: EscalationContext,
    ticket_id: int,
    actor: Person,
    *,
    chat_id: int | None = None,
) -> Outcome:
    """Only engineers and up (see staff.PERMISSIONS); a refusal is audited by `require`.
    The ticket is resolved with its incident (the desk's own Resolve, in this transaction)."""
    number = ticket_number(ticket_id)
    await staff.require(db, actor, Action.RESOLVE, target=number, chat_id=chat_id)
    async with transaction(db) as conn:
        ticket = await _ticket(conn, ticket_id)
        incident = await _locked(conn, ticket_id)
        now = clock.now()
        done = replace(incident, resolved_by=actor.id, resolved_at=now).with_deadline(ctx.rules)
        await store.save(conn, done, expected_level=incident.level)
        await record_event(conn, clock, ticket_id, actor.id, "incident_resolved", level=done.level)
        await outbound.refresh_copies(conn, ctx, done, ticket)
        # a customer-facing incident tells every linked customer (services/massincident)
        from services.massincident import fanout

        await fanout.incident_resolved(conn, clock, ctx, ticket_id, actor.id)
        desk_ticket = await desk_repo.get(conn, ticket_id, for_update=True)
        if desk_ticket.status.active:
            await desk_actions.resolved_in(conn, ctx.desk_config(), now, desk_ticket, actor)
        else:
            await desk_cards.refresh_card(conn, desk_ticket, ctx.desk_config(), now)
        await staff.done(conn, actor, Action.RESOLVE, target=number, chat_id=chat_id)
        return Outcome(done, number)
