"""A link (a customer's ticket of kind 'linked' under a customer-facing incident) and what it
can become: a normal ticket with its own topic, when the customer says their problem is
different or, after the fix, that it is still there."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from services.clock import Clock
from services.massincident import store
from services.massincident.config import MassContext
from services.outbox import PRIORITY_INTERACTIVE, send_text
from services.sla import Channel, deadlines
from services.storage.types import Executor
from services.tickets import history, outbound
from services.tickets import render as staff_render
from services.tickets import store as desk_repo
from services.tickets.model import EventKind, Incoming, Ticket, ticket_number


@dataclass(frozen=True)
class Taken:
    """What the mass-incident side made of a customer's message."""

    outcome: Literal["linked", "follow_up", "asked"]
    ticket_id: int
    incident_id: int


class NotYours(Exception):
    """A notice button pressed by someone other than the link's customer (audited)."""


async def record_message(
    conn: Executor, link_id: int, customer_id: int, incoming: Incoming, now: datetime,
    **details: Any,
) -> int | None:  # fmt: skip
    """The customer's message on the link's history, with its event (`details` added to the
    event's); None, and no event, for the same Telegram message again."""
    message_id = await history.add_message(
        conn, link_id, direction="in", author_id=customer_id, kind=incoming.kind,
        body=incoming.text, file_id=incoming.file_id, source_chat_id=incoming.chat_id,
        source_message_id=incoming.message_id, at=now,
    )  # fmt: skip
    if message_id is not None:
        await history.add_event(
            conn, link_id, EventKind.CUSTOMER_MESSAGE, at=now, actor_id=customer_id,
            details={"message": message_id, "kind": incoming.kind, **details},
        )  # fmt: skip
    return message_id


async def tell_customer(
    conn: Executor, customer_id: int, ticket_id: int, payload: dict[str, Any],
    dedup_key: str | None = None,
) -> int | None:  # fmt: skip
    """A message to a customer about their ticket (a link, or a ticket offered a link), owned
    by the ticket like the desk's own messages to them."""
    return await send_text(
        conn, customer_id, payload, owner=f"ticket:{ticket_id}", priority=PRIORITY_INTERACTIVE,
        dedup_key=dedup_key,
    )  # fmt: skip


async def to_normal(
    conn: Executor, mctx: MassContext, link_id: int, now: datetime, *, why: str,
    actor_id: int | None,
) -> Ticket:  # fmt: skip
    """A link becomes a normal ticket: its own topic and card, the SLA clocks from now, what
    the customer wrote since copied into the topic."""
    desk = mctx.desk
    ticket = await desk_repo.get(conn, link_id, for_update=True)
    due = deadlines(ticket.priority, Channel.BOT, now, desk.tz, desk.sla)
    await store.unlink(
        conn, link_id, now, response_due=due.response_due, resolution_due=due.resolution_due
    )
    await history.add_event(
        conn, link_id, EventKind.REOPENED if why == "reopened" else EventKind.CREATED,
        at=now, actor_id=actor_id, details={"from_link": why},
    )  # fmt: skip
    ticket = await desk_repo.get(conn, link_id)
    ticket = await outbound.open_topic(conn, ticket, desk, now)
    for item in (await history.messages(conn, link_id))[1:]:
        if item.direction == "in" and item.body:
            for part in staff_render.customer_message_in_topic(ticket, item.body):
                await outbound.to_topic(conn, ticket, desk, "text", outbound.html(part))
    return ticket


async def incident_event(
    conn: Executor, clock: Clock, incident_id: int, actor: int | None, kind: str, link_id: int
) -> None:
    from services.escalation import incidents  # it calls back into this feature on resolve

    await incidents.record_event(
        conn, clock, incident_id, actor, kind, ticket=ticket_number(link_id)
    )
