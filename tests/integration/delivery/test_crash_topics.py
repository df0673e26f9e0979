"""Two worker processes share one support group with 20 topics (issue 15).

A forum topic is a conversation of its own: both replicas send into the one group at once,
no message goes twice, and every topic reads in the order its rows were written, whether
they were queued while the topic was still being created (thread_ref) or after (thread_id).
A replica killed mid-send loses nothing; what it had in flight may arrive twice, no more.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections import Counter
from typing import Any

import asyncpg

from sandbox.telegram import EmulatorClient
from services.outbox import PRIORITY_INTERACTIVE, OutboxMessage, enqueue
from tests.cast import BUDI

from .conftest import Spawn

TOPICS = 20
BEFORE = 30  # per topic, queued while the topic is being created
AFTER = 20  # per topic, queued with its thread id once it exists


def note(group: int, topic: int, n: int, **where: Any) -> OutboxMessage:
    return OutboxMessage(
        group, "text", {"text": f"t{topic:02d}-{n:03d}"}, priority=PRIORITY_INTERACTIVE, **where
    )


async def wait_until(pool: asyncpg.Pool, query: str, timeout: float) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not await pool.fetchval(query):
        if asyncio.get_running_loop().time() > deadline:
            left = await pool.fetch(
                "SELECT status, count(*) FROM outbox WHERE status <> 'sent' GROUP BY status"
            )
            raise AssertionError(f"timed out: {[tuple(r) for r in left]}")
        await asyncio.sleep(0.02)


ALL_SENT = "SELECT count(*) = 0 FROM outbox WHERE status <> 'sent'"
TOPICS_MADE = "SELECT count(*) = 0 FROM outbox WHERE kind = 'create_topic' AND status <> 'sent'"


async def fill(pool: asyncpg.Pool, tg: EmulatorClient) -> tuple[int, list[int]]:
    """The group, and its topics' create_topic rows; each topic gets BEFORE rows at once."""
    group = (await tg.create_chat("QuickCart Support", is_forum=True, members=[BUDI]))["id"]
    topics: list[int] = []
    async with pool.acquire() as conn, conn.transaction():
        for t in range(TOPICS):
            row = await enqueue(
                conn,
                OutboxMessage(
                    group, "create_topic", {"name": f"QC-{t:02d}"}, priority=PRIORITY_INTERACTIVE
                ),
            )
            assert row is not None
            topics.append(row)
        for n in range(BEFORE):  # interleaved across topics, as customers write
            for t, topic_row in enumerate(topics):
                await enqueue(conn, note(group, t, n, thread_ref=topic_row))
    return group, topics


async def queue_after(pool: asyncpg.Pool, group: int, topics: list[int]) -> dict[int, int]:
    """Once the topics exist, more rows with their thread ids, as the desk then queues them."""
    thread_of: dict[int, int] = {}
    for t, topic_row in enumerate(topics):
        result = await pool.fetchval("SELECT result FROM outbox WHERE id = $1", topic_row)
        thread_of[t] = int(result["message_thread_id"])
    async with pool.acquire() as conn, conn.transaction():
        for n in range(BEFORE, BEFORE + AFTER):
            for t in range(TOPICS):
                await enqueue(conn, note(group, t, n, thread_id=thread_of[t]))
    return thread_of


SENDING_NOW = """
SELECT count(*), count(DISTINCT claimed_by) FROM outbox
WHERE chat_id = $1 AND status = 'sending' AND kind = 'text'
"""


async def most_at_once(pool: asyncpg.Pool, group: int, most: list[int]) -> None:
    """How many rows of the one group were out at once, and from how many workers."""
    while True:
        rows, workers = await pool.fetchrow(SENDING_NOW, group)
        most[:] = [max(most[0], rows), max(most[1], workers)]
        await asyncio.sleep(0.005)


async def read_topics(
    tg: EmulatorClient, group: int, thread_of: dict[int, int]
) -> dict[int, list[str]]:
    return {
        t: [m["text"] for m in await tg.messages(group, thread) if m.get("text")]
        for t, thread in thread_of.items()
    }


def expected(t: int) -> list[str]:
    return [f"t{t:02d}-{n:03d}" for n in range(BEFORE + AFTER)]


async def test_two_worker_processes_share_one_group_of_twenty_topics_each_in_order(
    pool: asyncpg.Pool, tg: EmulatorClient, spawn: Spawn
) -> None:
    await tg.set_faults(latency=0.01, methods=["sendMessage"])
    group, topics = await fill(pool, tg)
    most = [0, 0]
    together = asyncio.create_task(most_at_once(pool, group, most))
    await asyncio.gather(spawn(), spawn())
    await wait_until(pool, TOPICS_MADE, 40)
    thread_of = await queue_after(pool, group, topics)
    await wait_until(pool, ALL_SENT, 60)
    together.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await together
    rows_at_once, workers_at_once = most

    seen = await read_topics(tg, group, thread_of)
    for t in range(TOPICS):
        assert seen[t] == expected(t), f"topic {t} out of order or not whole"
    everything = Counter(text for texts in seen.values() for text in texts)
    assert max(everything.values()) == 1, "a message arrived twice"
    by_worker = await pool.fetch(
        "SELECT claimed_by, count(*) AS n FROM outbox WHERE kind = 'text' GROUP BY claimed_by"
    )
    print(f"\ntwo workers, one group of {TOPICS} topics: { {r[0]: r[1] for r in by_worker} }")
    print(f"at once in the group: {rows_at_once} rows, from {workers_at_once} workers")
    assert len(by_worker) == 2 and min(r["n"] for r in by_worker) >= 50, "both sent into it"
    assert rows_at_once > 2 and workers_at_once == 2, "the group's topics went side by side"


async def test_a_replica_killed_mid_send_into_the_topics_loses_nothing(
    pool: asyncpg.Pool, tg: EmulatorClient, spawn: Spawn
) -> None:
    await tg.set_faults(latency=0.01, methods=["sendMessage"])
    group, topics = await fill(pool, tg)
    first, _second = await asyncio.gather(spawn(), spawn())
    await wait_until(pool, TOPICS_MADE, 40)
    thread_of = await queue_after(pool, group, topics)
    await wait_until(pool, "SELECT count(*) >= 200 FROM outbox WHERE status = 'sent'", 40)
    first.send_signal(signal.SIGKILL)
    await first.wait()
    in_flight = await pool.fetchval("SELECT count(*) FROM outbox WHERE status = 'sending'")
    await wait_until(pool, ALL_SENT, 60)

    seen = await read_topics(tg, group, thread_of)
    everything = Counter(text for texts in seen.values() for text in texts)
    twice = sum(1 for count in everything.values() if count > 1)
    print(f"\nkilled mid-send into {TOPICS} topics: {twice} twice, {in_flight} in flight")
    for t in range(TOPICS):
        assert list(dict.fromkeys(seen[t])) == expected(t), f"topic {t} lost or reordered"
    assert twice <= in_flight
