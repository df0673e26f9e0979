"""The SQL of a room's offers to tell the customers (services/rooms/offers.py): one row per
`/update` offered, its message, and what staff decided."""

from __future__ import annotations

from datetime import datetime

from asyncpg import Record

from services.storage.statements import Table
from services.storage.types import Executor

_OFFERS = Table("incident_room_offers")


async def add(
    db: Executor, ticket_id: int, text: str, by: int | None, at: datetime, customers: int
) -> int:
    return await _OFFERS.insert_id(
        db, ticket_id=ticket_id, text=text, offered_by=by, offered_at=at, customers=customers
    )


async def set_message(db: Executor, offer_id: int, outbox_id: int | None) -> None:
    """The outbox row of the offer's message in the room (edited when staff decide)."""
    await _OFFERS.update(db, offer_id, outbox_id=outbox_id)


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
    return await _OFFERS.exists(db, "ticket_id = $1 AND id > $2", ticket_id, offer_id)


async def decide_sent(
    db: Executor, offer_id: int, by: int, at: datetime, sent_to: int, blocked: int,
    update_id: int | None,
) -> None:  # fmt: skip
    await _OFFERS.update(
        db, offer_id, decision="sent", decided_by=by, decided_at=at, sent_to=sent_to,
        blocked=blocked, update_id=update_id,
    )  # fmt: skip


async def decide_internal(db: Executor, offer_id: int, by: int, at: datetime) -> None:
    await _OFFERS.update(db, offer_id, decision="internal", decided_by=by, decided_at=at)
