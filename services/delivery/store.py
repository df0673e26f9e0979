"""The delivery worker's bookkeeping over the outbox table (0002_outbox.sql, 0004_delivery.sql,
0010): what became of a claimed row (sent, failed, rescheduled, given back, moved to a migrated
chat), orphans of dead workers, and the counts the worker plans by. Which rows are claimed, and
in which order, is claims.py.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from services.delivery.rows import COLUMNS, OutboxRow
from services.storage.locks import lock_is_held
from services.storage.types import Executor


async def recover_orphans(db: Executor) -> int:
    """Rows left 'sending' by a worker that died (its advisory lock is gone) go back."""
    status: str = await db.execute(
        "UPDATE outbox o SET status = 'pending', claimed_by = NULL, claimed_lock = NULL "
        f"WHERE o.status = 'sending' AND NOT {lock_is_held('o.claimed_lock')}"
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


# $5: the topic's id when the row created one. The rows that waited for this row (their topic,
# the message they edit) are named, so their conversations are woken at once; rows waiting for
# a topic move to its id in this same statement, so the topic is one conversation from now on.
_MARK_SENT = """
WITH sent AS (
    UPDATE outbox SET status = 'sent', message_id = $2, result = $3, sent_at = $4,
                      last_error = NULL, claimed_lock = NULL
    WHERE id = $1
    RETURNING id
), moved AS (
    UPDATE outbox SET topic_key = $5, thread_id = $5
    WHERE $5::bigint IS NOT NULL AND thread_ref = $1 AND status = 'pending'
    RETURNING chat_id, topic_key
), waiting AS (
    SELECT chat_id, topic_key FROM outbox WHERE thread_ref = $1 AND status = 'pending'
        AND $5::bigint IS NULL
    UNION ALL
    SELECT chat_id, topic_key FROM outbox WHERE ref_id = $1 AND status = 'pending'
)
SELECT DISTINCT chat_id::text || ':' || topic_key::text AS conversation
FROM (SELECT * FROM moved UNION ALL SELECT * FROM waiting) w
"""


async def mark_sent(
    db: Executor,
    row_id: int,
    message_id: int | None,
    result: dict[str, Any],
    now: datetime,
    *,
    topic_id: int | None = None,
) -> list[str]:
    """Record the row as sent; return the conversations whose rows waited for it. One round
    trip. `topic_id`: the row created that forum topic."""
    records = await db.fetch(_MARK_SENT, row_id, message_id, result, now, topic_id)
    return [r["conversation"] for r in records]


async def waiting_for(db: Executor, row_id: int) -> list[str]:
    """The conversations with rows waiting for this one (their topic, the message they edit)."""
    records = await db.fetch(
        """
        SELECT DISTINCT chat_id::text || ':' || topic_key::text AS conversation FROM outbox
        WHERE (thread_ref = $1 OR ref_id = $1) AND status = 'pending'
        """,
        row_id,
    )
    return [r["conversation"] for r in records]


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


async def unsent(db: Executor) -> int:
    """Rows still pending or sending (tests wait for none)."""
    value: int = await db.fetchval(
        "SELECT count(*) FROM outbox WHERE status IN ('pending', 'sending')"
    )
    return value
