"""The SQL of a room's offers to tell the customers (services/rooms/offers.py): one row per
`/update` offered, its message, and what staff decided."""

from __future__ import annotations

from datetime import datetime

from asyncpg import Record

from services.storage.types import Executor


async def add(
    db: Executor, ticket_id: int, text: str, by: int | None, at: datetime, customers: int
) -> int:
    offer_id: int = await db.fetchval(
        """INSERT INTO incident_room_offers (ticket_id, text, offered_by, offered_at, customers)
           VALUES ($1, $2, $3, $4, $5) RETURNING id""",
        ticket_id,
        text,
        by,
        at,
        customers,
    )
    return offer_id


async def set_message(db: Executor, offer_id: int, outbox_id: int | None) -> None:
    """The outbox row of the offer's message in the room (edited when staff decide)."""
    await db.execute(
        "UPDATE incident_room_offers SET outbox_id = $2 WHERE id = $1", offer_id, outbox_id
    )


async def ticket_of(db: Executor, offer_id: int) -> int | None:
    ticket_id: int | None = await db.fetchval(
        "SELECT ticket_id FROM incident_room_offers WHERE id = $1", offer_id
    )
    return ticket_id


async def get_locked(db: Executor, offer_id: int) -> Record | None:
    row: Record | None = await db.fetchrow(
        "SELECT * FROM incident_room_offers WHERE id = $1 FOR UPDATE", offer_id
    )
    return row


async def newer_exists(db: Executor, ticket_id: int, offer_id: int) -> bool:
    """A later offer of the same incident (this one is out of date)."""
    found: bool = await db.fetchval(
        "SELECT EXISTS (SELECT 1 FROM incident_room_offers WHERE ticket_id = $1 AND id > $2)",
        ticket_id,
        offer_id,
    )
    return found


async def decide_sent(
    db: Executor, offer_id: int, by: int, at: datetime, sent_to: int, blocked: int,
    update_id: int | None,
) -> None:  # fmt: skip
    await db.execute(
        """UPDATE incident_room_offers SET decision = 'sent', decided_by = $2,
                  decided_at = $3, sent_to = $4, blocked = $5, update_id = $6
           WHERE id = $1""",
        offer_id,
        by,
        at,
        sent_to,
        blocked,
        update_id,
    )


async def decide_internal(db: Executor, offer_id: int, by: int, at: datetime) -> None:
    await db.execute(
        """UPDATE incident_room_offers SET decision = 'internal', decided_by = $2,
                  decided_at = $3 WHERE id = $1""",
        offer_id,
        by,
        at,
    )
