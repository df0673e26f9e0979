"""A customer's private message while customer-facing incidents are open.

- they have a live link: the message is stored with it and becomes one digest line in the
  incident's topic (never a message per customer in the group);
- their link was resolved within `reopen_days`: their message is stored with it and they are
  asked whether the problem is still there (services.massincident.aftercare);
- no open ticket of their own and the message matches an incident: a linked ticket (no topic)
  and the notice in their language, at once;
- anything else is the desk's (None).

Everything is stored before anyone is told: the link, its message and the notice's outbox row
commit together."""

from __future__ import annotations

from datetime import timedelta

import asyncpg

from services.classification import Category, classify
from services.clock import Clock
from services.i18n import use_locale
from services.massincident import aftercare, card, links, render, store
from services.massincident import store_proposals as proposals
from services.massincident.config import MassContext
from services.massincident.links import NotYours, Taken, incident_event, to_normal
from services.massincident.model import PublicIncident, first_match
from services.message import html
from services.sla import Channel, deadlines
from services.storage.db import transaction
from services.text import shorten, storable
from services.tickets import history, outbound
from services.tickets import render_customer as customer_render
from services.tickets import store as desk_repo
from services.tickets.model import EventKind, Incoming, Ticket, ticket_number
from services.users import Person


async def customer_wrote(
    pool: asyncpg.Pool,
    mctx: MassContext,
    clock: Clock,
    *,
    customer: Person,
    incoming: Incoming,
    category: str | None = None,
    new_ticket: bool = False,
) -> Taken | None:
    """What the mass-incident side made of a customer's message; None: the desk's.
    `new_ticket`: they opened a ticket from the menu: a ticket is what they asked for, so only
    an open incident it matches takes it (no follow-up line, no "is it still there?")."""
    now = clock.now()
    if customer.banned_at(now):
        return None
    since = now - timedelta(days=mctx.rules.reopen_days)
    where = await store.situation(pool, customer.id, since)
    if where.active_link is not None:
        if new_ticket:
            return None
        return await follow_up(pool, mctx, clock, where.active_link.ticket_id, customer, incoming)
    if where.has_active_ticket:
        return None
    resolved = None if new_ticket else where.resolved_link
    if resolved is not None:
        return await aftercare.wrote_again(
            pool, mctx, clock, resolved.ticket_id, customer, incoming
        )
    if incoming.kind not in ("text", "photo", "document"):
        return None
    open_incidents = await store.open_incidents(pool)
    incident = first_match(
        open_incidents, incoming.text or "", category=category, rules=mctx.classification
    )
    if incident is None:
        # what they wrote about counts towards a proposal ("40 customers wrote about payment")
        found = category or classify(incoming.text or "", rules=mctx.classification).category
        if found != "other":
            await proposals.add_signal(pool, customer.id, str(found), now)
        return None
    return await link_new(pool, mctx, clock, incident, customer, incoming, category=category)


async def link_new(
    pool: asyncpg.Pool, mctx: MassContext, clock: Clock, incident: PublicIncident,
    customer: Person, incoming: Incoming, *, category: str | None = None,
) -> Taken:  # fmt: skip
    now = clock.now()
    text = storable(incoming.text or "")
    desk = mctx.desk
    result = classify(
        text, category=Category(category) if category else None, rules=mctx.classification
    )
    picked = result.category.value
    if picked not in incident.categories and incident.categories:
        picked = incident.categories[0]
    due = deadlines(result.priority, Channel.BOT, now, desk.tz, desk.sla)
    language = customer.language or desk.staff_locale
    async with transaction(pool) as conn:
        link_id = await store.insert_linked(
            conn, parent_id=incident.ticket_id, customer_id=customer.id,
            priority=result.priority.value, category=picked,
            subject=shorten(" ".join(text.split()) or "—", desk.support.subject_length),
            description=text, language=language,
            classification={**result.as_details(), "linked_to": incident.number},
            now=now, resolution_due=due.resolution_due,
        )  # fmt: skip
        await history.add_event(
            conn, link_id, EventKind.CREATED, at=now, actor_id=customer.id,
            details={"channel": "bot", "category": picked, "linked_to": incident.number},
        )  # fmt: skip
        await links.record_message(conn, link_id, customer.id, incoming, now)
        with use_locale(language):
            body, markup = render.notice(incident, language, link_id)
        notice = html(body, markup)
        await links.tell_customer(conn, customer.id, link_id, notice, f"pubnotice:{link_id}")
        await card.refresh(conn, mctx, incident.ticket_id, now)
    return Taken("linked", link_id, incident.ticket_id)


async def follow_up(
    pool: asyncpg.Pool, mctx: MassContext, clock: Clock, link_id: int, customer: Person,
    incoming: Incoming,
) -> Taken | None:  # fmt: skip
    """New information (a receipt, an order id) from a linked customer: stored with their
    link, one digest line in the incident's topic, a short thank-you to them."""
    now = clock.now()
    async with transaction(pool) as conn:
        link = await store.link(conn, link_id, lock=True)
        if link is None:
            return None
        incident = await store.get(conn, link.parent_id)
        if incident is None:
            return None
        if await links.record_message(conn, link_id, customer.id, incoming, now) is None:
            return Taken("follow_up", link_id, incident.ticket_id)  # the same message again
        words = incoming.text or f"[{incoming.kind}]"
        if incoming.kind != "text" and incoming.text:
            words = f"[{incoming.kind}] {incoming.text}"
        with use_locale(await card.staff_language(conn, mctx, mctx.support_chat_id or 0)):
            line = render.digest_line(customer.first_name, ticket_number(link_id), words)
        await card.add_follow_up(conn, mctx, incident, line, now)
        with use_locale(link.language):
            thanks = render.follow_up_saved(incident.number)
        await links.tell_customer(conn, customer.id, link_id, html(thanks))
    return Taken("follow_up", link_id, link.parent_id)


async def different(
    pool: asyncpg.Pool, mctx: MassContext, clock: Clock, link_id: int, customer: Person
) -> Ticket | None:
    """ "My problem is different": the link becomes a normal ticket, as if they had opened one.
    None when it is no longer a link (pressed twice)."""
    now = clock.now()
    async with transaction(pool) as conn:
        link = await store.link(conn, link_id, lock=True)
        if link is None:
            return None
        if link.customer_id != customer.id:
            raise NotYours(link_id)
        ticket = await to_normal(conn, mctx, link_id, now, why="different", actor_id=customer.id)
        await incident_event(
            conn, clock, link.parent_id, customer.id, "public_link_declined", link_id
        )
        promised = desk_response_minutes(ticket, mctx)
        with use_locale(ticket.language):
            text = customer_render.ticket_created(ticket, promised)
        await outbound.to_customer(conn, ticket, "text", outbound.html(text))
        await card.refresh(conn, mctx, link.parent_id, now)
    return ticket


def desk_response_minutes(ticket: Ticket, mctx: MassContext) -> int:
    from services.sla import response_minutes

    return response_minutes(ticket.priority, Channel.BOT, mctx.desk.sla)


async def accept_offer(
    pool: asyncpg.Pool, mctx: MassContext, clock: Clock, ticket_id: int, customer: Person,
    incident_id: int | None = None,
) -> PublicIncident | None:  # fmt: skip
    """ "Yes, keep me informed": the customer's open ticket joins the newest open incident that
    offered it (its topic stays, with a line saying so)."""
    now = clock.now()
    async with transaction(pool) as conn:
        ticket = await desk_repo.get(conn, ticket_id, for_update=True)
        if ticket.customer_id != customer.id:
            raise NotYours(ticket_id)
        if ticket.kind != "normal" or not ticket.status.active:
            return None
        offered = await conn.fetchval(
            """SELECT p.ticket_id FROM public_incidents p JOIN outbox o
                 ON o.dedup_key = 'puboffer:' || p.ticket_id || ':' || $1::bigint
               WHERE p.ended_at IS NULL ORDER BY p.declared_at DESC LIMIT 1""",
            ticket_id,
        )
        if offered is None:
            return None
        incident = await store.get(conn, offered)
        assert incident is not None
        with use_locale(await card.staff_language(conn, mctx, mctx.support_chat_id or 0)):
            line = render.linked_in_topic(incident.number)
        await outbound.to_topic(conn, ticket, mctx.desk, "text", outbound.html(line))
        await store.link_to(conn, ticket_id, offered, now)
        await history.add_event(
            conn, ticket_id, EventKind.NOTE, at=now, actor_id=customer.id,
            details={"linked_to": incident.number},
        )  # fmt: skip
        await incident_event(conn, clock, offered, customer.id, "public_link_accepted", ticket_id)
        await card.refresh(conn, mctx, offered, now)
    return incident
