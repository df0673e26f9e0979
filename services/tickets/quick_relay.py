"""A customer's message into their open ticket in one statement: the storm's common case.

Most messages of a storm go into a ticket that is open or acknowledged, as one short text. The
general path (`desk.customer_message`) takes five round trips for that: BEGIN, the customer's
tickets read and locked, the message with its event, its copy's outbox row, COMMIT. Here the
tickets are read without a lock (one round trip, done by the caller) and one statement then
locks the ticket, records the message and its event and queues the copy, and wakes the
delivery worker, all or nothing, as any single statement is.

It holds only while the ticket is as it was read: the same status (open or acknowledged) and
the same place for its copy (chat, topic, the topic being created, the card). A change between
the read and the statement (a staff member answered: "waiting"; the topic was created) makes
the statement do nothing, and the caller takes the general path: `relay_at_once` says so with
None. The same Telegram message recorded before (an update handled again after a crash) is
recorded and copied once: the statement then queues nothing.
"""

from __future__ import annotations

from datetime import datetime

from services.outbox import NOTIFY_CHANNEL, PRIORITY_INTERACTIVE, topic_key
from services.storage.types import Executor
from services.tickets import outbound
from services.tickets import render as staff_render
from services.tickets.config import DeskConfig
from services.tickets.model import EventKind, Incoming, Ticket, TicketStatus

QUICK_STATUSES = (TicketStatus.OPEN, TicketStatus.ACKNOWLEDGED)

_RELAY = """
WITH t AS (
    SELECT id FROM tickets
    WHERE id = $1 AND status = $2
      AND support_chat_id IS NOT DISTINCT FROM $3 AND topic_id IS NOT DISTINCT FROM $4
      AND topic_outbox_id IS NOT DISTINCT FROM $5 AND card_outbox_id IS NOT DISTINCT FROM $6
    FOR UPDATE
), m AS (
    INSERT INTO ticket_messages (ticket_id, direction, author_id, kind, body, file_id,
                                 source_chat_id, source_message_id, relay_outbox_id, created_at)
    SELECT t.id, 'in', $7, 'text', $8, NULL, $9, $10, nextval('outbox_id_seq'), $11 FROM t
    ON CONFLICT (source_chat_id, source_message_id) DO NOTHING
    RETURNING id, relay_outbox_id
), e AS (
    INSERT INTO ticket_events (ticket_id, at, actor_id, kind, details)
    SELECT $1, $11, $7, $12, jsonb_build_object('message', m.id, 'kind', 'text') FROM m
), q AS (
    INSERT INTO outbox (id, chat_id, thread_id, thread_ref, ref_id, kind, payload, owner,
                        priority, not_before, topic_key)
    SELECT m.relay_outbox_id, $13, $4, $14, $15, 'text', $16, $17, $18, now(), $19 FROM m
    RETURNING chat_id, topic_key
)
SELECT (SELECT count(*) FROM t) AS locked,
       (SELECT count(*) FROM (
           SELECT pg_notify($20, chat_id::text || ':' || topic_key::text) FROM q) AS n
       ) AS queued
"""


async def relay_at_once(
    db: Executor, ticket: Ticket, cfg: DeskConfig, incoming: Incoming, now: datetime
) -> bool | None:
    """True: the message is in the ticket and its copy queued (or was, before). None: not
    this way (not a short text into an open ticket with a topic or card to go to, or the
    ticket changed since it was read): take the general path."""
    chat_id = outbound.staff_chat(ticket, cfg)
    if (
        incoming.kind != "text"
        or ticket.status not in QUICK_STATUSES
        or ticket.kind != "normal"
        or chat_id is None
    ):
        return None
    parts = staff_render.customer_message_in_topic(ticket, incoming.text or "")
    if len(parts) != 1:
        return None
    thread_id, thread_ref = outbound.topic_target(ticket)
    ref_id = ticket.card_outbox_id if thread_id is None and thread_ref is None else None
    row = await db.fetchrow(
        _RELAY,
        ticket.id,
        ticket.status.value,
        ticket.support_chat_id,
        ticket.topic_id,
        ticket.topic_outbox_id,
        ticket.card_outbox_id,
        incoming.author_id,
        incoming.text,
        incoming.chat_id,
        incoming.message_id,
        now,
        EventKind.CUSTOMER_MESSAGE.value,
        chat_id,
        thread_ref,
        ref_id,
        outbound.html(parts[0]),
        ticket.owner,
        PRIORITY_INTERACTIVE,
        topic_key(thread_id, thread_ref),
        NOTIFY_CHANNEL,
    )
    assert row is not None
    return True if row["locked"] else None
