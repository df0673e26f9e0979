"""Workers as real processes: SIGKILL mid-send loses nothing; two replicas never send twice."""

from __future__ import annotations

import asyncio
import signal
from collections import Counter

import asyncpg

from sandbox.telegram import EmulatorClient
from services.outbox import OutboxMessage, enqueue
from tests.waiting import eventually

from .conftest import Spawn

CHATS = [3000 + n for n in range(20)]
TOTAL = 1000


async def enqueue_many(pool: asyncpg.Pool, tg: EmulatorClient) -> None:
    for chat in CHATS:
        await tg.create_user(chat, f"customer{chat}", started=True)
    async with pool.acquire() as conn, conn.transaction():
        for n in range(TOTAL):
            chat = CHATS[n % len(CHATS)]
            await enqueue(conn, OutboxMessage(chat, "text", {"text": f"m{n:04d}"}))


async def delivered(tg: EmulatorClient) -> Counter[str]:
    seen: Counter[str] = Counter()
    for chat in CHATS:
        seen.update(m["text"] for m in await tg.messages(chat))
    return seen


async def kill_once_sent(
    tg: EmulatorClient, process: asyncio.subprocess.Process, sends: int
) -> None:
    """SIGKILL the process once the emulator has taken `sends` messages: mid-send."""

    async def some_sent() -> bool:
        return bool((await tg.stats())["sends"].get("sendMessage", 0) >= sends)

    await eventually(f"{sends} sends", some_sent, 30, every=0.01)
    process.send_signal(signal.SIGKILL)
    await process.wait()


async def all_sent(pool: asyncpg.Pool) -> bool:
    left = await pool.fetchval("SELECT count(*) FROM outbox WHERE status <> 'sent'")
    return bool(left == 0)


async def assert_order_per_chat(tg: EmulatorClient) -> None:
    for chat in CHATS:
        texts = [m["text"] for m in await tg.messages(chat)]
        first_seen = list(dict.fromkeys(texts))
        assert first_seen == sorted(first_seen), f"chat {chat} out of order"


async def test_a_worker_killed_mid_send_loses_nothing_and_few_arrive_twice(
    pool: asyncpg.Pool, tg: EmulatorClient, spawn: Spawn
) -> None:
    await tg.set_faults(latency=0.005, methods=["sendMessage"])
    await enqueue_many(pool, tg)
    await kill_once_sent(tg, await spawn(), 300)
    at_kill = await pool.fetch("SELECT status, count(*) FROM outbox GROUP BY status")
    in_flight = await pool.fetchval("SELECT count(*) FROM outbox WHERE status = 'sending'")
    await spawn()
    await eventually("all sent", lambda: all_sent(pool), 40, every=0.01)

    seen = await delivered(tg)
    twice = sum(1 for count in seen.values() if count > 1)
    print(
        f"\ncrash test: at SIGKILL { {r[0]: r[1] for r in at_kill} }; "
        f"{len(seen)}/{TOTAL} arrived, {twice} arrived twice (in flight at the kill: {in_flight})"
    )
    assert set(seen) == {f"m{n:04d}" for n in range(TOTAL)}
    assert twice <= in_flight
    await assert_order_per_chat(tg)


async def test_two_worker_processes_on_one_database_never_send_a_message_twice(
    pool: asyncpg.Pool, tg: EmulatorClient, spawn: Spawn
) -> None:
    await tg.set_faults(latency=0.002, methods=["sendMessage"])
    await enqueue_many(pool, tg)
    await asyncio.gather(spawn(), spawn())

    await eventually("all sent", lambda: all_sent(pool), 40, every=0.01)

    seen = await delivered(tg)
    workers = await pool.fetch("SELECT claimed_by, count(*) FROM outbox GROUP BY claimed_by")
    print(f"\ntwo workers: { {r[0]: r[1] for r in workers} }")
    assert len(seen) == TOTAL and max(seen.values()) == 1
    assert len(workers) == 2, "both replicas took a share"
    await assert_order_per_chat(tg)
