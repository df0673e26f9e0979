"""A customer's message into their open ticket in one statement: the storm's common case.

Most messages of a storm go into a ticket that is open or acknowledged, as one short text. The
general path (`desk.customer_message`) takes five round trips for that: BEGIN, the customer's
tickets read and locked, the message with its event, its copy's outbox row, COMMIT. Here one
statement locks the ticket, records the message and its event, queues the copy where the
locked row says it goes (its chat, its topic or the topic being created, else its card) and
wakes the delivery worker, all or nothing, as any single statement is.

Two ways to name the ticket:
- `relay_into_sole`, before anything else is read: the customer's one active ticket, when it
  is a normal ticket, open or acknowledged, and they have no other (no second ticket to choose
  from, no live link to a public incident). One round trip for the whole message.
- `relay_at_once`, after the desk read the customer's tickets: the one picked, while its status
  is still the one read.

Either does nothing when its condition does not hold (a staff member answered: "waiting"; a
second ticket), and the caller takes the general path. The same Telegram message recorded
before (an update handled again after a crash) is recorded and copied once: the statement then
queues nothing.
"""

from __future__ import annotations

from datetime import datetime

from services import outbox
from services.outbox import NOTIFY_CHANNEL, PRIORITY_INTERACTIVE
from services.storage.types import Executor
from services.tickets import outbound
from services.tickets import render as staff_render
from services.tickets.config import DeskConfig
from services.tickets.model import ACTIVE_VALUES, EventKind, Incoming, Ticket, TicketStatus
from services.users import Person

QUICK_STATUSES = (TicketStatus.OPEN, TicketStatus.ACKNOWLEDGED)
QUICK_VALUES = sorted(status.value for status in QUICK_STATUSES)

# $1 ticket / customer, $2 statuses, $3 the desk's support chat, $4 author, $5 text,
# $6 source chat, $7 source message, $8 now, $9 event kind, $10 the copy's payload,
# $11 priority, $12 NOTIFY channel; the ticket CTE `t` is each caller's own.
# The copy's place mirrors outbound.staff_chat / topic_target and outbox.topic_key
# (tests/integration/tickets/test_quick_relay.py compares them with the general path's).
# Whether the ticket was found, and the conversations its queued copy (CTE `q`) woke.
PLACED_AND_QUEUED = """
SELECT (SELECT count(*) FROM place) AS placed,
       (SELECT array_agg(conversation) FROM (
           SELECT conversation, pg_notify({channel}, conversation)
           FROM (SELECT chat_id::text || ':' || topic_key::text AS conversation FROM q) AS c
       ) AS n) AS queued
"""
PLACE = """place AS (
    SELECT id, coalesce(support_chat_id, $3) AS chat_id, topic_id AS thread_id,
           CASE WHEN topic_id IS NULL THEN topic_outbox_id END AS thread_ref,
           CASE WHEN topic_id IS NULL AND topic_outbox_id IS NULL THEN card_outbox_id END
               AS ref_id
    FROM t WHERE coalesce(support_chat_id, $3) IS NOT NULL
)"""
_RELAY = (
    """
WITH {ticket}, """
    + PLACE
    + """, m AS (
    INSERT INTO ticket_messages (ticket_id, direction, author_id, kind, body, file_id,
                                 source_chat_id, source_message_id, relay_outbox_id, created_at)
    SELECT id, 'in', $4, 'text', $5, NULL, $6, $7, nextval('outbox_id_seq'), $8 FROM place
    ON CONFLICT (source_chat_id, source_message_id) DO NOTHING
    RETURNING id, ticket_id, relay_outbox_id
), e AS (
    INSERT INTO ticket_events (ticket_id, at, actor_id, kind, details)
    SELECT ticket_id, $8, $4, $9, jsonb_build_object('message', id, 'kind', 'text') FROM m
), q AS (
    INSERT INTO outbox (id, chat_id, thread_id, thread_ref, ref_id, kind, payload, owner,
                        priority, not_before, topic_key)
    SELECT m.relay_outbox_id, p.chat_id, p.thread_id, p.thread_ref, p.ref_id, 'text', $10,
           'ticket:' || p.id, $11, now(), coalesce(p.thread_id, -p.thread_ref, 0)
    FROM m JOIN place p ON p.id = m.ticket_id
    RETURNING chat_id, topic_key
)
"""
    + PLACED_AND_QUEUED.format(channel="$12")
)

# what the copy's place is read from
_PLACE_COLUMNS = "id, support_chat_id, topic_id, topic_outbox_id, card_outbox_id"
_AS_READ = _RELAY.format(
    ticket=f"""t AS (
    SELECT {_PLACE_COLUMNS} FROM tickets WHERE id = $1 AND status = ANY($2::text[]) FOR UPDATE
)"""
)
# The customer's ($1) one active ticket, locked, when it is a normal one in a status of $2.
SOLE_TICKET = f"""mine AS (
    SELECT id FROM tickets
    WHERE customer_id = $1 AND kind IN ('normal', 'linked')
      AND status IN ({", ".join(f"'{value}'" for value in ACTIVE_VALUES)})
), t AS (
    SELECT {_PLACE_COLUMNS} FROM tickets
    WHERE id = (SELECT min(id) FROM mine HAVING count(*) = 1)
      AND kind = 'normal' AND status = ANY($2::text[])
    FOR UPDATE
)"""
_SOLE = _RELAY.format(ticket=SOLE_TICKET)


async def relay_at_once(
    db: Executor, ticket: Ticket, cfg: DeskConfig, incoming: Incoming, now: datetime
) -> bool | None:
    """True: the message is in the ticket and its copy queued (or was, before). None: not
    this way (not a short text into an open ticket, or its status changed since it was read):
    take the general path."""
    if ticket.status not in QUICK_STATUSES or ticket.kind != "normal":
        return None
    copy = _copy(ticket.customer_name, incoming)
    if copy is None:
        return None
    placed = await _relay(db, _AS_READ, ticket.id, [ticket.status.value], cfg, incoming, copy, now)
    return True if placed else None


async def relay_into_sole(
    db: Executor, cfg: DeskConfig, customer: Person, incoming: Incoming, now: datetime
) -> bool:
    """True: the message is in the customer's one active ticket (see the module's text) and
    its copy queued, or was before. False: nothing stored."""
    copy = _copy(customer.full_name, incoming)
    if copy is None:
        return False
    return await _relay(db, _SOLE, customer.id, QUICK_VALUES, cfg, incoming, copy, now)


def _copy(customer_name: str, incoming: Incoming) -> str | None:
    """The copy's text when it is one short message; None: not this way."""
    if incoming.kind != "text":
        return None
    parts = staff_render.customer_text_in_topic(customer_name, incoming.text or "")
    return parts[0] if len(parts) == 1 else None


async def _relay(
    db: Executor, sql: str, key: int, statuses: list[str], cfg: DeskConfig, incoming: Incoming,
    copy: str, now: datetime,
) -> bool:  # fmt: skip
    row = await db.fetchrow(
        sql, key, statuses, cfg.support_chat_id, incoming.author_id, incoming.text,
        incoming.chat_id, incoming.message_id, now, EventKind.CUSTOMER_MESSAGE.value,
        outbound.html(copy), PRIORITY_INTERACTIVE, NOTIFY_CHANNEL,
    )  # fmt: skip
    assert row is not None
    outbox.note_answers(row["queued"] or ())
    return bool(row["placed"])
