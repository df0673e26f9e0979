"""SQL of the fan-outs (public_updates, migration 0025): one update or resolution to every
linked customer, its outbox rows queued in one statement, and what the delivery hook counts."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from asyncpg import Record

from services.outbox import EVERY_CONVERSATION, NOTIFY_CHANNEL
from services.storage.records import record, rowcount
from services.storage.statements import Table
from services.storage.types import Executor

_UPDATES = Table("public_updates")


@dataclass(frozen=True)
class Progress:
    id: int
    ticket_id: int
    kind: str
    total: int
    sent: int
    blocked: int
    failed: int
    finished_at: datetime | None

    @property
    def done(self) -> int:
        return self.sent + self.blocked + self.failed


def _progress(row: Record) -> Progress:
    return record(Progress, row)


async def insert_update(
    db: Executor, ticket_id: int, kind: str, body: str, author_id: int | None, now: datetime
) -> int:
    return await _UPDATES.insert_id(
        db, ticket_id=ticket_id, kind=kind, body=body, author_id=author_id, created_at=now
    )


async def set_totals(db: Executor, update_id: int, total: int, blocked: int) -> None:
    await db.execute(
        """UPDATE public_updates SET total = $2::integer, blocked = $3::integer,
                  finished_at = CASE WHEN $2::integer <= $3::integer THEN created_at END
           WHERE id = $1""",
        update_id,
        total,
        blocked,
    )


async def count(db: Executor, update_id: int, column: str, now: datetime) -> Progress | None:
    """One more row sent / blocked / failed; the fan-out is finished when all are counted."""
    if column not in ("sent", "blocked", "failed"):
        raise ValueError(column)
    row = await db.fetchrow(
        f"""
        UPDATE public_updates SET {column} = {column} + 1,
               finished_at = CASE WHEN sent + blocked + failed + 1 >= total
                                  THEN coalesce(finished_at, $2) END
        WHERE id = $1 RETURNING *
        """,
        update_id,
        now,
    )
    return _progress(row) if row is not None else None


async def latest_update(db: Executor, ticket_id: int) -> Progress | None:
    row = await db.fetchrow(
        "SELECT * FROM public_updates WHERE ticket_id = $1 ORDER BY id DESC LIMIT 1", ticket_id
    )
    return _progress(row) if row is not None else None


async def progress_of(db: Executor, update_id: int) -> Progress | None:
    row = await db.fetchrow("SELECT * FROM public_updates WHERE id = $1", update_id)
    return _progress(row) if row is not None else None


async def enqueue_many(
    db: Executor,
    *,
    chat_ids: list[int],
    languages: list[str],
    payload_id: dict[str, Any],
    payload_en: dict[str, Any],
    owner: str,
    dedup_prefix: str,
    priority: int,
) -> int:
    """One outbox row per customer, in their language, in one statement (a fan-out to
    thousands commits at once); a row already queued (its dedup key) is not queued again."""
    status: str = await db.execute(
        """
        INSERT INTO outbox (chat_id, kind, payload, dedup_key, owner, priority)
        SELECT c, 'text', CASE WHEN l = 'en' THEN $4::jsonb ELSE $3::jsonb END,
               $5 || c::text, $6, $7
        FROM unnest($1::bigint[], $2::text[]) AS x(c, l)
        ON CONFLICT (dedup_key) DO NOTHING
        """,
        chat_ids,
        languages,
        payload_id,
        payload_en,
        dedup_prefix,
        owner,
        priority,
    )
    queued = rowcount(status)
    if queued:
        await db.execute("SELECT pg_notify($1, $2)", NOTIFY_CHANNEL, EVERY_CONVERSATION)
    return queued
