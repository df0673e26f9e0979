"""Staff and customer actions on a ticket: acknowledge, priority, assign, resolve, rate, close,
auto-close, ban. Each checks the person, writes the audit log (refusals too), the timeline and
the outbox rows in one transaction."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

import asyncpg

from services import audit, staff, users
from services.classification import Priority
from services.clock import Clock
from services.escalation import follow
from services.i18n import use_locale
from services.sla import deadlines
from services.storage.db import transaction
from services.storage.types import Executor
from services.tickets import history, outbound, store
from services.tickets import render_customer as customer_render
from services.tickets.config import DeskConfig
from services.tickets.model import (
    AlreadyClosed,
    AlreadyResolved,
    EventKind,
    Refused,
    Ticket,
    TicketError,
    TicketStatus,
)
from services.users import Person


async def authorize(
    pool: asyncpg.Pool, actor: Person, action: str, ticket_id: int | None, chat_id: int | None,
    *, owner_id: int | None = None, target: str | None = None,
) -> None:  # fmt: skip
    """`ticket.<action>` as the permission table (services.staff) allows it: to roles, and to
    the ticket's own customer (`owner_id`) for what customers do to their tickets. A refusal
    is audited (committed on its own) and raised as NotAllowed."""
    needed = staff.Action(f"ticket.{action}")
    if staff.may_person(actor, needed, owner_id=owner_id):
        return
    target = target or (f"ticket:{ticket_id}" if ticket_id else None)
    await staff.refuse(pool, actor, needed, target=target, chat_id=chat_id)
    raise Refused(needed, action)


async def customer_ticket(
    pool: asyncpg.Pool, customer: Person, ticket_id: int, action: str, chat_id: int | None = None
) -> Ticket:
    """The ticket a customer's button names, when it is theirs (`action`: view, close, rate,
    choose); someone else's is refused and audited. TicketNotFound when there is none."""
    ticket = await store.get(pool, ticket_id)
    await authorize(pool, customer, action, ticket_id, chat_id, owner_id=ticket.customer_id)
    return ticket


async def _audit(
    conn: Executor, actor: Person, action: str, ticket: Ticket, chat_id: int | None,
    **details: object,
) -> None:  # fmt: skip
    await staff.done(conn, actor, f"ticket.{action}", target=ticket.owner, chat_id=chat_id,
                     **details)  # fmt: skip


async def _recorded(
    conn: Executor, actor: Person, action: str, ticket: Ticket, chat_id: int | None,
    event: EventKind, now: datetime, **details: object,
) -> None:  # fmt: skip
    """What a person did to the ticket, on its timeline and in the audit log."""
    await history.add_event(conn, ticket.id, event, at=now, actor_id=actor.id, details=details)
    await _audit(conn, actor, action, ticket, chat_id, **details)


async def _told(
    conn: Executor, cfg: DeskConfig, now: datetime, ticket_id: int, notice: str, actor: Person,
    *, title: bool, **notice_fields: str,
) -> Ticket:  # fmt: skip
    """The ticket as the change left it, the change told in its topic, its card (and, with
    `title`, its topic's title) refreshed at once: a person's doing."""
    ticket = await store.get(conn, ticket_id)
    await outbound.notice(conn, ticket, cfg, notice, actor=actor.first_name, **notice_fields)
    await outbound.refresh_card(conn, ticket, cfg, now, title=title, by_person=True)
    return ticket


async def acknowledge(
    pool: asyncpg.Pool, cfg: DeskConfig, clock: Clock, *, actor: Person, ticket_id: int,
    chat_id: int | None = None,
) -> Ticket:  # fmt: skip
    await authorize(pool, actor, "acknowledge", ticket_id, chat_id)
    now = clock.now()
    async with transaction(pool) as conn:
        ticket = await store.get(conn, ticket_id, for_update=True)
        if not ticket.status.active:
            raise AlreadyResolved(ticket.id)
        changes: dict[str, object] = {"status": TicketStatus.ACKNOWLEDGED}
        if ticket.first_response_at is None:
            changes["first_response_at"] = now
        if ticket.assignee_id is None:
            changes["assignee_id"] = actor.id
        await store.update(conn, ticket.id, now, **changes)
        await _recorded(conn, actor, "acknowledge", ticket, chat_id, EventKind.ACKNOWLEDGED, now)
        return await _told(conn, cfg, now, ticket.id, "acknowledged", actor, title=True)


async def set_priority(
    pool: asyncpg.Pool, cfg: DeskConfig, clock: Clock, *, actor: Person, ticket_id: int,
    priority: Priority, chat_id: int | None = None,
) -> Ticket:  # fmt: skip
    """A staff override: the SLA clocks restart from the ticket's opening with the new targets."""
    await authorize(pool, actor, "priority", ticket_id, chat_id)
    now = clock.now()
    async with transaction(pool) as conn:
        ticket = await store.get(conn, ticket_id, for_update=True)
        if ticket.priority is priority:
            return ticket
        due = deadlines(priority, ticket.channel, ticket.created_at, cfg.tz, cfg.sla)
        await store.update(
            conn, ticket.id, now, priority=priority, response_due=due.response_due,
            resolution_due=due.resolution_due,
        )  # fmt: skip
        old = ticket.priority.value
        await _recorded(
            conn, actor, "priority", ticket, chat_id, EventKind.PRIORITY_CHANGED, now,
            **{"from": old, "to": priority.value},
        )  # fmt: skip
        await follow.ticket_priority(
            conn, cfg, now, ticket.id, priority=priority.value, actor_id=actor.id
        )
        return await _told(
            conn, cfg, now, ticket.id, "priority", actor, title=True, old=old, new=priority.value
        )


async def assign(
    pool: asyncpg.Pool, cfg: DeskConfig, clock: Clock, *, actor: Person, ticket_id: int,
    assignee: Person, chat_id: int | None = None,
) -> Ticket:  # fmt: skip
    await authorize(pool, actor, "assign", ticket_id, chat_id)
    if not assignee.is_staff:
        raise TicketError("assignee is not staff")
    now = clock.now()
    async with transaction(pool) as conn:
        ticket = await store.get(conn, ticket_id, for_update=True)
        await store.update(conn, ticket.id, now, assignee_id=assignee.id)
        await _recorded(
            conn, actor, "assign", ticket, chat_id, EventKind.ASSIGNED, now,
            assignee=assignee.id, previous=ticket.assignee_id,
        )  # fmt: skip
        return await _told(
            conn, cfg, now, ticket.id, "assigned", actor, title=False, assignee=assignee.first_name
        )


async def resolve(
    pool: asyncpg.Pool, cfg: DeskConfig, clock: Clock, *, actor: Person, ticket_id: int,
    chat_id: int | None = None,
) -> Ticket:  # fmt: skip
    """Stops the resolution clock and asks the customer for a rating. A ticket that is an open
    incident is resolved with its incident, by engineers and up only (as the incident is)."""
    await authorize(pool, actor, "resolve", ticket_id, chat_id)
    await _incident_allows(pool, actor, ticket_id, chat_id)
    now = clock.now()
    async with transaction(pool) as conn:
        ticket = await store.get(conn, ticket_id, for_update=True)
        if not ticket.status.active:
            raise AlreadyResolved(ticket.id)
        await _audit(conn, actor, "resolve", ticket, chat_id)
        return await resolved_in(conn, cfg, now, ticket, actor)


async def resolved_in(
    conn: Executor, cfg: DeskConfig, now: datetime, ticket: Ticket, actor: Person
) -> Ticket:
    """Resolve an active ticket inside the caller's transaction (the desk's Resolve, and an
    incident resolved from its own message): timeline, incident, topic, card, customer."""
    changes: dict[str, object] = {"status": TicketStatus.RESOLVED, "resolved_at": now}
    if ticket.first_response_at is None:
        changes["first_response_at"] = now
    await store.update(conn, ticket.id, now, **changes)
    await history.add_event(conn, ticket.id, EventKind.RESOLVED, at=now, actor_id=actor.id)
    await follow.ticket_ended(conn, cfg, now, ticket.id, actor_id=actor.id, how="resolved")
    ticket = await _told(conn, cfg, now, ticket.id, "resolved", actor, title=True)
    with use_locale(ticket.language):
        text, markup = customer_render.resolved(ticket, cfg.support.reopen_days)
    await outbound.to_customer(conn, ticket, "text", outbound.html(text, markup))
    return ticket


async def _incident_allows(
    pool: asyncpg.Pool, actor: Person, ticket_id: int, chat_id: int | None
) -> None:
    """Ending a ticket that is an open incident ends the incident: staff need the incident's
    own permission for it (engineers and up). Refused and audited as `incident.resolve`."""
    if staff.may_person(actor, staff.Action.RESOLVE):
        return
    if not await follow.is_open_incident(pool, ticket_id):
        return
    await staff.refuse(
        pool, actor, staff.Action.RESOLVE, target=f"ticket:{ticket_id}", chat_id=chat_id
    )
    raise Refused(staff.Action.RESOLVE, "incident")


async def rate(
    pool: asyncpg.Pool, cfg: DeskConfig, clock: Clock, *, customer: Person, ticket_id: int,
    stars: int, chat_id: int | None = None,
) -> Ticket:  # fmt: skip
    """The ticket's own customer rates it; anyone else's press is refused and audited."""
    await customer_ticket(pool, customer, ticket_id, "rate", chat_id)
    if not 1 <= stars <= 5:
        raise TicketError("stars out of range")
    now = clock.now()
    async with transaction(pool) as conn:
        ticket = await store.get(conn, ticket_id, for_update=True)
        if ticket.status not in (TicketStatus.RESOLVED, TicketStatus.CLOSED):
            raise TicketError("not resolved")
        await store.update(conn, ticket.id, now, rating=stars, rated_at=now)
        await history.add_event(
            conn, ticket.id, EventKind.RATED, at=now, actor_id=customer.id,
            details={"stars": stars},
        )  # fmt: skip
        ticket = replace(ticket, rating=stars)
        await outbound.notice(conn, ticket, cfg, "rated", stars=stars)
        await outbound.refresh_card(conn, ticket, cfg, now, by_person=True)
        return ticket


async def close(
    pool: asyncpg.Pool, cfg: DeskConfig, clock: Clock, *, actor: Person, ticket_id: int,
    chat_id: int | None = None,
) -> Ticket:  # fmt: skip
    """Staff or the ticket's own customer close a ticket (the bot's own closing is
    `auto_close`: no person, however unknown, is ever taken for the bot)."""
    ticket = await customer_ticket(pool, actor, ticket_id, "close", chat_id)
    if actor.id != ticket.customer_id:  # a customer may always close their own ticket
        await _incident_allows(pool, actor, ticket_id, chat_id)
    return await _close(pool, cfg, clock, actor, ticket_id, chat_id)


async def _close(
    pool: asyncpg.Pool, cfg: DeskConfig, clock: Clock, actor: Person | None, ticket_id: int,
    chat_id: int | None = None,
) -> Ticket:  # fmt: skip
    """Close as `actor`, or as the bot itself (None: `auto_close`), once allowed."""
    now = clock.now()
    async with transaction(pool) as conn:
        ticket = await store.get(conn, ticket_id, for_update=True)
        if ticket.status is TicketStatus.CLOSED:
            raise AlreadyClosed(ticket.id)
        await store.update(conn, ticket.id, now, status=TicketStatus.CLOSED, closed_at=now)
        details = {"automatic": actor is None, "from": ticket.status.value}
        await history.add_event(
            conn, ticket.id, EventKind.CLOSED, at=now,
            actor_id=actor.id if actor else None, details=details,
        )  # fmt: skip
        if actor is not None and actor.id != ticket.customer_id:
            await _audit(conn, actor, "close", ticket, chat_id)
        await follow.ticket_ended(
            conn, cfg, now, ticket.id, actor_id=actor.id if actor else None, how="closed"
        )
        ticket = await store.get(conn, ticket.id)
        if actor is None:
            await outbound.notice(
                conn, ticket, cfg, "auto_closed", days=cfg.support.auto_close_days
            )
        else:
            await outbound.notice(conn, ticket, cfg, "closed", actor=actor.first_name)
        await outbound.refresh_card(conn, ticket, cfg, now, title=True, by_person=True)
        with use_locale(ticket.language):
            text = customer_render.closed(ticket)
        await outbound.to_customer(conn, ticket, "text", outbound.html(text))
        return ticket


async def auto_close(pool: asyncpg.Pool, cfg: DeskConfig, clock: Clock) -> list[int]:
    """Close tickets resolved more than `auto_close_days` ago (the daily job calls this)."""
    cutoff = clock.now() - timedelta(days=cfg.support.auto_close_days)
    closed: list[int] = []
    for ticket_id in await store.resolved_before(pool, cutoff):
        try:
            await _close(pool, cfg, clock, None, ticket_id)
        except AlreadyClosed:
            continue
        closed.append(ticket_id)
    return closed


async def ban(
    pool: asyncpg.Pool, clock: Clock, *, actor: Person, customer_id: int,
    days: int | None = None, chat_id: int | None = None,
) -> datetime:  # fmt: skip
    """Admins ban a customer (for `days`, or for good). Returns the end of the ban."""
    await authorize(pool, actor, "ban", None, chat_id, target=f"user:{customer_id}")
    until = clock.now() + timedelta(days=days if days is not None else 36500)
    async with transaction(pool) as conn:
        if not await users.set_banned(conn, customer_id, until):
            raise TicketError("unknown customer")
        await audit.record(
            conn, actor_id=actor.id, action="ticket.ban", allowed=True,
            target=f"user:{customer_id}", chat_id=chat_id, details={"days": days},
        )  # fmt: skip
    return until


async def unban(
    pool: asyncpg.Pool, *, actor: Person, customer_id: int, chat_id: int | None = None
) -> None:
    await authorize(pool, actor, "unban", None, chat_id, target=f"user:{customer_id}")
    async with transaction(pool) as conn:
        await audit.record(
            conn, actor_id=actor.id, action="ticket.unban", allowed=True,
            target=f"user:{customer_id}", chat_id=chat_id,
        )  # fmt: skip
        if not await users.set_banned(conn, customer_id, None):
            raise TicketError("unknown customer")
