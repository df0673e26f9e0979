"""The worker's SQL over the outbox table (0002_outbox.sql, 0004_delivery.sql, 0010)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from services.delivery.rows import COLUMNS, OutboxRow
from services.storage.locks import lock_is_held
from services.storage.types import Executor

# Which row a chat sends next. A chat's rows form one ordered stream per priority: rows of one
# priority leave in id order (so each conversation keeps its order), and a more urgent stream
# overtakes a less urgent one: a P0 notice is not queued behind an alert storm in the same chat.
#
# - streams: every (chat, priority) with a row pending or sending, found by skipping through
#   outbox_stream_idx (0010): one index probe per stream, however many rows wait in it.
# - heads: each stream's earliest row that is sending, retrying (attempts > 0) or due. Rows
#   scheduled for later (not_before ahead, never tried) do not hold their stream back; a retry
#   holds back its own stream only.
# - a chat sends one row at a time (its pace is Telegram's anyway): while one of its heads is
#   sending, none of its other heads may leave. Otherwise its most urgent head leaves that is
#   due and whose topic (thread_ref) or message to edit (ref_id) is already sent. A head that
#   waits for such a row never blocks the chat: that row is earlier, so it heads a stream too.
# A row enqueued without a time (not_before = created_at, both the database's now()) is due
# at once whatever the worker's injected clock says: the two clocks need not agree.
# Two claims racing on different connections may each take a head of the same chat (each the
# head of its own stream, locked with SKIP LOCKED): a stream never has two rows out at once.
_RETURNING = ", ".join("o." + c.strip() for c in COLUMNS.split(","))
_WAITING = "status IN ('pending', 'sending')"  # outbox_stream_idx's predicate


def _streams_of_every_chat() -> str:
    return f"""
streams AS (
    (SELECT chat_id, priority FROM outbox WHERE {_WAITING} ORDER BY chat_id, priority LIMIT 1)
    UNION ALL
    SELECT n.chat_id, n.priority
    FROM streams s, LATERAL (
        SELECT chat_id, priority FROM outbox
        WHERE {_WAITING} AND (chat_id, priority) > (s.chat_id, s.priority)
        ORDER BY chat_id, priority
        LIMIT 1
    ) n
)"""


def _streams_of_one_chat(chat: str, more_urgent_than: str | None = None) -> str:
    bound = f" AND priority < {more_urgent_than}" if more_urgent_than else ""
    return f"""
streams AS (
    (SELECT chat_id, priority FROM outbox WHERE chat_id = {chat} AND {_WAITING}{bound}
     ORDER BY priority LIMIT 1)
    UNION ALL
    SELECT n.chat_id, n.priority
    FROM streams s, LATERAL (
        SELECT chat_id, priority FROM outbox
        WHERE chat_id = {chat} AND {_WAITING}{bound} AND priority > s.priority
        ORDER BY priority
        LIMIT 1
    ) n
)"""


# $1 is the worker's now.
_HEADS_AND_READY = f"""
heads AS (
    SELECT h.*
    FROM streams s, LATERAL (
        SELECT id, chat_id, priority, status, not_before, created_at, thread_ref, ref_id
        FROM outbox
        WHERE chat_id = s.chat_id AND priority = s.priority AND {_WAITING}
          AND (status = 'sending' OR attempts > 0 OR not_before <= $1 OR not_before = created_at)
        ORDER BY id
        LIMIT 1
    ) h
), ready AS (
    SELECT h.id, h.chat_id, h.priority
    FROM heads h
    WHERE h.status = 'pending' AND (h.not_before <= $1 OR h.not_before = h.created_at)
      AND NOT EXISTS (SELECT 1 FROM heads b WHERE b.chat_id = h.chat_id AND b.status = 'sending')
      AND NOT EXISTS (
          SELECT 1 FROM outbox r
          WHERE r.id IN (h.thread_ref, h.ref_id) AND r.status IN ('pending', 'sending'))
)"""

# $1 now, $2 worker name, $3 its lock key; `chosen` names the rows to take.
_TAKE = f"""
locked AS (
    SELECT id FROM outbox
    WHERE id IN (SELECT id FROM chosen) AND status = 'pending'
    FOR UPDATE SKIP LOCKED
)
UPDATE outbox o
SET status = 'sending', claimed_by = $2, claimed_lock = $3, claimed_at = $1,
    attempts = o.attempts + 1
FROM locked
WHERE o.id = locked.id
RETURNING {_RETURNING}"""


def _with(*parts: str) -> str:
    return "WITH RECURSIVE " + ", ".join(p.strip() for p in parts)


# $4: how many rows. The best ready head of each chat, then the most urgent and oldest chats.
_CLAIM = _with(
    _streams_of_every_chat(),
    _HEADS_AND_READY,
    """
chosen AS (
    SELECT id FROM (
        SELECT DISTINCT ON (chat_id) id, priority FROM ready ORDER BY chat_id, priority, id
    ) best
    ORDER BY priority, id
    LIMIT $4
)""",
    _TAKE,
)


async def claim(
    db: Executor, now: datetime, worker: str, lock_key: int, limit: int
) -> list[OutboxRow]:
    """Take up to `limit` rows that may leave now, at most one per chat (its most urgent),
    the most urgent first, then the oldest. One statement: one round trip."""
    records = await db.fetch(_CLAIM, now, worker, lock_key, limit)
    rows = [OutboxRow.from_record(r) for r in records]
    rows.sort(key=lambda r: (r.priority, r.id))
    return rows


# $4: the chat.
_CLAIM_NEXT_IN_CHAT = _with(
    _streams_of_one_chat("$4"),
    _HEADS_AND_READY,
    "chosen AS (SELECT id FROM ready ORDER BY priority, id LIMIT 1)",
    _TAKE,
)


async def claim_next_in_chat(
    db: Executor, now: datetime, worker: str, lock_key: int, chat_id: int
) -> OutboxRow | None:
    """The chat's next row (its most urgent), when it may leave now: a chat's rows stream
    without the main loop. One statement: one round trip."""
    record = await db.fetchrow(_CLAIM_NEXT_IN_CHAT, now, worker, lock_key, chat_id)
    return OutboxRow.from_record(record) if record is not None else None


# $2: the chat, $3: the priority of the row that waits.
_OVERTAKEN = (
    _with(
        _streams_of_one_chat("$2", more_urgent_than="$3"),
        _HEADS_AND_READY,
    )
    + "\nSELECT EXISTS (SELECT 1 FROM ready)"
)


async def overtaken(db: Executor, row: OutboxRow, now: datetime) -> bool:
    """Whether a more urgent row of the same chat could leave now in place of `row`, which
    waits for a token: then `row` gives way (released untried) rather than go first."""
    if row.priority <= 0:
        return False
    value: bool = await db.fetchval(_OVERTAKEN, now, row.chat_id, row.priority)
    return value


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
