"""SQL for what happened in a ticket: the messages in and out, and the timeline of events.
Plain functions over an `Executor`, like `store`, so they join the caller's transaction."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from services.storage.records import record
from services.storage.types import Executor
from services.tickets.model import EventKind, TicketEvent, TicketMessage


async def add_event(
    db: Executor,
    ticket_id: int,
    kind: EventKind | str,
    *,
    at: datetime,
    actor_id: int | None = None,
    details: dict[str, Any] | None = None,
) -> int:
    """One timeline row; `kind` is the desk's own (EventKind) or another feature's word for
    what it did (the rooms' 'room_update', the escalation's levels)."""
    event_id: int = await db.fetchval(
        """
        INSERT INTO ticket_events (ticket_id, at, actor_id, kind, details)
        VALUES ($1, $2, $3, $4, $5) RETURNING id
        """,
        ticket_id,
        at,
        actor_id,
        str(kind),
        details or {},
    )
    return event_id


async def timeline(db: Executor, ticket_id: int) -> list[TicketEvent]:
    rows = await db.fetch(
        """
        SELECT id, ticket_id, at, actor_id, kind, details FROM ticket_events
        WHERE ticket_id = $1 ORDER BY at, id
        """,
        ticket_id,
    )
    return [record(TicketEvent, r, details=dict(r["details"])) for r in rows]


async def add_message(
    db: Executor,
    ticket_id: int,
    *,
    direction: str,
    author_id: int | None,
    kind: str,
    body: str | None,
    file_id: str | None,
    source_chat_id: int,
    source_message_id: int,
    at: datetime,
    relay_outbox_id: int | None = None,
) -> int | None:
    """Record one message; None when this Telegram message was recorded before."""
    message_id: int | None = await db.fetchval(
        """
        INSERT INTO ticket_messages (ticket_id, direction, author_id, kind, body, file_id,
                                     source_chat_id, source_message_id, relay_outbox_id,
                                     created_at)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
        ON CONFLICT (source_chat_id, source_message_id) DO NOTHING
        RETURNING id
        """,
        ticket_id,
        direction,
        author_id,
        kind,
        body,
        file_id,
        source_chat_id,
        source_message_id,
        relay_outbox_id,
        at,
    )
    return message_id


async def record_relayed(
    db: Executor,
    ticket_id: int,
    event: EventKind,
    *,
    direction: str,
    author_id: int | None,
    kind: str,
    body: str | None,
    file_id: str | None,
    source_chat_id: int,
    source_message_id: int,
    at: datetime,
) -> tuple[int, int] | None:
    """A message that is copied to the other side, and its event, in one statement: (its id,
    the id its copy's outbox row must take: `OutboxMessage(id=...)` in the same transaction, or
    `set_relay(..., None)` when no copy goes). None when this Telegram message was recorded
    before (nothing is copied again)."""
    row = await db.fetchrow(
        """
        WITH m AS (
            INSERT INTO ticket_messages (ticket_id, direction, author_id, kind, body, file_id,
                                         source_chat_id, source_message_id, relay_outbox_id,
                                         created_at)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, nextval('outbox_id_seq'), $9)
            ON CONFLICT (source_chat_id, source_message_id) DO NOTHING
            RETURNING id, relay_outbox_id
        ), e AS (
            INSERT INTO ticket_events (ticket_id, at, actor_id, kind, details)
            SELECT $1, $9, $3, $10, jsonb_build_object('message', id, 'kind', $4::text) FROM m
        )
        SELECT id, relay_outbox_id FROM m
        """,
        ticket_id,
        direction,
        author_id,
        kind,
        body,
        file_id,
        source_chat_id,
        source_message_id,
        at,
        event.value,
    )
    return (row["id"], row["relay_outbox_id"]) if row is not None else None


async def set_relay(db: Executor, message_id: int, relay_outbox_id: int | None) -> None:
    await db.execute(
        "UPDATE ticket_messages SET relay_outbox_id = $2 WHERE id = $1", message_id, relay_outbox_id
    )


async def messages(db: Executor, ticket_id: int) -> list[TicketMessage]:
    rows = await db.fetch(
        """
        SELECT m.id, m.ticket_id, m.direction, m.author_id, m.kind, m.body, m.file_id,
               m.source_chat_id, m.source_message_id, m.relay_outbox_id,
               o.message_id AS relay_message_id, m.created_at
        FROM ticket_messages m LEFT JOIN outbox o ON o.id = m.relay_outbox_id
        WHERE m.ticket_id = $1 ORDER BY m.id
        """,
        ticket_id,
    )
    return [TicketMessage(**dict(r)) for r in rows]


async def message_count(db: Executor, ticket_id: int) -> dict[str, int]:
    rows = await db.fetch(
        "SELECT direction, count(*) AS n FROM ticket_messages WHERE ticket_id = $1 "
        "GROUP BY direction",
        ticket_id,
    )
    return {r["direction"]: r["n"] for r in rows}


async def events_since(db: Executor, ticket_id: int, kind: EventKind, since: datetime) -> int:
    """How many events of this kind the ticket had after `since`."""
    count: int = await db.fetchval(
        "SELECT count(*) FROM ticket_events WHERE ticket_id = $1 AND kind = $2 AND at > $3",
        ticket_id,
        kind.value,
        since,
    )
    return count


async def move_relay(db: Executor, old_outbox_id: int, new_outbox_id: int) -> None:
    """A relayed message was queued again (its topic was recreated): its copy is the new row."""
    await db.execute(
        "UPDATE ticket_messages SET relay_outbox_id = $2 WHERE relay_outbox_id = $1",
        old_outbox_id,
        new_outbox_id,
    )
