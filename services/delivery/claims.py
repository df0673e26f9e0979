"""Which outbox rows leave next: the claim statements of the delivery worker.

The order rules live here (one conversation sends one row at a time, a more urgent stream of a
conversation overtakes a less urgent one, a chat's most urgent ready level goes first) and the
SQL that applies them in one round trip. What happens to a row once claimed (sent, failed,
rescheduled, given back) is recorded by store.py.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from services.delivery.rows import COLUMNS, OutboxRow
from services.storage.types import Executor

# Which row a conversation sends next. A conversation is a private chat, a forum topic, or a
# group's general chat (outbox.topic_key, 0040): rows of different conversations leave side by
# side, several workers and replicas sharing one support group (its Telegram budget binds
# through the shared limiter, ratelimit.py). A conversation's rows form one ordered stream per
# priority: rows of one priority leave in id order, and a more urgent stream overtakes a less
# urgent one of the same conversation (a P0 notice is not queued behind an alert storm).
#
# - streams: (chat, topic, priority) with a row pending or sending, found by skipping through
#   outbox_conversation_idx (0040): one index probe per stream, however many rows wait in it.
#   A claim looks at every stream (the full claim: at start, on the poll timer, when a worker
#   was saturated) or only at the conversations it was told about (NOTIFY payloads, a row
#   sent that others waited for): then its cost follows those conversations, not the backlog.
# - heads: each stream's earliest row that is sending, retrying (attempts > 0) or due. Rows
#   scheduled for later (not_before ahead, never tried) do not hold their stream back; a retry
#   holds back its own stream only.
# - a conversation sends one row at a time: while one of its heads is sending, none of its
#   other heads may leave. Otherwise its most urgent head leaves that is due and whose topic
#   (thread_ref) or message to edit (ref_id) is already sent. A head that waits for such a row
#   never blocks: that row is earlier, so it heads a stream too.
# - among a chat's conversations, a claim takes only the chat's most urgent level that is
#   ready; while rows of several conversations wait for the group's budget, the limiter gives
#   the next token to the most urgent, then oldest, of them (ratelimit.py).
# A row enqueued without a time (not_before = created_at, both the database's now()) is due
# at once whatever the worker's injected clock says: the two clocks need not agree.
# Two claims racing on different connections may each look at the same conversation: rows are
# locked with SKIP LOCKED and taken only while 'pending', and a head is taken only while no row
# of its conversation is sending, so a conversation never has two rows out at once.
_RETURNING = ", ".join("o." + c.strip() for c in COLUMNS.split(","))
_WAITING = "status IN ('pending', 'sending')"  # the predicate of the outbox stream indexes
_KEY = "chat_id, topic_key, priority"


_EVERY_STREAM = f"""
streams AS (
    (SELECT {_KEY} FROM outbox WHERE {_WAITING} ORDER BY {_KEY} LIMIT 1)
    UNION ALL
    SELECT n.chat_id, n.topic_key, n.priority
    FROM streams s, LATERAL (
        SELECT {_KEY} FROM outbox
        WHERE {_WAITING} AND ({_KEY}) > (s.chat_id, s.topic_key, s.priority)
        ORDER BY {_KEY}
        LIMIT 1
    ) n
)"""


# $4, $5: the conversations (chat ids, topic keys). `waiting`: which rows still wait (below).
def _streams_of_conversations(waiting: str) -> str:
    return f"""
streams AS (
    SELECT f.chat_id, f.topic_key, f.priority
    FROM unnest($4::bigint[], $5::bigint[]) AS c (chat_id, topic_key), LATERAL (
        SELECT {_KEY} FROM outbox
        WHERE chat_id = c.chat_id AND topic_key = c.topic_key AND {waiting}
        ORDER BY priority
        LIMIT 1
    ) f
    UNION ALL
    SELECT n.chat_id, n.topic_key, n.priority
    FROM streams s, LATERAL (
        SELECT {_KEY} FROM outbox
        WHERE chat_id = s.chat_id AND topic_key = s.topic_key AND {waiting}
          AND priority > s.priority
        ORDER BY priority
        LIMIT 1
    ) n
)"""


_STREAMS_OF_CONVERSATIONS = _streams_of_conversations(_WAITING)


# $1 is the worker's now. `waiting`: the predicate of rows that still wait (`_WAITING`; after
# a send, also not the row this statement marks sent, `ref_waiting` the same for alias r).
def _heads_and_ready(waiting: str, ref_waiting: str) -> str:
    return f"""
heads AS (
    SELECT h.*
    FROM streams s, LATERAL (
        SELECT id, chat_id, topic_key, priority, status, not_before, created_at, thread_ref,
               ref_id
        FROM outbox
        WHERE chat_id = s.chat_id AND topic_key = s.topic_key AND priority = s.priority
          AND {waiting}
          AND (status = 'sending' OR attempts > 0 OR not_before <= $1 OR not_before = created_at)
        ORDER BY id
        LIMIT 1
    ) h
), ready AS (
    SELECT h.id, h.chat_id, h.topic_key, h.priority
    FROM heads h
    WHERE h.status = 'pending' AND (h.not_before <= $1 OR h.not_before = h.created_at)
      AND NOT EXISTS (
          SELECT 1 FROM heads b
          WHERE b.chat_id = h.chat_id AND b.topic_key = h.topic_key AND b.status = 'sending')
      AND NOT EXISTS (
          SELECT 1 FROM outbox r
          WHERE r.id IN (h.thread_ref, h.ref_id) AND {ref_waiting})
)"""


_HEADS_AND_READY = _heads_and_ready(_WAITING, "r.status IN ('pending', 'sending')")

# $limit: how many rows. The best ready head of each conversation, of its chat's most urgent
# ready level, then the most urgent and oldest first.
_CHOSEN = """
chosen AS (
    SELECT id FROM (
        SELECT DISTINCT ON (chat_id, topic_key) id, priority,
               min(priority) OVER (PARTITION BY chat_id) AS chat_best
        FROM ready ORDER BY chat_id, topic_key, priority, id
    ) best
    WHERE priority = chat_best
    ORDER BY priority, id
    LIMIT {limit}
)"""

# $1 now, $2 worker name, $3 its lock key; `chosen` names the candidates, {{take}} how many
# of them to take. The candidates are SKIP_MARGIN more than the rows taken: a candidate locked
# by another transaction (a delivery hook giving the waiting edits of an incident's two cards
# their newer text, in one transaction; a replica's racing claim) is skipped and the next one
# taken, so a claim comes back short only when fewer rows may leave. The worker reads a
# short claim as "nothing else may leave now" and waits for a NOTIFY or its poll timer: a
# skipped row stalled a fan-out for the whole poll interval. (The candidates cost nothing more:
# every ready head is ranked before the LIMIT either way.)
SKIP_MARGIN = 64
_LOCKED = """
locked AS (
    SELECT id FROM outbox
    WHERE id IN (SELECT id FROM chosen) AND status = 'pending'
    ORDER BY priority, id
    LIMIT {take}
    FOR UPDATE SKIP LOCKED
)"""
_UPDATE_LOCKED = f"""
UPDATE outbox o
SET status = 'sending', claimed_by = $2, claimed_lock = $3, claimed_at = $1,
    attempts = o.attempts + 1
FROM locked
WHERE o.id = locked.id
RETURNING {_RETURNING}"""
_TAKE = _LOCKED + _UPDATE_LOCKED


def _with(*parts: str) -> str:
    return "WITH RECURSIVE " + ", ".join(p.strip() for p in parts)


# $4: how many rows.
_CLAIM = _with(
    _EVERY_STREAM,
    _HEADS_AND_READY,
    _CHOSEN.format(limit=f"$4 + {SKIP_MARGIN}"),
    _TAKE.format(take="$4"),
)
# $4, $5: the conversations, $6: how many rows.
_CLAIM_CONVERSATIONS = _with(
    _STREAMS_OF_CONVERSATIONS,
    _HEADS_AND_READY,
    _CHOSEN.format(limit=f"$6 + {SKIP_MARGIN}"),
    _TAKE.format(take="$6"),
)


def _sorted(records: list[Any]) -> list[OutboxRow]:
    rows = [OutboxRow.from_record(r) for r in records]
    rows.sort(key=lambda r: (r.priority, r.id))
    return rows


async def claim(
    db: Executor, now: datetime, worker: str, lock_key: int, limit: int
) -> list[OutboxRow]:
    """Take up to `limit` rows that may leave now, at most one per conversation (its most
    urgent), the most urgent first, then the oldest; every stream is looked at (one index
    probe each). One statement: one round trip."""
    return _sorted(await db.fetch(_CLAIM, now, worker, lock_key, limit))


def _split(conversations: Iterable[str]) -> tuple[list[int], list[int]]:
    chats: list[int] = []
    topics: list[int] = []
    for key in conversations:
        chat, _, topic = key.partition(":")
        chats.append(int(chat))
        topics.append(int(topic or 0))
    return chats, topics


async def claim_conversations(
    db: Executor,
    now: datetime,
    worker: str,
    lock_key: int,
    conversations: Iterable[str],
    limit: int,
) -> list[OutboxRow]:
    """Like `claim`, looking only at these conversations ("chat:topic" keys): a wake-up for
    new rows costs what those conversations hold, not what the whole outbox holds."""
    return await _claim_in(db, now, worker, lock_key, conversations, limit)


async def _claim_in(
    db: Executor,
    now: datetime,
    worker: str,
    lock_key: int,
    conversations: Iterable[str],
    limit: int,
) -> list[OutboxRow]:
    chats, topics = _split(conversations)
    if not chats:
        return []
    return _sorted(
        await db.fetch(_CLAIM_CONVERSATIONS, now, worker, lock_key, chats, topics, limit)
    )


@dataclass(frozen=True)
class Sent:
    """A row just sent whose record waits for its conversation's next claim: the two are one
    statement (`claim_next_in_conversation`), the storm path's one round trip per copy."""

    row_id: int
    message_id: int | None
    result: dict[str, Any]
    at: datetime


# $6 the row sent, $7 its message id, $8 the result, $9 when. Recorded as store.mark_sent
# records a row that created no topic; the claim's CTEs see the outbox as it was before the
# statement (the row still 'sending'), so they pass over that row by its id.
_NEXT_AFTER_SENT = (
    _with(
        """
sent AS (
    UPDATE outbox SET status = 'sent', message_id = $7, result = $8, sent_at = $9,
                      last_error = NULL, claimed_lock = NULL
    WHERE id = $6
    RETURNING id
), woken AS (
    SELECT DISTINCT chat_id::text || ':' || topic_key::text AS conversation FROM outbox
    WHERE (thread_ref = $6 OR ref_id = $6) AND status = 'pending'
)""",
        _streams_of_conversations(f"{_WAITING} AND id <> $6"),
        _heads_and_ready(
            f"{_WAITING} AND id <> $6", "r.status IN ('pending', 'sending') AND r.id <> $6"
        ),
        _CHOSEN.format(limit=f"1 + {SKIP_MARGIN}"),
        _LOCKED.format(take="1"),
        f"claimed AS ({_UPDATE_LOCKED})",
    )
    + """
SELECT (SELECT coalesce(array_agg(conversation), '{}') FROM woken) AS woken, c.*
FROM (SELECT 1) AS one LEFT JOIN claimed c ON true
"""
)


async def claim_next_in_conversation(
    db: Executor,
    now: datetime,
    worker: str,
    lock_key: int,
    conversation: str,
    *,
    sent: Sent | None = None,
) -> tuple[OutboxRow | None, list[str]]:
    """The conversation's next row (its most urgent), when it may leave now: a conversation's
    rows stream without the main loop. With `sent`: that row is recorded sent in the same
    statement. One statement: one round trip. Also the conversations whose rows waited for
    the row sent (their topic, the message they edit): the worker wakes them."""
    if sent is None:
        rows = await _claim_in(db, now, worker, lock_key, [conversation], 1)
        return (rows[0] if rows else None), []
    chats, topics = _split([conversation])
    record = await db.fetchrow(
        _NEXT_AFTER_SENT, now, worker, lock_key, chats, topics,
        sent.row_id, sent.message_id, sent.result, sent.at,
    )  # fmt: skip
    assert record is not None
    row = OutboxRow.from_record(record) if record["id"] is not None else None
    return row, list(record["woken"])


# $2: the chat, $3: the topic, $4: the priority of the row that waits.
_OVERTAKEN = (
    _with(
        f"""
streams AS (
    (SELECT {_KEY} FROM outbox
     WHERE chat_id = $2 AND topic_key = $3 AND {_WAITING} AND priority < $4
     ORDER BY priority LIMIT 1)
    UNION ALL
    SELECT n.chat_id, n.topic_key, n.priority
    FROM streams s, LATERAL (
        SELECT {_KEY} FROM outbox
        WHERE chat_id = $2 AND topic_key = $3 AND {_WAITING} AND priority < $4
          AND priority > s.priority
        ORDER BY priority
        LIMIT 1
    ) n
)""",
        _HEADS_AND_READY,
    )
    + "\nSELECT EXISTS (SELECT 1 FROM ready)"
)


async def overtaken(db: Executor, row: OutboxRow, now: datetime) -> bool:
    """Whether a more urgent row of the same conversation could leave now in place of `row`,
    which waits for a token: then `row` gives way (released untried) rather than go first.
    Across a group's conversations the limiter orders who waits for its budget."""
    if row.priority <= 0:
        return False
    value: bool = await db.fetchval(_OVERTAKEN, now, row.chat_id, row.topic_key, row.priority)
    return value
