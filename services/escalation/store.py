"""SQL on the escalation tables (0008): incidents, the copies of their messages, on-call slots."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from asyncpg import Record

from services.escalation.policy import EscalationRules, IncidentClock, next_deadline
from services.storage.records import columns, record, rowcount
from services.storage.types import Executor


@dataclass(frozen=True)
class Incident:
    ticket_id: int
    priority: str
    source: str
    level: int
    opened_at: datetime
    opened_by: int | None
    level_entered_at: datetime
    next_deadline: datetime | None
    acknowledged_by: int | None
    acknowledged_at: datetime | None
    response_breach_told_at: datetime | None
    resolved_by: int | None
    resolved_at: datetime | None
    escalations: int

    def clock(self) -> IncidentClock:
        return IncidentClock(
            priority=self.priority,
            level=self.level,
            opened_at=self.opened_at,
            level_entered_at=self.level_entered_at,
            acknowledged=self.acknowledged_at is not None,
            response_breach_told=self.response_breach_told_at is not None,
            resolved=self.resolved_at is not None,
        )

    def with_deadline(self, rules: EscalationRules) -> Incident:
        return replace(self, next_deadline=next_deadline(rules, self.clock()))


_COLUMNS = columns(Incident)


def _incident(row: Record) -> Incident:
    return record(Incident, row)


async def insert(db: Executor, incident: Incident) -> Incident | None:
    """None when the ticket is already an incident."""
    row = await db.fetchrow(
        f"""
        INSERT INTO incidents ({_COLUMNS})
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)
        ON CONFLICT (ticket_id) DO NOTHING
        RETURNING {_COLUMNS}
        """,
        *(getattr(incident, k) for k in Incident.__dataclass_fields__),
    )
    return _incident(row) if row else None


async def get(db: Executor, ticket_id: int, *, lock: bool = False) -> Incident | None:
    suffix = " FOR UPDATE" if lock else ""
    row = await db.fetchrow(
        f"SELECT {_COLUMNS} FROM incidents WHERE ticket_id = $1{suffix}", ticket_id
    )
    return _incident(row) if row else None


async def save(db: Executor, incident: Incident, *, expected_level: int) -> bool:
    """Write the new state only if the level is still what the caller read (no double step)."""
    status: str = await db.execute(
        """
        UPDATE incidents
        SET level = $3, level_entered_at = $4, next_deadline = $5, acknowledged_by = $6,
            acknowledged_at = $7, response_breach_told_at = $8, resolved_by = $9,
            resolved_at = $10, escalations = $11, priority = $12
        WHERE ticket_id = $1 AND level = $2
        """,
        incident.ticket_id,
        expected_level,
        incident.level,
        incident.level_entered_at,
        incident.next_deadline,
        incident.acknowledged_by,
        incident.acknowledged_at,
        incident.response_breach_told_at,
        incident.resolved_by,
        incident.resolved_at,
        incident.escalations,
        incident.priority,
    )
    return rowcount(status) == 1


async def claim_due(db: Executor, now: datetime, limit: int) -> list[Incident]:
    """Due incidents, locked; rows another scanner holds are skipped, not waited for.
    Served by incidents_next_deadline_idx (a partial index on next_deadline)."""
    rows = await db.fetch(
        f"""
        SELECT {_COLUMNS} FROM incidents
        WHERE next_deadline <= $1
        ORDER BY next_deadline
        LIMIT $2
        FOR UPDATE SKIP LOCKED
        """,
        now,
        limit,
    )
    return [_incident(r) for r in rows]


async def earliest_deadline(db: Executor) -> datetime | None:
    value: datetime | None = await db.fetchval(
        "SELECT next_deadline FROM incidents WHERE next_deadline IS NOT NULL "
        "ORDER BY next_deadline LIMIT 1"
    )
    return value


async def open_incidents(db: Executor) -> list[Incident]:
    rows = await db.fetch(
        f"SELECT {_COLUMNS} FROM incidents WHERE resolved_at IS NULL ORDER BY priority, opened_at"
    )
    return [_incident(r) for r in rows]


@dataclass(frozen=True)
class Copy:
    """One sent copy of an incident's message: edited in place on every change."""

    outbox_id: int
    chat_id: int
    recipient_id: int | None
    language: str | None
    variant: str
    extra: dict[str, Any]


_COPY_COLUMNS = columns(Copy)


def _copy(row: Record) -> Copy:
    return record(Copy, row, extra=dict(row["extra"]))


async def add_copy(
    db: Executor,
    ticket_id: int,
    outbox_id: int,
    *,
    chat_id: int,
    recipient_id: int | None,
    language: str | None,
    variant: str,
    extra: dict[str, Any] | None = None,
) -> None:
    await db.execute(
        """
        INSERT INTO incident_messages (ticket_id, outbox_id, chat_id, recipient_id, language,
                                       variant, extra)
        VALUES ($1, $2, $3, $4, $5, $6, $7)
        """,
        ticket_id,
        outbox_id,
        chat_id,
        recipient_id,
        language,
        variant,
        extra or {},
    )


async def copies(db: Executor, ticket_id: int) -> list[Copy]:
    rows = await db.fetch(
        f"SELECT {_COPY_COLUMNS} FROM incident_messages WHERE ticket_id = $1 ORDER BY id",
        ticket_id,
    )
    return [_copy(r) for r in rows]


async def live_card(db: Executor, ticket_id: int, chat_id: int) -> Copy | None:
    """The incident's one card in a group chat (not a person's page), if it has one there."""
    for copy in await copies(db, ticket_id):
        if copy.chat_id == chat_id and copy.recipient_id is None:
            return copy
    return None


async def copy_sent_as(db: Executor, outbox_id: int) -> tuple[int, Copy] | None:
    """The incident (ticket id) and copy an outbox row carried, if it carried one."""
    row = await db.fetchrow(
        f"SELECT ticket_id, {_COPY_COLUMNS} FROM incident_messages WHERE outbox_id = $1",
        outbox_id,
    )
    return None if row is None else (row["ticket_id"], _copy(row))


async def drop_copy(db: Executor, outbox_id: int) -> None:
    """A copy that never reached its chat: nothing to edit later."""
    await db.execute("DELETE FROM incident_messages WHERE outbox_id = $1", outbox_id)
