"""The audit log: who did what to which target, from which chat, and whether it was allowed."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import asyncpg

from services.storage.records import record as record_of
from services.storage.types import Executor


@dataclass(frozen=True)
class AuditEntry:
    id: int
    at: datetime
    actor_id: int | None
    chat_id: int | None
    action: str
    target: str | None
    allowed: bool
    details: dict[str, Any]


async def record(
    db: Executor,
    *,
    actor_id: int | None,
    action: str,
    allowed: bool,
    target: str | None = None,
    chat_id: int | None = None,
    details: dict[str, Any] | None = None,
    at: datetime | None = None,
) -> int:
    """Write one entry; pass a connection inside a transaction to commit it with the action."""
    entry_id: int = await db.fetchval(
        """
        INSERT INTO audit_log (actor_id, chat_id, action, target, allowed, details, at)
        VALUES ($1, $2, $3, $4, $5, $6, coalesce($7, now()))
        RETURNING id
        """,
        actor_id,
        chat_id,
        action,
        target,
        allowed,
        details or {},
        at,
    )
    return entry_id


async def entries_since(
    db: Executor, since: datetime, *, action_prefix: str = "", allowed: bool | None = None
) -> list[AuditEntry]:
    rows = await db.fetch(
        """
        SELECT id, at, actor_id, chat_id, action, target, allowed, details
        FROM audit_log
        WHERE at >= $1 AND action LIKE $2 || '%' AND ($3::boolean IS NULL OR allowed = $3)
        ORDER BY at, id
        """,
        since,
        action_prefix,
        allowed,
    )
    return [_entry(r) for r in rows]


def _entry(row: asyncpg.Record) -> AuditEntry:
    return record_of(AuditEntry, row, details=dict(row["details"]))
