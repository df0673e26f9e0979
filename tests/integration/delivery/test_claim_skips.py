"""A row another transaction holds does not make a claim come back short.

The worker reads a claim that returns fewer rows than it asked for as "nothing else may leave
now" and waits for a NOTIFY or its poll timer. A pending row locked elsewhere (a hook giving a
waiting card edit its newer text, a replica's racing claim) used to be skipped without another
row taking its place: the resolution of a mass incident (500 customers, the card edited as the
rows left) stalled for the poll interval, again and again (1.5x the 30/s floor instead of 1x).
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import asyncpg
import pytest

from sandbox.telegram import EmulatorClient
from services.delivery import claims
from services.outbox import PRIORITY_INTERACTIVE, PRIORITY_P2, OutboxMessage, enqueue
from tests.cast import ALICE, BUDI, CITRA

from .conftest import StartWorker, wait_for_rows

GROUPS = (-1001234, -1005678)


def text(chat_id: int, body: str, priority: int) -> OutboxMessage:
    return OutboxMessage(chat_id, "text", {"text": body}, priority=priority)


@pytest.fixture
async def held(pool: asyncpg.Pool) -> AsyncIterator[asyncpg.Connection]:
    """A connection with an open transaction, as a delivery hook's is while it runs."""
    conn = await pool.acquire()
    tx = conn.transaction()
    await tx.start()
    yield conn
    await tx.rollback()
    await pool.release(conn)


async def test_locked_rows_are_passed_over_for_the_next_ones_that_may_leave(
    pool: asyncpg.Pool, held: asyncpg.Connection
) -> None:
    # the incident's two cards (support group, admin chat) each have an edit waiting
    cards = [await enqueue(pool, text(chat, "card", PRIORITY_INTERACTIVE)) for chat in GROUPS]
    fan_out = [await enqueue(pool, text(chat, "fixed", PRIORITY_P2)) for chat in (ALICE, BUDI)]
    # a delivery hook gives both their newer text in one transaction: locked until it commits
    await held.execute(
        'UPDATE outbox SET payload = \'{"text": "card 2"}\' WHERE id = ANY($1::bigint[])', cards
    )
    now = await pool.fetchval("SELECT now()")

    first = await claims.claim(pool, now, "w", 1, 1)
    assert [r.id for r in first] == [fan_out[0]], "the next row that may leave is taken"
    both = await claims.claim_conversations(
        pool, now, "w", 1, [f"{GROUPS[0]}:0", f"{GROUPS[1]}:0", f"{BUDI}:0"], 1
    )
    assert [r.id for r in both] == [fan_out[1]]
    statuses = await pool.fetch("SELECT status FROM outbox WHERE id = ANY($1::bigint[])", cards)
    assert [r["status"] for r in statuses] == ["pending", "pending"]


async def test_a_fan_out_drains_without_waiting_for_the_poll_while_a_row_is_held(
    pool: asyncpg.Pool, held: asyncpg.Connection, start_worker: StartWorker, tg: EmulatorClient
) -> None:
    """Two rows in flight at a time, no poll within the test: only claims that keep coming back
    full move the fan-out on."""
    cards = [await enqueue(pool, text(chat, "card", PRIORITY_INTERACTIVE)) for chat in GROUPS]
    customers = [ALICE, BUDI, CITRA, *range(900_001, 900_010)]
    for user in customers[3:]:
        await tg.create_user(user, f"user{user}", started=True)
    rows = [await enqueue(pool, text(chat, "fixed", PRIORITY_P2)) for chat in customers]
    await held.execute("SELECT 1 FROM outbox WHERE id = ANY($1::bigint[]) FOR UPDATE", cards)

    await start_worker(max_in_flight=2, poll_interval=3600.0)

    def fan_out_sent(current: list[dict[str, object]]) -> bool:
        return all(r["status"] == "sent" for r in current if r["id"] in rows)

    await wait_for_rows(pool, fan_out_sent, timeout=20)
