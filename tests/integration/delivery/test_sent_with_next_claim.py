"""A sent row is recorded by the claim of its conversation's next row, in one statement
(claims.claim_next_in_conversation with `sent`): the storm path's one round trip per copy.
The record is the one store.mark_sent writes, the next row is claimed although the statement
still sees the sent row as 'sending', and rows that waited for the sent row are named."""

from __future__ import annotations

import asyncio

import asyncpg
from aiogram import Bot
from redis.asyncio import Redis

from bot.sender import AiogramSender
from sandbox.telegram import EmulatorClient
from services.clock import SystemClock
from services.delivery import DeliveryWorker, claims, store
from services.outbox import PRIORITY_INTERACTIVE, OutboxMessage, enqueue
from services.storage.db import QUERY_OBSERVERS, create_pool
from tests.cast import ALICE

from .conftest import FAST

TOPIC = 77
GROUP = -1001234


def copy(body: str, *, edits: int | None = None) -> OutboxMessage:
    return OutboxMessage(
        GROUP, "edit" if edits else "text", {"text": body}, priority=PRIORITY_INTERACTIVE,
        thread_id=TOPIC, ref_id=edits,
    )  # fmt: skip


async def test_the_sent_row_is_recorded_and_the_next_claimed_in_one_statement(
    pool: asyncpg.Pool, db_url: str
) -> None:
    first, second = [await enqueue(pool, copy(body)) for body in ("satu", "dua")]
    other = await enqueue(pool, OutboxMessage(GROUP, "text", {"text": "umum"}))
    now = await pool.fetchval("SELECT now()")
    key = f"{GROUP}:{TOPIC}"
    (claimed,) = await claims.claim_conversations(pool, now, "w", 7, [key], 5)
    assert claimed.id == first

    statements: list[str] = []
    QUERY_OBSERVERS.append(lambda record: statements.append(record.query))
    counted = await create_pool(db_url, min_size=1, max_size=1)
    QUERY_OBSERVERS.pop()
    try:
        sent = claims.Sent(first, 501, {"message_id": 501, "message_thread_id": TOPIC}, now)
        row, woken = await claims.claim_next_in_conversation(counted, now, "w", 7, key, sent=sent)
    finally:
        await counted.close()
    # (a new connection also asks for its settings and the array types: not the outbox)
    assert len([q for q in statements if "outbox" in q]) == 1
    assert row is not None and row.id == second and row.status == "sending"
    assert woken == []
    record = await pool.fetchrow("SELECT * FROM outbox WHERE id = $1", first)
    assert record["status"] == "sent" and record["message_id"] == 501
    assert record["sent_at"] == now and record["claimed_lock"] is None
    assert record["result"] == {"message_id": 501, "message_thread_id": TOPIC}
    # another conversation of the chat is not this claim's
    assert await pool.fetchval("SELECT status FROM outbox WHERE id = $1", other) == "pending"

    # the last row of the conversation: recorded, nothing more to claim
    last = claims.Sent(second, 502, {"message_id": 502}, now)
    row, woken = await claims.claim_next_in_conversation(pool, now, "w", 7, key, sent=last)
    assert row is None and woken == []
    assert await pool.fetchval("SELECT status FROM outbox WHERE id = $1", second) == "sent"


async def test_rows_that_waited_for_the_sent_row_are_named_and_may_leave(
    pool: asyncpg.Pool,
) -> None:
    first = await enqueue(pool, copy("satu"))
    # an edit of the copy, in the same topic: it waits until the copy has its message id
    edit = await enqueue(pool, copy("satu (diubah)", edits=first))
    # and a message elsewhere that replies to it
    elsewhere = await enqueue(pool, OutboxMessage(GROUP, "text", {"text": "x"}, ref_id=first))
    now = await pool.fetchval("SELECT now()")
    key = f"{GROUP}:{TOPIC}"
    (claimed,) = await claims.claim_conversations(pool, now, "w", 7, [key], 5)
    assert claimed.id == first
    sent = claims.Sent(first, 601, {"message_id": 601}, now)
    row, woken = await claims.claim_next_in_conversation(pool, now, "w", 7, key, sent=sent)
    assert row is not None and row.id == edit  # not held back by the row it edits
    assert sorted(woken) == sorted({key, f"{GROUP}:0"})
    assert (await store.get_row(pool, first)).message_id == 601  # type: ignore[union-attr]
    assert await pool.fetchval("SELECT status FROM outbox WHERE id = $1", elsewhere) == "pending"


async def test_the_worker_records_a_stream_of_copies_with_its_claims(
    db_url: str, redis_client: Redis, bot: Bot, tg: EmulatorClient
) -> None:
    statements: list[str] = []
    QUERY_OBSERVERS.append(lambda record: statements.append(record.query))
    observed = await create_pool(db_url, min_size=1, max_size=4)  # connections made later too
    texts = [OutboxMessage(ALICE, "text", {"text": f"{n}"}) for n in range(5)]
    rows = [await enqueue(observed, text) for text in texts]
    worker = DeliveryWorker(
        observed, redis_client, AiogramSender(bot, timeout=FAST.request_timeout), SystemClock(),
        FAST,
    )  # fmt: skip
    task = asyncio.create_task(worker.run())
    try:
        await worker.wait_idle(10)
    finally:
        await worker.stop()
        await task
        sent = await observed.fetch("SELECT status, message_id FROM outbox ORDER BY id")
        await observed.close()
        QUERY_OBSERVERS.pop()
    assert [r["status"] for r in sent] == ["sent"] * len(rows)
    assert all(r["message_id"] for r in sent)
    assert [m["text"] for m in await tg.messages(ALICE)] == [f"{n}" for n in range(5)]
    # each send recorded by the claim after it: no statement of its own
    assert not [q for q in statements if q.lstrip().startswith("WITH sent AS")]
    assert len([q for q in statements if "claimed AS (" in q]) == len(rows)
