"""SQL for tickets (their messages and timeline are in `history`). Plain functions over an
`Executor`, so a caller passes its transaction's connection and commits the ticket, its event
and its outbox rows together."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from asyncpg import Record

from services.classification import Category, Priority
from services.delivery.hooks import owner_id
from services.sla import Channel
from services.storage.records import record, rowcount
from services.storage.statements import Table
from services.storage.types import Executor
from services.tickets.model import (
    ACTIVE_VALUES,
    Ticket,
    TicketNotFound,
    TicketStatus,
)
from services.users import full_name_sql, shown_name_in

_COLUMNS = f"""
    t.id, t.customer_id, t.status, t.priority, t.category, t.channel, t.subject, t.description,
    t.order_ref, coalesce(u.language, t.language) AS language, t.assignee_id,
    t.support_chat_id, t.topic_id, t.topic_outbox_id,
    t.card_outbox_id, t.card_message_id, t.customer_blocked_at, t.classification, t.created_at,
    t.updated_at, t.first_response_at, t.response_due, t.resolution_due, t.resolved_at,
    t.closed_at, t.rating,
    {full_name_sql("u")} AS customer_name,
    u.username AS customer_username,
    a.first_name AS assignee_first_name, s.display_name AS assignee_display_name,
    t.response_breach_told_at, t.kind,
    i.level AS incident_level, i.resolved_at AS incident_resolved_at,
    i.acknowledged_by AS incident_acknowledged_id,
    ia.first_name AS incident_acknowledged_first_name,
    sa.display_name AS incident_acknowledged_display_name,
    EXISTS (SELECT 1 FROM public_incidents p WHERE p.ticket_id = t.id) AS incident_public
"""
# The incident (services/escalation's table, and services/massincident's public_incidents) is
# read, never written, here: the card shows it.
_FROM = """
    FROM tickets t
    JOIN users u ON u.id = t.customer_id
    LEFT JOIN staff s ON s.user_id = t.assignee_id
    LEFT JOIN users a ON a.id = t.assignee_id
    LEFT JOIN incidents i ON i.ticket_id = t.id
    LEFT JOIN users ia ON ia.id = i.acknowledged_by
    LEFT JOIN staff sa ON sa.user_id = i.acknowledged_by
"""
ACTIVE = ACTIVE_VALUES


def _ticket(row: Record) -> Ticket:
    return record(
        Ticket,
        row,
        status=TicketStatus(row["status"]),
        priority=Priority(row["priority"]),
        category=Category(row["category"]),
        channel=Channel(row["channel"]),
        classification=dict(row["classification"] or {}),
        assignee_name=shown_name_in(row, row["assignee_id"], "assignee_"),
        incident_acknowledged_by=shown_name_in(
            row, row["incident_acknowledged_id"], "incident_acknowledged_"
        ),
    )


async def insert(
    db: Executor,
    *,
    customer_id: int,
    priority: Priority | str,
    category: Category | str,
    channel: Channel,
    subject: str,
    description: str,
    language: str,
    classification: dict[str, Any],
    now: datetime,
    response_due: datetime,
    resolution_due: datetime,
    order_ref: str | None = None,
    support_chat_id: int | None = None,
    status: TicketStatus = TicketStatus.OPEN,
    first_response_at: datetime | None = None,
    kind: str = "normal",
    parent_id: int | None = None,
) -> int:
    """The one INSERT of a ticket: a customer's (the desk), an incident's raised in chat or by
    an alert (`briefs.raise_ticket`), a customer's message answered by a customer-facing
    incident (kind 'linked' under `parent_id`, services/massincident)."""
    ticket_id: int = await db.fetchval(
        """
        INSERT INTO tickets (customer_id, priority, category, channel, subject, description,
                             order_ref, language, support_chat_id, classification, created_at,
                             updated_at, response_due, resolution_due, status, first_response_at,
                             kind, parent_id)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $11, $12, $13, $14, $15, $16, $17)
        RETURNING id
        """,
        customer_id,
        str(priority),
        str(category),
        str(channel),
        subject,
        description,
        order_ref,
        language,
        support_chat_id,
        classification,
        now,
        response_due,
        resolution_due,
        str(status),
        first_response_at,
        kind,
        parent_id,
    )
    return ticket_id


async def _one(db: Executor, where: str, *args: Any) -> Ticket | None:
    """The ticket `where` (a fixed condition on t, its values as $n) picks, if any."""
    row = await db.fetchrow(f"SELECT {_COLUMNS} {_FROM} WHERE {where}", *args)
    return _ticket(row) if row else None


async def get(db: Executor, ticket_id: int, *, for_update: bool = False) -> Ticket:
    lock = " FOR UPDATE OF t" if for_update else ""
    ticket = await _one(db, f"t.id = $1{lock}", ticket_id)
    if ticket is None:
        raise TicketNotFound(ticket_id)
    return ticket


async def find(db: Executor, ticket_id: int) -> Ticket | None:
    try:
        return await get(db, ticket_id)
    except TicketNotFound:
        return None


async def by_topic(db: Executor, chat_id: int, topic_id: int) -> Ticket | None:
    return await _one(db, "t.support_chat_id = $1 AND t.topic_id = $2", chat_id, topic_id)


async def by_card_message(db: Executor, chat_id: int, message_id: int) -> Ticket | None:
    """Fallback without topics: a reply to the ticket's card message."""
    return await _one(db, "t.support_chat_id = $1 AND t.card_message_id = $2", chat_id, message_id)


async def by_bot_message(db: Executor, chat_id: int, message_id: int) -> Ticket | None:
    """Fallback without topics: a reply to anything the bot posted for a ticket in the staff
    chat (a customer's message, any part of a long one, a notice). The nearest row sent at or
    before the message is the one that posted it, alone or as one of its parts (a row's parts
    go out one after another, `result.message_ids`)."""
    row = await db.fetchrow(
        """
        SELECT owner, message_id, result FROM outbox
        WHERE chat_id = $1 AND message_id <= $2 AND message_id IS NOT NULL
        ORDER BY message_id DESC LIMIT 1
        """,
        chat_id,
        message_id,
    )
    ticket_id = owner_id(row["owner"], "ticket") if row is not None else None
    if ticket_id is None:
        return None
    posted = {row["message_id"], *((row["result"] or {}).get("message_ids") or [])}
    if message_id not in posted:
        return None
    return await find(db, ticket_id)


async def for_customer(db: Executor, customer_id: int, *, limit: int = 20) -> list[Ticket]:
    rows = await db.fetch(
        f"SELECT {_COLUMNS} {_FROM} WHERE t.customer_id = $1 ORDER BY t.created_at DESC LIMIT $2",
        customer_id,
        limit,
    )
    return [_ticket(r) for r in rows]


async def reachable_for_customer(
    db: Executor, customer_id: int, resolved_since: datetime, *, lock: bool = False
) -> list[Ticket]:
    """Tickets a customer's message may go into: active ones, and resolved ones still inside
    the reopen window. Newest first. `lock`: each locked for this transaction as it is read."""
    rows = await db.fetch(
        f"""
        SELECT {_COLUMNS} {_FROM}
        WHERE t.customer_id = $1 AND t.kind = 'normal'
          AND (t.status = ANY($2::text[]) OR (t.status = 'resolved' AND t.resolved_at >= $3))
        ORDER BY t.created_at DESC{" FOR UPDATE OF t" if lock else ""}
        """,
        customer_id,
        ACTIVE,
        resolved_since,
    )
    return [_ticket(r) for r in rows]


async def active(
    db: Executor,
    *,
    assignee_id: int | None = None,
    breached_at: datetime | None = None,
    limit: int = 50,
) -> list[Ticket]:
    """Active tickets by priority, then by the nearest deadline (response while unanswered,
    resolution after). `breached_at`: only those past a deadline at that time."""
    rows = await db.fetch(
        f"""
        SELECT {_COLUMNS} {_FROM}
        WHERE t.status = ANY($1::text[]) AND t.kind = 'normal'
          AND ($2::bigint IS NULL OR t.assignee_id = $2)
          AND ($3::timestamptz IS NULL
               OR (t.first_response_at IS NULL AND t.response_due < $3)
               OR t.resolution_due < $3)
        ORDER BY t.priority,
                 CASE WHEN t.first_response_at IS NULL THEN t.response_due
                      ELSE t.resolution_due END,
                 t.id
        LIMIT $4
        """,
        ACTIVE,
        assignee_id,
        breached_at,
        limit,
    )
    return [_ticket(r) for r in rows]


async def resolved_before(db: Executor, cutoff: datetime, *, limit: int = 500) -> list[int]:
    rows = await db.fetch(
        """
        SELECT id FROM tickets WHERE status = 'resolved' AND resolved_at < $1 AND kind = 'normal'
        ORDER BY resolved_at LIMIT $2
        """,
        cutoff,
        limit,
    )
    return [r["id"] for r in rows]


_COLUMNS_SET = frozenset(
    {
        "status", "priority", "assignee_id", "topic_id", "topic_outbox_id", "card_outbox_id",
        "card_message_id", "customer_blocked_at", "first_response_at", "response_due",
        "resolution_due", "resolved_at", "closed_at", "rating", "rated_at", "support_chat_id",
        "classification", "card_edit_outbox_id", "card_edit_at", "next_check_at",
        "response_breach_told_at",
    }
)  # fmt: skip


# Column names come from this module's callers, never from users; an unknown one is refused.
_TICKETS = Table("tickets", settable=_COLUMNS_SET)


async def update(db: Executor, ticket_id: int, now: datetime, **fields: Any) -> None:
    """Set named columns of a ticket that changed (updated_at is `now`)."""
    assignments, values = _TICKETS.assignments(fields, 3)
    await db.execute(
        f"UPDATE tickets SET updated_at = $2, {assignments} WHERE id = $1",
        ticket_id,
        now,
        *values,
    )


async def bookkeep(db: Executor, ticket_id: int, **fields: Any) -> None:
    """Set the card's schedule (`next_check_at`, its queued edit, a breach told): bookkeeping,
    not a change of the ticket, so updated_at stays."""
    await _TICKETS.update(db, ticket_id, **fields)


async def due_checks(db: Executor, now: datetime, limit: int) -> list[int]:
    """Tickets a deadline of which has passed since they were last looked at, locked; rows
    another scanner holds are skipped, not waited for (tickets_next_check_idx)."""
    rows = await db.fetch(
        """
        SELECT id FROM tickets
        WHERE next_check_at <= $1
        ORDER BY next_check_at
        LIMIT $2
        FOR UPDATE SKIP LOCKED
        """,
        now,
        limit,
    )
    return [r["id"] for r in rows]


async def earliest_check(db: Executor) -> datetime | None:
    value: datetime | None = await db.fetchval(
        "SELECT next_check_at FROM tickets WHERE next_check_at IS NOT NULL "
        "ORDER BY next_check_at LIMIT 1"
    )
    return value


async def card_edit_state(db: Executor, ticket_id: int) -> tuple[int | None, datetime | None]:
    """The newest queued edit of the ticket's card and when it leaves."""
    row = await db.fetchrow(
        "SELECT card_edit_outbox_id, card_edit_at FROM tickets WHERE id = $1", ticket_id
    )
    if row is None:
        return None, None
    return row["card_edit_outbox_id"], row["card_edit_at"]


_TOPIC_CREATED = (
    "UPDATE tickets SET topic_id = $2, updated_at = $4 WHERE id = $1 AND topic_outbox_id = $3"
)
_CARD_SENT = "UPDATE tickets SET card_message_id = $2 WHERE id = $1 AND card_outbox_id = $3"


async def topic_created(
    db: Executor, ticket_id: int, topic_id: int, outbox_id: int, now: datetime
) -> None:
    """The forum topic the ticket's row `outbox_id` created: its id goes on the ticket (unless
    the ticket has moved on to a newer topic row meanwhile)."""
    await db.execute(_TOPIC_CREATED, ticket_id, topic_id, outbox_id, now)


async def card_sent(db: Executor, ticket_id: int, message_id: int, outbox_id: int) -> None:
    """The card row `outbox_id` was sent as `message_id` (when it is still the ticket's card)."""
    await db.execute(_CARD_SENT, ticket_id, message_id, outbox_id)


async def follow_chat_migration(db: Executor, old_chat_id: int, new_chat_id: int) -> int:
    status: str = await db.execute(
        # The card stays behind in the old chat: its message id means nothing in the new one.
        "UPDATE tickets SET support_chat_id = $2, card_message_id = NULL "
        "WHERE support_chat_id = $1",
        old_chat_id,
        new_chat_id,
    )
    return rowcount(status)


async def is_support_chat(db: Executor, chat_id: int) -> bool:
    """Whether tickets live in this chat: the configured support chat after a migration
    (a group upgraded to a supergroup gets a new id; follow_chat_migration moved them)."""
    found: bool = await db.fetchval(
        "SELECT EXISTS (SELECT 1 FROM tickets WHERE support_chat_id = $1)", chat_id
    )
    return found


async def move_customer(db: Executor, old_customer_id: int, new_customer_id: int) -> int:
    """Give one person's tickets to another (an e-mail address linked to a Telegram account:
    one history). Returns how many moved."""
    status: str = await db.execute(
        "UPDATE tickets SET customer_id = $2 WHERE customer_id = $1",
        old_customer_id,
        new_customer_id,
    )
    return rowcount(status)
