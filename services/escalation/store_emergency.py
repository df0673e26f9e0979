"""The SQL of the emergency line (services/escalation/emergency.py, emergency_breach.py): each
call, the ticket it raised, its repeated pages and the one breach notice."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from asyncpg import Record

from services.storage.statements import Table
from services.storage.types import Executor

Source = Literal["sos", "webhook"]
_CALLS = Table("emergency_calls")


@dataclass(frozen=True)
class EmergencyCall:
    source: Source
    caller: str  # a name or a phone number
    message: str
    caller_id: int | None = None  # the staff member of a /sos
    provider_ref: str | None = None  # the provider's id of the call: a retry is the same call
    payload: dict[str, Any] = field(default_factory=dict)


async def lock_ref(db: Executor, provider_ref: str) -> None:
    """Until the transaction ends: one writer per provider call id (a retry waits, then finds
    the call)."""
    await db.execute("SELECT pg_advisory_xact_lock(hashtext($1))", provider_ref)


async def by_ref(db: Executor, provider_ref: str) -> Record | None:
    """(id, ticket_id) of the call the provider sent with this id before."""
    row: Record | None = await db.fetchrow(
        "SELECT id, ticket_id FROM emergency_calls WHERE provider_ref = $1", provider_ref
    )
    return row


async def add_call(db: Executor, call: EmergencyCall, at: datetime) -> int:
    call_id: int = await db.fetchval(
        """
        INSERT INTO emergency_calls (received_at, source, caller, caller_id, message,
                                     provider_ref, payload)
        VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id
        """,
        at,
        call.source,
        call.caller,
        call.caller_id,
        call.message,
        call.provider_ref,
        call.payload,
    )
    return call_id


async def raised(db: Executor, call_id: int, ticket_id: int, next_page_at: datetime) -> None:
    """The call's ticket, its first round of pages sent, the next one due at `next_page_at`."""
    await _CALLS.update(db, call_id, ticket_id=ticket_id, pages=1, next_page_at=next_page_at)


async def repeats_due(db: Executor, now: datetime) -> list[Record]:
    """Calls whose next round of pages is due, locked (others skip them): id, ticket_id, pages,
    next_page_at, and whether the incident was answered (acknowledged or resolved)."""
    rows: list[Record] = await db.fetch(
        """
        SELECT c.id, c.ticket_id, c.pages, c.next_page_at,
               i.acknowledged_at IS NOT NULL OR i.resolved_at IS NOT NULL AS answered
        FROM emergency_calls c LEFT JOIN incidents i ON i.ticket_id = c.ticket_id
        WHERE c.next_page_at IS NOT NULL AND c.next_page_at <= $1
        ORDER BY c.next_page_at LIMIT 50
        FOR UPDATE OF c SKIP LOCKED
        """,
        now,
    )
    return rows


async def stop_repeating(db: Executor, call_id: int) -> None:
    await _CALLS.update(db, call_id, next_page_at=None)


async def repeated(db: Executor, call_id: int, pages: int, next_page_at: datetime) -> None:
    await _CALLS.update(db, call_id, pages=pages, next_page_at=next_page_at)


async def earliest_repeat(db: Executor) -> datetime | None:
    found: datetime | None = await db.fetchval(
        "SELECT min(next_page_at) FROM emergency_calls WHERE next_page_at IS NOT NULL"
    )
    return found


async def breaches_due(db: Executor, now: datetime) -> list[Record]:
    """Unresolved emergencies past their resolution deadline and not told yet, locked: id,
    ticket_id, received_at, resolution_due, subject."""
    rows: list[Record] = await db.fetch(
        """
        SELECT c.id, c.ticket_id, c.received_at, t.resolution_due, t.subject
        FROM emergency_calls c
        JOIN tickets t ON t.id = c.ticket_id
        JOIN incidents i ON i.ticket_id = c.ticket_id
        WHERE c.breach_told_at IS NULL AND i.resolved_at IS NULL AND t.resolution_due <= $1
        ORDER BY t.resolution_due LIMIT 50
        FOR UPDATE OF c SKIP LOCKED
        """,
        now,
    )
    return rows


async def breach_told(db: Executor, call_id: int, at: datetime) -> None:
    await _CALLS.update(db, call_id, breach_told_at=at)


async def earliest_breach(db: Executor) -> datetime | None:
    found: datetime | None = await db.fetchval(
        """
        SELECT min(t.resolution_due) FROM emergency_calls c
        JOIN tickets t ON t.id = c.ticket_id JOIN incidents i ON i.ticket_id = c.ticket_id
        WHERE c.breach_told_at IS NULL AND i.resolved_at IS NULL
        """
    )
    return found
