"""Answers sent right after commit (DeliveryWorker.express, services.outbox.noting_answers).

The outbox row stays the record and the worker's loop the retry path: an answer is sent by
the process that queued it as soon as its transaction committed, without waiting for a free
slot of the loop, in its conversation's order; and when that process dies anywhere between
the commit and the record of the send, the answer still arrives, twice at the most for the
ones that were in flight.
"""

from __future__ import annotations

from collections import Counter

import asyncpg
import redis.asyncio as aioredis
from aiogram import Bot

from bot.sender import AiogramSender
from sandbox.telegram import EmulatorClient
from services import outbox
from services.clock import SystemClock
from services.delivery import DeliveryWorker, Limits, metrics
from services.outbox import PRIORITY_DEFAULT, PRIORITY_INTERACTIVE
from tests.cast import ALICE
from tests.waiting import eventually

from .conftest import FAST, FAST_LIMITS, Spawn, StartWorker, wait_for_rows
from .test_crash import all_sent, kill_once_sent
from .worker_process import ANSWER_CHATS

# One send per group a minute: the loop's only slot then waits a minute for the group's
# second token, as it does behind a storm.
ONE_A_MINUTE = Limits(**{**FAST_LIMITS.model_dump(), "group_per_minute": 1})


async def queue(pool: asyncpg.Pool, chat: int, text: str, priority: int) -> set[str]:
    """Queue a text in a transaction of its own, as a handler does; what was noted."""
    with outbox.noting_answers() as noted:
        async with pool.acquire() as conn, conn.transaction():
            await outbox.send_text(conn, chat, {"text": text}, priority=priority)
    return noted


async def test_an_answer_leaves_at_once_while_every_slot_of_the_loop_waits(
    pool: asyncpg.Pool, tg: EmulatorClient, start_worker: StartWorker
) -> None:
    group = (await tg.create_chat("On-call", type="group", members=[ALICE]))["id"]
    worker = await start_worker(limits=ONE_A_MINUTE, max_in_flight=1)
    for n in range(2):  # the second waits for the group's next token, holding the one slot
        await queue(pool, group, f"storm {n}", PRIORITY_DEFAULT)
    await tg.wait_for_message(group, predicate=lambda m: m.get("text") == "storm 0")

    noted = await queue(pool, ALICE, "Tiket #12 dibuat", PRIORITY_INTERACTIVE)
    assert noted == {f"{ALICE}:0"}
    at_once = metrics.ANSWERS_AT_ONCE._value.get()
    assert await worker.express(noted) == 1
    assert metrics.ANSWERS_AT_ONCE._value.get() == at_once + 1, "/metrics counts it"

    answer = await tg.wait_for_message(ALICE, timeout=10)
    assert answer["text"] == "Tiket #12 dibuat"
    storm = await pool.fetchval("SELECT status FROM outbox WHERE payload->>'text' = 'storm 1'")
    assert storm in ("pending", "sending"), "the loop's slot was still held"


async def test_only_answers_are_noted_and_a_rolled_back_one_is_not_found(
    pool: asyncpg.Pool, start_worker: StartWorker
) -> None:
    worker = await start_worker()
    assert await queue(pool, ALICE, "laporan bulanan", PRIORITY_DEFAULT) == set()
    assert await queue(pool, ALICE, "P0!", outbox.PRIORITY_P0) == {f"{ALICE}:0"}
    await worker.wait_idle()

    with outbox.noting_answers() as noted:
        try:
            async with pool.acquire() as conn, conn.transaction():
                await outbox.send_text(
                    conn, ALICE, {"text": "never"}, priority=PRIORITY_INTERACTIVE
                )
                raise RuntimeError("the handler failed")
        except RuntimeError:
            pass
    assert noted == {f"{ALICE}:0"}
    assert await worker.express(noted) == 0
    assert not await pool.fetchval("SELECT count(*) FROM outbox WHERE payload->>'text' = 'never'")


async def test_a_conversation_keeps_its_order_and_sends_one_row_at_a_time(
    pool: asyncpg.Pool, tg: EmulatorClient, start_worker: StartWorker
) -> None:
    group = (await tg.create_chat("On-call", type="group", members=[ALICE]))["id"]
    worker = await start_worker(limits=ONE_A_MINUTE, max_in_flight=1)
    for n in range(2):
        await queue(pool, group, f"storm {n}", PRIORITY_DEFAULT)
    await tg.wait_for_message(group, predicate=lambda m: m.get("text") == "storm 0")
    async with pool.acquire() as conn, conn.transaction():
        for n in range(3):
            await outbox.send_text(conn, ALICE, {"text": f"a{n}"}, priority=PRIORITY_INTERACTIVE)
    assert await worker.express({f"{ALICE}:0"}) == 1  # the head; its task streams the rest
    assert await worker.express({f"{ALICE}:0"}) == 0  # the conversation has a row out
    await wait_for_rows(
        pool, lambda rows: all(r["status"] == "sent" for r in rows if r["chat_id"] == ALICE)
    )
    assert [m["text"] for m in await tg.messages(ALICE)] == ["a0", "a1", "a2"]


async def test_while_the_loop_has_room_it_takes_the_answers_itself(
    pool: asyncpg.Pool, tg: EmulatorClient, redis_client: aioredis.Redis, bot: Bot
) -> None:
    # A worker whose loop never runs, with every slot free: its loop would be woken by the
    # commit's NOTIFY and claim these with the others it was told about, in one statement.
    worker = DeliveryWorker(pool, redis_client, AiogramSender(bot), SystemClock(), FAST)
    noted = await queue(pool, ALICE, "halo", PRIORITY_INTERACTIVE)
    assert await worker.express(noted) == 0
    assert await pool.fetchval("SELECT status FROM outbox") == "pending"


async def test_a_process_killed_while_it_sends_answers_at_once_loses_none(
    pool: asyncpg.Pool, tg: EmulatorClient, spawn: Spawn
) -> None:
    total = 600
    for chat in ANSWER_CHATS:
        await tg.create_user(chat, f"customer{chat}", started=True)
    await tg.set_faults(latency=0.005, methods=["sendMessage"])
    await kill_once_sent(tg, await spawn(answers=total), 150)
    queued = await pool.fetchval("SELECT count(*) FROM outbox")
    in_flight = await pool.fetchval("SELECT count(*) FROM outbox WHERE status = 'sending'")
    sent_before = await pool.fetchval("SELECT count(*) FROM outbox WHERE status = 'sent'")
    await spawn()
    await eventually("all sent", lambda: all_sent(pool), 40, every=0.01)

    seen: Counter[str] = Counter()
    for chat in ANSWER_CHATS:
        seen.update(m["text"] for m in await tg.messages(chat))
    twice = sum(1 for count in seen.values() if count > 1)
    print(
        f"\nanswers at once, SIGKILL: {queued}/{total} committed, {sent_before} sent, "
        f"{in_flight} in flight; {twice} arrived twice"
    )
    assert 0 < queued < total, "killed while still answering"
    assert set(seen) == {f"a{n:04d}" for n in range(queued)}, "every committed answer arrived"
    assert twice <= in_flight
    for chat in ANSWER_CHATS:
        texts = list(dict.fromkeys(m["text"] for m in await tg.messages(chat)))
        assert texts == sorted(texts), f"chat {chat} out of order"


async def test_express_after_stop_takes_nothing(
    pool: asyncpg.Pool, start_worker: StartWorker
) -> None:
    worker = await start_worker()
    noted = await queue(pool, ALICE, "halo", PRIORITY_INTERACTIVE)
    await worker.stop()
    assert await worker.express(noted) == 0
    assert await pool.fetchval("SELECT status FROM outbox") == "pending"
