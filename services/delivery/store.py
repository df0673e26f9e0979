"""The worker's SQL over the outbox table (0002_outbox.sql, 0004_delivery.sql)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from services.delivery.rows import COLUMNS, OutboxRow
from services.storage.types import Executor

# The row that decides whether a chat may send: its earliest row that is sending, retrying
# (attempts > 0) or due. Rows scheduled for later (not_before ahead, never tried) do not hold
# the chat back. A row also waits while the topic (thread_ref) or message (ref_id) it needs
# is still unsent. Index: outbox_chat_order_idx, outbox_pending_idx.
# A row enqueued without a time (not_before = created_at, both the database's now()) is due
# at once whatever the worker's injected clock says: the two clocks need not agree.
_CLAIM = f"""
WITH heads AS (
    SELECT DISTINCT ON (chat_id) id
    FROM outbox
    WHERE status IN ('pending', 'sending')
      AND (status = 'sending' OR attempts > 0 OR (not_before <= $1 OR not_before = created_at))
    ORDER BY chat_id, id
), ready AS (
    SELECT o.id
    FROM outbox o JOIN heads h ON h.id = o.id
    WHERE o.status = 'pending' AND (o.not_before <= $1 OR o.not_before = o.created_at)
      AND NOT EXISTS (
          SELECT 1 FROM outbox r
          WHERE r.id IN (o.thread_ref, o.ref_id) AND r.status IN ('pending', 'sending'))
    ORDER BY o.priority, o.id
    LIMIT $4
), locked AS (
    SELECT id FROM outbox
    WHERE id IN (SELECT id FROM ready) AND status = 'pending'
    FOR UPDATE SKIP LOCKED
)
UPDATE outbox o
SET status = 'sending', claimed_by = $2, claimed_lock = $3, claimed_at = $1,
    attempts = o.attempts + 1
FROM locked
WHERE o.id = locked.id
RETURNING {", ".join("o." + c.strip() for c in COLUMNS.split(","))}
"""


async def claim(
    db: Executor, now: datetime, worker: str, lock_key: int, limit: int
) -> list[OutboxRow]:
    """Take up to `limit` due rows, at most one per chat, first by priority then age."""
    records = await db.fetch(_CLAIM, now, worker, lock_key, limit)
    rows = [OutboxRow.from_record(r) for r in records]
    rows.sort(key=lambda r: (r.priority, r.id))
    return rows


_CLAIM_NEXT_IN_CHAT = f"""
WITH head AS (
    SELECT id FROM outbox
    WHERE chat_id = $4 AND status IN ('pending', 'sending')
      AND (status = 'sending' OR attempts > 0 OR (not_before <= $1 OR not_before = created_at))
    ORDER BY id
    LIMIT 1
), locked AS (
    SELECT o.id FROM outbox o JOIN head h ON h.id = o.id
    WHERE o.status = 'pending' AND (o.not_before <= $1 OR o.not_before = o.created_at)
      AND NOT EXISTS (
          SELECT 1 FROM outbox r
          WHERE r.id IN (o.thread_ref, o.ref_id) AND r.status IN ('pending', 'sending'))
    FOR UPDATE OF o SKIP LOCKED
)
UPDATE outbox o
SET status = 'sending', claimed_by = $2, claimed_lock = $3, claimed_at = $1,
    attempts = o.attempts + 1
FROM locked
WHERE o.id = locked.id
RETURNING {", ".join("o." + c.strip() for c in COLUMNS.split(","))}
"""


async def claim_next_in_chat(
    db: Executor, now: datetime, worker: str, lock_key: int, chat_id: int
) -> OutboxRow | None:
    """The chat's next row, when it may leave now: a chat's rows stream without the main loop."""
    record = await db.fetchrow(_CLAIM_NEXT_IN_CHAT, now, worker, lock_key, chat_id)
    return OutboxRow.from_record(record) if record is not None else None


async def recover_orphans(db: Executor) -> int:
    """Rows left 'sending' by a worker that died (its advisory lock is gone) go back."""
    status: str = await db.execute(
        """
        UPDATE outbox o SET status = 'pending', claimed_by = NULL, claimed_lock = NULL
        WHERE o.status = 'sending'
          AND NOT EXISTS (
              SELECT 1 FROM pg_locks l
              WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1
                AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
                AND ((l.classid::bigint << 32) | l.objid::bigint) = o.claimed_lock)
        """
    )
    return int(status.split()[-1])


async def release(db: Executor, row_id: int) -> None:
    """Give a claimed row back untried (the worker is stopping)."""
    await db.execute(
        """
        UPDATE outbox SET status = 'pending', attempts = greatest(attempts - 1, 0),
                          claimed_by = NULL, claimed_lock = NULL
        WHERE id = $1 AND status = 'sending'
        """,
        row_id,
    )


async def release_all(db: Executor, lock_key: int) -> int:
    status: str = await db.execute(
        """
        UPDATE outbox SET status = 'pending', claimed_by = NULL, claimed_lock = NULL
        WHERE status = 'sending' AND claimed_lock = $1
        """,
        lock_key,
    )
    return int(status.split()[-1])


async def mark_sent(
    db: Executor, row_id: int, message_id: int | None, result: dict[str, Any], now: datetime
) -> None:
    await db.execute(
        """
        UPDATE outbox SET status = 'sent', message_id = $2, result = $3, sent_at = $4,
                          last_error = NULL, claimed_lock = NULL
        WHERE id = $1
        """,
        row_id,
        message_id,
        result,
        now,
    )


async def record_parts(db: Executor, row_id: int, parts_sent: int, result: dict[str, Any]) -> None:
    """A long text's parts that left: a resend after a crash continues after them."""
    await db.execute(
        "UPDATE outbox SET parts_sent = $2, result = $3 WHERE id = $1", row_id, parts_sent, result
    )


async def reschedule(db: Executor, row_id: int, not_before: datetime, error: str) -> None:
    await db.execute(
        """
        UPDATE outbox SET status = 'pending', not_before = $2, last_error = $3,
                          claimed_by = NULL, claimed_lock = NULL
        WHERE id = $1
        """,
        row_id,
        not_before,
        error[:2000],
    )


async def mark_failed(db: Executor, row_id: int, reason: str, error: str, now: datetime) -> None:
    await db.execute(
        """
        UPDATE outbox SET status = 'failed', failure = $2, last_error = $3, sent_at = NULL,
                          claimed_lock = NULL
        WHERE id = $1
        """,
        row_id,
        reason,
        error[:2000],
    )


async def move_chat(db: Executor, old_chat_id: int, new_chat_id: int) -> int:
    """The group became a supergroup: everything not yet sent goes to the new id."""
    status: str = await db.execute(
        """
        UPDATE outbox SET chat_id = $2
        WHERE chat_id = $1 AND status IN ('pending', 'sending')
        """,
        old_chat_id,
        new_chat_id,
    )
    await db.execute(
        "UPDATE outbox_digests SET chat_id = $2 WHERE chat_id = $1", old_chat_id, new_chat_id
    )
    return int(status.split()[-1])


async def get_row(db: Executor, row_id: int) -> OutboxRow | None:
    record = await db.fetchrow(f"SELECT {COLUMNS} FROM outbox WHERE id = $1", row_id)
    return OutboxRow.from_record(record) if record is not None else None


async def backlog(db: Executor, chat_id: int, now: datetime) -> int:
    """Rows of this chat waiting to leave now (the one being sent included)."""
    value: int = await db.fetchval(
        """
        SELECT count(*) FROM outbox
        WHERE chat_id = $1 AND status IN ('pending', 'sending')
          AND (not_before <= $2 OR not_before = created_at)
        """,
        chat_id,
        now,
    )
    return value


async def next_due(db: Executor, now: datetime) -> datetime | None:
    """When the next row waiting for its time (a retry, a scheduled send) becomes due."""
    value: datetime | None = await db.fetchval(
        "SELECT min(not_before) FROM outbox "
        "WHERE status = 'pending' AND not_before > $1 AND not_before <> created_at",
        now,
    )
    return value


async def depth_by_status(db: Executor, now: datetime) -> dict[str, int]:
    """Rows waiting or failed; sent and coalesced counted over the last day."""
    records = await db.fetch(
        """
        SELECT status, count(*) AS n FROM outbox
        WHERE status IN ('pending', 'sending', 'failed')
           OR created_at > $1::timestamptz - interval '1 day'
        GROUP BY status
        """,
        now,
    )
    depth = dict.fromkeys(("pending", "sending", "sent", "failed", "coalesced"), 0)
    depth.update({r["status"]: r["n"] for r in records})
    return depth
