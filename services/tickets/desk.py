"""The desk's conversation rules: opening a ticket, a customer writing, staff answering.

Each function runs in one transaction: the ticket, its message, its timeline event and the
outbox rows that tell people commit together ("in PostgreSQL before anyone is told").
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Literal

import asyncpg
from redis.asyncio import Redis

from services.classification import Category, classify
from services.clock import Clock
from services.i18n import use_locale
from services.sla import Channel, deadlines, response_minutes
from services.storage.db import transaction
from services.storage.types import Executor
from services.text import shorten, storable, storable_or_none
from services.tickets import history, limits, outbound, quick_relay, store
from services.tickets import render as staff_render
from services.tickets import render_customer as customer_render
from services.tickets.config import DeskConfig
from services.tickets.model import (
    AlreadyClosed,
    EventKind,
    Incoming,
    NotAllowed,
    RateLimited,
    Ticket,
    TicketStatus,
)
from services.users import Person

# Runs inside the desk's transaction once the ticket is known: a channel records what it must
# in the same commit (the e-mail channel: which ticket its stored message became, attachments).
Within = Callable[[Executor, Ticket], Awaitable[None]]


@dataclass(frozen=True)
class Opened:
    ticket: Ticket
    response_minutes: int


async def open_ticket(
    pool: asyncpg.Pool,
    redis: Redis,
    cfg: DeskConfig,
    clock: Clock,
    *,
    customer: Person,
    category: Category,
    description: str,
    order_ref: str | None = None,
    attachments: tuple[Incoming, ...] = (),
    channel: Channel = Channel.BOT,
    within: Within | None = None,
) -> Opened:
    """Classify, set the SLA clocks, store, and queue the topic, its card and the customer's
    confirmation. Raises RateLimited (too many new tickets) or NotAllowed (banned)."""
    description, order_ref = storable(description), storable_or_none(order_ref)
    now = clock.now()
    _check_not_banned(customer, now)
    verdict = await limits.new_ticket(redis, customer.id, cfg.support, clock)
    if not verdict.allowed:
        assert verdict.retry_at is not None
        raise RateLimited("tickets", verdict.retry_at)
    result = classify(
        "\n".join(filter(None, [description, *(a.text or "" for a in attachments)])),
        category=category,
        rules=cfg.classification,
    )
    due = deadlines(result.priority, channel, now, cfg.tz, cfg.sla)
    promised = response_minutes(result.priority, channel, cfg.sla)
    language = customer.language or cfg.staff_locale
    async with transaction(pool) as conn:
        ticket_id = await store.insert(
            conn,
            customer_id=customer.id,
            priority=result.priority,
            category=category,
            channel=channel,
            subject=shorten(" ".join(description.split()), cfg.support.subject_length),
            description=description,
            order_ref=order_ref,
            language=language,
            support_chat_id=cfg.support_chat_id,
            classification=result.as_details(),
            now=now,
            response_due=due.response_due,
            resolution_due=due.resolution_due,
        )
        await history.add_event(
            conn, ticket_id, EventKind.CREATED, at=now, actor_id=customer.id,
            details={"channel": channel.value, "category": category.value},
        )  # fmt: skip
        await history.add_event(
            conn, ticket_id, EventKind.CLASSIFIED, at=now, details=result.as_details()
        )
        ticket = await store.get(conn, ticket_id)
        ticket = await outbound.open_topic(conn, ticket, cfg, now)
        if within is not None:
            await within(conn, ticket)
        for item in attachments:
            await _relay_in(conn, ticket, cfg, item, now)
        with use_locale(ticket.language):
            text = customer_render.ticket_created(ticket, promised)
        await outbound.to_customer(conn, ticket, "text", outbound.html(text))
    return Opened(ticket, promised)


@dataclass(frozen=True)
class Delivered:
    """What became of a customer's message."""

    outcome: Literal["relayed", "reopened", "choose", "none"]
    ticket: Ticket | None = None
    choices: tuple[Ticket, ...] = field(default_factory=tuple)


async def customer_message(
    pool: asyncpg.Pool,
    redis: Redis,
    cfg: DeskConfig,
    clock: Clock,
    *,
    customer: Person,
    incoming: Incoming,
    ticket_id: int | None = None,
    within: Within | None = None,
) -> Delivered:
    """Put a customer's message into their ticket: the one named, the only reachable one, or
    ask which. A resolved ticket inside the reopen window opens again."""
    now = clock.now()
    _check_not_banned(customer, now)
    verdict = await limits.message(redis, customer.id, cfg.support, clock, event=incoming.key)
    if not verdict.allowed:
        assert verdict.retry_at is not None
        raise RateLimited("messages", verdict.retry_at)
    since = now - timedelta(days=cfg.support.reopen_days)
    picked = _pick(await store.reachable_for_customer(pool, customer.id, since), ticket_id)
    if isinstance(picked, Delivered):
        return picked
    if within is None and await quick_relay.relay_at_once(pool, picked, cfg, incoming, now):
        return Delivered("relayed", picked)
    async with transaction(pool) as conn:
        # read again and locked in one statement: a staff action on them waits for this one
        locked = await store.reachable_for_customer(conn, customer.id, since, lock=True)
        picked = _pick(locked, ticket_id)
        if isinstance(picked, Delivered):
            return picked
        ticket = picked
        outcome: Literal["relayed", "reopened"] = "relayed"
        if ticket.status is TicketStatus.RESOLVED:
            ticket = await _reopen(conn, ticket, cfg, now)
            outcome = "reopened"
        elif ticket.status is TicketStatus.WAITING:
            await store.update(conn, ticket.id, now, status=TicketStatus.ACKNOWLEDGED)
            ticket = replace(ticket, status=TicketStatus.ACKNOWLEDGED)
            await outbound.refresh_card(conn, ticket, cfg, now, title=True, by_person=True)
        if within is not None:
            await within(conn, ticket)
        await _relay_in(conn, ticket, cfg, incoming, now)
    return Delivered(outcome, ticket)


async def text_into_sole_ticket(
    pool: asyncpg.Pool,
    redis: Redis,
    cfg: DeskConfig,
    clock: Clock,
    *,
    customer: Person,
    incoming: Incoming,
) -> bool:
    """A storm's bulk, first and in one statement: a short text from a customer whose one
    active ticket is open or acknowledged, and who has no live link to a public incident (the
    mass-incident side leaves such a message to the desk). True: it is in that ticket, its copy
    queued. False: nothing was stored; the message goes the usual way (the mass-incident side,
    then `customer_message`), where an abuse limit already checked here is not counted again."""
    now = clock.now()
    if incoming.kind != "text" or not customer.full_name:
        return False
    if customer.banned_at(now):
        return False
    verdict = await limits.message(redis, customer.id, cfg.support, clock, event=incoming.key)
    if not verdict.allowed:
        return False
    return await quick_relay.relay_into_sole(pool, cfg, customer, incoming, now)


def _pick(reachable: list[Ticket], ticket_id: int | None) -> Ticket | Delivered:
    """The ticket a message goes into: the one named, the only active one, else the newest
    resolved one; or what to answer instead (none to go into, or which of several)."""
    if ticket_id is not None:
        reachable = [t for t in reachable if t.id == ticket_id]
    if not reachable:
        return Delivered("none")
    active = [t for t in reachable if t.status.active]
    if len(active) > 1 and ticket_id is None:
        return Delivered("choose", choices=tuple(active))
    return active[0] if active else reachable[0]


async def _reopen(conn: Executor, ticket: Ticket, cfg: DeskConfig, now: datetime) -> Ticket:
    status = TicketStatus.ACKNOWLEDGED if ticket.first_response_at else TicketStatus.OPEN
    await store.update(conn, ticket.id, now, status=status, resolved_at=None, rating=None)
    await history.add_event(
        conn, ticket.id, EventKind.REOPENED, at=now, actor_id=ticket.customer_id
    )
    ticket = replace(ticket, status=status, resolved_at=None, rating=None)
    await outbound.notice(conn, ticket, cfg, "reopened")
    await outbound.refresh_card(conn, ticket, cfg, now, title=True, by_person=True)
    with use_locale(ticket.language):
        text = customer_render.reopened(ticket)
    await outbound.to_customer(conn, ticket, "text", outbound.html(text))
    return ticket


async def _relay_in(
    conn: Executor, ticket: Ticket, cfg: DeskConfig, incoming: Incoming, now: datetime
) -> None:
    """The message, its event and its copy into the topic: two round trips."""
    recorded = await history.record_relayed(
        conn, ticket.id, EventKind.CUSTOMER_MESSAGE, direction="in",
        author_id=incoming.author_id, kind=incoming.kind, body=incoming.text,
        file_id=incoming.file_id, source_chat_id=incoming.chat_id,
        source_message_id=incoming.message_id, at=now,
    )  # fmt: skip
    if recorded is None:  # the same Telegram message again: already relayed
        return
    message_id, row_id = recorded
    if await _to_topic(conn, ticket, cfg, incoming, row_id) is None:
        await history.set_relay(conn, message_id, None)


async def _to_topic(
    conn: Executor, ticket: Ticket, cfg: DeskConfig, incoming: Incoming, row_id: int
) -> int | None:
    """Copy a customer's message into the topic, whole: a long text in labelled parts; media
    with their caption, and a caption too long to go along also as text. The first row takes
    `row_id` (replies to it find the ticket); None when nothing was queued."""
    if incoming.kind == "text":
        parts = staff_render.customer_message_in_topic(ticket, incoming.text or "")
    else:
        parts = []
        if len(incoming.text or "") > staff_render.CAPTION_ROOM:
            parts = staff_render.customer_message_in_topic(ticket, incoming.text or "")
        kind, payload = outbound.relay_payload(
            incoming, "", staff_render.customer_caption_in_topic(ticket, incoming.text)
        )
        first = await outbound.to_topic(conn, ticket, cfg, kind, payload, row_id=row_id)
        for part in parts:
            await outbound.to_topic(conn, ticket, cfg, "text", outbound.html(part))
        return first
    rows = [
        await outbound.to_topic(
            conn, ticket, cfg, "text", outbound.html(p), row_id=row_id if i == 0 else None
        )
        for i, p in enumerate(parts)
    ]
    return rows[0] if rows else None


async def staff_message(
    pool: asyncpg.Pool, cfg: DeskConfig, clock: Clock, *, staff: Person, incoming: Incoming,
    topic_id: int | None = None, ticket_id: int | None = None,
) -> Ticket | None:  # fmt: skip
    """A message in a ticket's topic: `//` lines are internal notes; anything else is copied to
    the customer, signed. The first answer stamps the first response. None: not a ticket topic."""
    if not staff.is_staff:
        raise NotAllowed("staff_message")
    now = clock.now()
    async with transaction(pool) as conn:
        if topic_id is not None:
            found = await store.by_topic(conn, incoming.chat_id, topic_id)
            ticket_id = found.id if found else None
        if ticket_id is None:
            return None
        ticket = await store.get(conn, ticket_id, for_update=True)
        is_note = (incoming.text or "").lstrip().startswith("//")
        if not is_note and ticket.status is TicketStatus.CLOSED:
            raise AlreadyClosed(ticket.id)
        message_id = await history.add_message(
            conn, ticket.id, direction="note" if is_note else "out", author_id=staff.id,
            kind=incoming.kind, body=incoming.text, file_id=incoming.file_id,
            source_chat_id=incoming.chat_id, source_message_id=incoming.message_id, at=now,
        )  # fmt: skip
        if message_id is None:
            return ticket
        if is_note:
            await history.add_event(
                conn, ticket.id, EventKind.NOTE, at=now, actor_id=staff.id,
                details={"message": message_id},
            )  # fmt: skip
            return ticket
        with use_locale(ticket.language):
            kind, payload = outbound.relay_payload(
                incoming,
                customer_render.staff_reply(incoming.text or "", staff.first_name),
                customer_render.staff_caption(incoming.text, staff.first_name),
            )
        row = await outbound.to_customer(conn, ticket, kind, payload, file_id=incoming.file_id)
        if row is not None:
            await history.set_relay(conn, message_id, row)
        await history.add_event(
            conn, ticket.id, EventKind.STAFF_REPLY, at=now, actor_id=staff.id,
            details={"message": message_id, "kind": incoming.kind},
        )  # fmt: skip
        changes: dict[str, object] = {}
        if ticket.first_response_at is None:
            changes["first_response_at"] = now
        if ticket.status.active and ticket.status is not TicketStatus.WAITING:
            changes["status"] = TicketStatus.WAITING
        if ticket.assignee_id is None:
            changes["assignee_id"] = staff.id
        if changes:
            await store.update(conn, ticket.id, now, **changes)
            ticket = await store.get(conn, ticket.id)
            await outbound.refresh_card(
                conn, ticket, cfg, now, title="status" in changes, by_person=True
            )
        return ticket


def _check_not_banned(person: Person, now: datetime) -> None:
    if person.banned_at(now):
        raise NotAllowed("banned")
