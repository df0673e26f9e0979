"""After the fix. A linked customer who writes again within `reopen_days` is asked whether the
problem is still there: Yes opens their link as a normal ticket with its own topic (what they
wrote copied into it), No thanks them and opens nothing. Their message is stored with the link
before the question is queued, whatever they answer. The ratings of the resolution are counted
on the incident's card as they come in."""

from __future__ import annotations

import asyncpg

from services.clock import Clock
from services.i18n import use_locale
from services.massincident import card, links, render, store
from services.massincident.config import MassContext
from services.massincident.links import NotYours, Taken, incident_event, to_normal
from services.massincident.store import Link
from services.message import html
from services.storage.db import transaction
from services.storage.types import Executor
from services.tickets import actions, history, outbound
from services.tickets.model import EventKind, Incoming, Ticket, ticket_number
from services.users import Person


async def wrote_again(
    pool: asyncpg.Pool, mctx: MassContext, clock: Clock, link_id: int, customer: Person,
    incoming: Incoming,
) -> Taken | None:  # fmt: skip
    """Their message on the resolved link, and "Is the problem still there?" (Yes / No)."""
    now = clock.now()
    async with transaction(pool) as conn:
        link = await store.link(conn, link_id, lock=True)
        if link is None or link.status != "resolved":
            return None
        message_id = await links.record_message(
            conn, link_id, customer.id, incoming, now, after_fix=True
        )
        if message_id is None:  # the same Telegram message again: asked already
            return Taken("asked", link_id, link.parent_id)
        with use_locale(link.language):
            body, markup = render.still_there(ticket_number(link.parent_id), link_id)
        asked = html(body, markup)
        await links.tell_customer(
            conn, customer.id, link_id, asked, f"pubstill:{link_id}:{message_id}"
        )
    return Taken("asked", link_id, link.parent_id)


async def _resolved_link(conn: Executor, link_id: int, customer: Person) -> Link | None:
    """The customer's link, locked, while it is resolved (None once answered, or reopened);
    NotYours when it is another customer's."""
    link = await store.link(conn, link_id, lock=True)
    if link is None or link.status != "resolved":
        return None
    if link.customer_id != customer.id:
        raise NotYours(link_id)
    return link


async def still_broken(
    pool: asyncpg.Pool, mctx: MassContext, clock: Clock, link_id: int, customer: Person
) -> Ticket | None:
    """Yes, still there: the link becomes a normal ticket with its own topic. None: it is no
    longer a resolved link (answered already)."""
    now = clock.now()
    async with transaction(pool) as conn:
        link = await _resolved_link(conn, link_id, customer)
        if link is None:
            return None
        ticket = await to_normal(conn, mctx, link_id, now, why="reopened", actor_id=customer.id)
        await incident_event(
            conn, clock, link.parent_id, customer.id, "public_link_reopened", link_id
        )
        with use_locale(ticket.language):
            text = render.reopened_link(ticket.number)
        await outbound.to_customer(conn, ticket, "text", outbound.html(text))
        await card.refresh(conn, mctx, link.parent_id, now, at_once=False)
    return ticket


async def works_now(pool: asyncpg.Pool, clock: Clock, link_id: int, customer: Person) -> bool:
    """No, it works: nothing opens; the answer goes on the link's history. False: it is no
    longer a resolved link (answered "Yes" already)."""
    now = clock.now()
    async with transaction(pool) as conn:
        if await _resolved_link(conn, link_id, customer) is None:
            return False
        await history.add_event(
            conn, link_id, EventKind.NOTE, at=now, actor_id=customer.id,
            details={"after_fix": "works"},
        )  # fmt: skip
    return True


async def rate(
    pool: asyncpg.Pool, mctx: MassContext, clock: Clock, customer: Person, incident_id: int,
    stars: int, *, chat_id: int | None = None,
) -> Ticket | None:  # fmt: skip
    """A linked customer rates the resolution (on their link); the card counts it. None: they
    have no link under this incident."""
    link_id = await store.latest_link_id(pool, incident_id, customer.id)
    if link_id is None:
        return None
    ticket = await actions.rate(
        pool, mctx.desk, clock, customer=customer, ticket_id=link_id, stars=stars,
        chat_id=chat_id,
    )  # fmt: skip
    async with transaction(pool) as conn:
        await card.refresh(conn, mctx, incident_id, clock.now(), at_once=False)
    return ticket
