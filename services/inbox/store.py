"""The inbox table's SQL. Every function takes a pool or a connection (an `Executor`)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from services.inbox.config import FloodLimit
from services.inbox.conversation import stream_of
from services.storage.locks import lock_is_held
from services.storage.types import Executor
from services.text import storable


@dataclass(frozen=True)
class InboxRow:
    update_id: int
    conversation: str
    payload: dict[str, Any]
    attempts: int


@dataclass(frozen=True)
class Stored:
    accepted: int  # new rows to handle
    throttled: int  # new rows refused as a flood (kept)
    duplicates: int  # update ids stored before (a redelivery)


def _clean(value: Any) -> Any:
    """What PostgreSQL's jsonb can hold: no NUL, no lone surrogate, in keys or values."""
    if isinstance(value, str):
        return storable(value)
    if isinstance(value, dict):
        return {storable(str(k)): _clean(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_clean(v) for v in value]
    return value


_STORE = """
WITH incoming AS (
    SELECT * FROM unnest($1::bigint[], $2::text[], $3::text[], $4::bool[])
        AS t(update_id, conversation, payload, limited)
),
recent AS (
    SELECT i.conversation, count(*) AS n
    FROM inbox i
    WHERE i.conversation IN (SELECT conversation FROM incoming WHERE limited)
      AND i.received_at > now() - make_interval(secs => $5)
      AND i.state NOT IN ('throttled', 'refused')
    GROUP BY i.conversation
),
ranked AS (
    SELECT n.*, coalesce(r.n, 0)
        + row_number() OVER (PARTITION BY n.conversation ORDER BY n.update_id) AS nth
    FROM incoming n LEFT JOIN recent r USING (conversation)
)
INSERT INTO inbox (update_id, conversation, payload, state)
SELECT update_id, conversation, payload::jsonb,
       CASE WHEN limited AND nth > $6 THEN 'throttled' ELSE 'pending' END
FROM ranked
ORDER BY update_id
ON CONFLICT (update_id) DO NOTHING
RETURNING state
"""


async def store(db: Executor, updates: Sequence[dict[str, Any]], flood: FloodLimit) -> Stored:
    """Store a batch of raw updates in one statement; a flood is marked at the door."""
    if not updates:
        return Stored(0, 0, 0)
    ids: list[int] = []
    keys: list[str] = []
    payloads: list[str] = []
    limited: list[bool] = []
    for update in updates:
        clean = _clean(update)
        stream = stream_of(clean)
        ids.append(int(clean["update_id"]))
        keys.append(stream.key)
        payloads.append(json.dumps(clean, ensure_ascii=False))
        limited.append(stream.limited)
    rows = await db.fetch(_STORE, ids, keys, payloads, limited, flood.window_seconds, flood.updates)
    throttled = sum(1 for r in rows if r["state"] == "throttled")
    return Stored(len(rows) - throttled, throttled, len(updates) - len(rows))


# A conversation's head is its earliest update not yet done; only a head that is pending and
# due may be taken, so a conversation's order holds across replicas. The heads are found by
# skipping through inbox_conversation_idx, one probe per conversation with something open,
# however many updates wait behind each (a flood of 2,000 messages from 20 customers is 20
# probes, not 2,000 NOT EXISTS checks). `state = 'pending'` is checked again on the locked row:
# a claim that committed meanwhile is seen there.
_OPEN = "state IN ('pending', 'processing')"  # inbox_conversation_idx's predicate
_CLAIM = f"""
WITH RECURSIVE conversations AS (
    (SELECT conversation FROM inbox WHERE {_OPEN} ORDER BY conversation LIMIT 1)
    UNION ALL
    SELECT n.conversation
    FROM conversations c, LATERAL (
        SELECT conversation FROM inbox
        WHERE {_OPEN} AND conversation > c.conversation
        ORDER BY conversation
        LIMIT 1
    ) n
), heads AS (
    SELECT h.update_id
    FROM conversations c, LATERAL (
        SELECT update_id, state, not_before FROM inbox
        WHERE conversation = c.conversation AND {_OPEN}
        ORDER BY update_id
        LIMIT 1
    ) h
    WHERE h.state = 'pending' AND h.not_before <= now() AND h.update_id <> ALL($4::bigint[])
), candidate AS (
    SELECT i.update_id FROM inbox i
    WHERE i.update_id IN (SELECT update_id FROM heads) AND i.state = 'pending'
    ORDER BY i.update_id
    LIMIT $3
    FOR UPDATE SKIP LOCKED
)
UPDATE inbox SET state = 'processing', owner = $1, owner_lock = $2,
                 attempts = inbox.attempts + 1
FROM candidate WHERE inbox.update_id = candidate.update_id
RETURNING inbox.update_id, inbox.conversation, inbox.payload, inbox.attempts
"""


async def claim(
    db: Executor, owner: str, lock_key: int, limit: int, in_hand: Sequence[int] = ()
) -> list[InboxRow]:
    """The oldest unfinished update of up to `limit` conversations nobody is handling.

    A conversation's next update is claimable only once every earlier one is done, so its
    order holds across replicas. `in_hand` are updates this process is still handling (a
    store outage may have put them back meanwhile)."""
    return _rows(await db.fetch(_CLAIM, owner, lock_key, limit, list(in_hand)))


async def finish(db: Executor, update_ids: Sequence[int]) -> None:
    """The updates are done (their conversation's later ones are taken already, or none)."""
    await db.execute(
        "UPDATE inbox SET state = 'done', handled_at = now(), owner = NULL, owner_lock = NULL "
        "WHERE update_id = ANY($1::bigint[])",
        list(update_ids),
    )


async def release(db: Executor, update_ids: Sequence[int]) -> None:
    """Updates taken in a run but not handled go back, untouched, in their place."""
    if update_ids:
        await db.execute(
            "UPDATE inbox SET state = 'pending', owner = NULL, owner_lock = NULL, "
            "attempts = greatest(attempts - 1, 0) "
            "WHERE update_id = ANY($1::bigint[]) AND state = 'processing'",
            list(update_ids),
        )


# The updates are done, and their conversation's next ones are taken while they are pending
# and due, in order, up to $4 of them: one round trip per run, however long, and no claim over
# the whole inbox for it. A run stops at the first update that may not go now (a retry's
# backoff), so order holds. Nobody else can lock these rows meanwhile (the conversation's
# head is ours, so no claim sees them), hence FOR UPDATE without SKIP LOCKED: a hole in the
# run would break its order. (The statement's snapshot still sees $1 open, hence `<> ALL`.)
_FINISH_AND_TAKE_RUN = f"""
WITH done AS (
    UPDATE inbox SET state = 'done', handled_at = now(), owner = NULL, owner_lock = NULL
    WHERE update_id = ANY($1::bigint[])
    RETURNING conversation
), next AS (
    SELECT i.update_id,
           bool_and(i.state = 'pending' AND i.not_before <= now())
               OVER (ORDER BY i.update_id) AS free
    FROM inbox i
    WHERE i.conversation = (SELECT conversation FROM done LIMIT 1) AND i.{_OPEN}
      AND i.update_id <> ALL($1::bigint[])
    ORDER BY i.update_id
    LIMIT $4
), candidate AS (
    SELECT i.update_id FROM inbox i
    WHERE i.update_id IN (SELECT update_id FROM next WHERE free) AND i.state = 'pending'
    FOR UPDATE
)
UPDATE inbox SET state = 'processing', owner = $2, owner_lock = $3,
                 attempts = inbox.attempts + 1
FROM candidate WHERE inbox.update_id = candidate.update_id
RETURNING inbox.update_id, inbox.conversation, inbox.payload, inbox.attempts
"""


async def finish_and_take_run(
    db: Executor, update_ids: Sequence[int], owner: str, lock_key: int, limit: int
) -> list[InboxRow]:
    """Mark the updates (of one conversation) done; the conversation's next ones that may go
    now, taken, in order, up to `limit`."""
    rows = await db.fetch(_FINISH_AND_TAKE_RUN, list(update_ids), owner, lock_key, limit)
    return _rows(rows)


def _rows(records: Sequence[Any]) -> list[InboxRow]:
    return [
        InboxRow(r["update_id"], r["conversation"], r["payload"], r["attempts"])
        for r in sorted(records, key=lambda r: int(r["update_id"]))
    ]


async def retry_later(db: Executor, update_id: int, delay: float, error: str) -> None:
    await db.execute(
        """
        UPDATE inbox SET state = 'pending', owner = NULL, owner_lock = NULL,
               not_before = now() + make_interval(secs => $2), last_error = $3
        WHERE update_id = $1
        """,
        update_id,
        delay,
        storable(error)[:2000],
    )


async def give_up(db: Executor, update_id: int, error: str) -> None:
    """A bug keeps failing this update: keep it, as 'failed', and let its conversation go on."""
    await db.execute(
        "UPDATE inbox SET state = 'failed', handled_at = now(), owner = NULL, owner_lock = NULL, "
        "last_error = $2 WHERE update_id = $1",
        update_id,
        storable(error)[:2000],
    )


async def release_all(db: Executor, lock_key: int) -> int:
    """Stopping: what this process still holds goes back, untouched, for the next one."""
    status: str = await db.execute(
        "UPDATE inbox SET state = 'pending', owner = NULL, owner_lock = NULL, "
        "attempts = greatest(attempts - 1, 0) "
        "WHERE state = 'processing' AND owner_lock = $1",
        lock_key,
    )
    return int(status.split()[-1])


async def recover_orphans(db: Executor) -> int:
    """Rows left 'processing' by a process that died (its advisory lock is gone) go back."""
    status: str = await db.execute(
        "UPDATE inbox i SET state = 'pending', owner = NULL, owner_lock = NULL "
        f"WHERE i.state = 'processing' AND NOT {lock_is_held('i.owner_lock')}"
    )
    return int(status.split()[-1])


async def release_own(db: Executor, lock_key: int, in_hand: Sequence[int]) -> int:
    """This process's rows left 'processing' that it is not handling any more go back."""
    status: str = await db.execute(
        "UPDATE inbox SET state = 'pending', owner = NULL, owner_lock = NULL "
        "WHERE state = 'processing' AND owner_lock = $1 AND NOT (update_id = ANY($2::bigint[]))",
        lock_key,
        list(in_hand),
    )
    return int(status.split()[-1])


async def newly_throttled(db: Executor) -> list[str]:
    """Conversations with flood rows nobody was told about yet; those rows become 'refused'."""
    rows = await db.fetch(
        """
        WITH told AS (
            UPDATE inbox SET state = 'refused', handled_at = now()
            WHERE update_id IN (
                SELECT update_id FROM inbox WHERE state = 'throttled'
                ORDER BY update_id LIMIT 5000 FOR UPDATE SKIP LOCKED)
            RETURNING conversation
        )
        SELECT DISTINCT conversation FROM told
        """
    )
    return [r["conversation"] for r in rows]


@dataclass(frozen=True)
class Refused:
    conversation: str
    updates: list[dict[str, Any]]


async def take_refused(db: Executor, window_seconds: float) -> list[Refused]:
    """Refused updates not yet handed to staff, of conversations whose flood began a window
    ago or more: staff get one batch per conversation and window, not one per message."""
    rows = await db.fetch(
        """
        WITH due AS (
            SELECT conversation FROM inbox
            WHERE state = 'refused' AND handed_at IS NULL
            GROUP BY conversation
            HAVING min(received_at) <= now() - make_interval(secs => $1)
        ),
        taken AS (
            UPDATE inbox SET handed_at = now()
            WHERE update_id IN (
                SELECT i.update_id FROM inbox i JOIN due USING (conversation)
                WHERE i.state = 'refused' AND i.handed_at IS NULL
                FOR UPDATE OF i SKIP LOCKED)
            RETURNING conversation, update_id, payload
        )
        SELECT conversation, update_id, payload FROM taken ORDER BY conversation, update_id
        """,
        window_seconds,
    )
    batches: dict[str, list[dict[str, Any]]] = {}
    for r in rows:
        batches.setdefault(r["conversation"], []).append(r["payload"])
    return [Refused(key, updates) for key, updates in batches.items()]


async def depth(db: Executor) -> dict[str, int]:
    rows = await db.fetch(
        "SELECT state, count(*) AS n FROM inbox "
        "WHERE state IN ('pending', 'processing', 'throttled', 'failed') GROUP BY state"
    )
    return {r["state"]: int(r["n"]) for r in rows}


async def prune(db: Executor, before: datetime) -> int:
    """Updates handled (or refused and handed to staff) before `before`; failed ones stay."""
    status: str = await db.execute(
        "DELETE FROM inbox WHERE (state = 'done' OR (state = 'refused' AND handed_at IS NOT NULL))"
        " AND handled_at < $1",
        before,
    )
    return int(status.split()[-1])
