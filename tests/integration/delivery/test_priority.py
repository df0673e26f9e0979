"""Within a chat the most urgent row leaves first; rows of one priority keep their order.

An alert storm in the admin chat must not hold back a page or a P0 notice to the same chat
(issue 12, item 10), while every conversation (a private chat, a forum topic) still reads in
the order its rows were written.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import pytest
import redis.asyncio as aioredis
from aiogram import Bot

from bot.sender import AiogramSender
from sandbox.telegram import EmulatorClient
from services.alerts.outbound import PRIORITY as ALERT_PRIORITY
from services.clock import FrozenClock
from services.delivery import DeliveryWorker, claims
from services.outbox import (
    PRIORITY_INTERACTIVE,
    PRIORITY_P0,
    PRIORITY_P1,
    OutboxMessage,
    enqueue,
)
from tests.cast import BUDI

from .conftest import FAST, StartWorker, wait_for_rows

ALERT = ALERT_PRIORITY["critical"]
# Two sends in any 0.2 s... of a clock that only the test moves.
PACED = FAST.model_copy(
    update={
        "limits": FAST.limits.model_copy(
            update={"group_per_minute": 2, "group_window_seconds": 0.2}
        )
    }
)


def text(chat_id: int, body: str, **fields: Any) -> OutboxMessage:
    return OutboxMessage(chat_id, "text", {"text": body}, **fields)


def all_sent(current: list[dict[str, Any]]) -> bool:
    return bool(current) and all(r["status"] == "sent" for r in current)


class Recorder:
    """The worker's sender, writing down what it sent in the order it sent it."""

    def __init__(self, inner: AiogramSender) -> None:
        self.inner = inner
        self.calls: list[str] = []

    async def call(self, method: str, params: dict[str, Any]) -> dict[str, Any]:
        answer = await self.inner.call(method, params)
        label = params.get("text") or params.get("name") or ""
        self.calls.append(label if method == "sendMessage" else f"{method}: {label}")
        return answer


@pytest.fixture
async def paced_worker(
    pool: asyncpg.Pool, redis_client: aioredis.Redis, bot: Bot
) -> AsyncIterator[tuple[DeliveryWorker, Recorder, FrozenClock]]:
    clock = FrozenClock()
    recorder = Recorder(AiogramSender(bot, timeout=PACED.request_timeout))
    worker = DeliveryWorker(pool, redis_client, recorder, clock, PACED)
    task = asyncio.create_task(worker.run())
    yield worker, recorder, clock
    await asyncio.wait_for(worker.stop(), 10)
    await task


async def tick(clock: FrozenClock) -> None:
    """The clock moves on: the group earns a token every step."""
    while True:
        clock.advance(seconds=0.1)
        await asyncio.sleep(0.02)


async def test_a_page_waiting_behind_an_alert_storm_is_the_groups_next_send(
    pool: asyncpg.Pool,
    tg: EmulatorClient,
    paced_worker: tuple[DeliveryWorker, Recorder, FrozenClock],
) -> None:
    _worker, recorder, clock = paced_worker
    group = (await tg.create_chat("Ops alerts", members=[BUDI]))["id"]
    alerts = [await enqueue(pool, text(group, f"alert {n}", priority=ALERT)) for n in range(5)]
    # The window's two sends leave; alert 2 is taken and waits for a slot the clock never gives.
    await wait_for_rows(
        pool,
        lambda rs: [r["status"] for r in rs] == ["sent", "sent", "sending", "pending", "pending"],
    )

    await enqueue(pool, text(group, "P0 page", priority=PRIORITY_P0))
    await enqueue(pool, text(group, "P1 notice", priority=PRIORITY_P1))
    await enqueue(pool, text(group, "P0 update", priority=PRIORITY_P0))
    # More urgent than the message it edits: it still waits for it, and blocks nobody.
    resolved = OutboxMessage(
        group, "edit", {"text": "alert 3 resolved"}, ref_id=alerts[3], priority=PRIORITY_P0
    )
    await enqueue(pool, resolved)

    # Alert 2 gives its place to the page before any token is earned.
    current = await wait_for_rows(
        pool, lambda rs: rs[2]["status"] == "pending" and rs[5]["status"] == "sending"
    )
    assert current[2]["attempts"] == 0, "a row that gave way was not tried"
    assert recorder.calls == ["alert 0", "alert 1"]

    ticking = asyncio.create_task(tick(clock))
    try:
        await wait_for_rows(pool, all_sent)
    finally:
        ticking.cancel()

    assert recorder.calls == [
        "alert 0",
        "alert 1",
        "P0 page",
        "P0 update",
        "P1 notice",
        "alert 2",
        "alert 3",
        "editMessageText: alert 3 resolved",
        "alert 4",
    ]
    shown = [m["text"] for m in await tg.messages(group) if m["from"]["is_bot"]]
    assert shown == [
        "alert 0",
        "alert 1",
        "P0 page",
        "P0 update",
        "P1 notice",
        "alert 2",
        "alert 3 resolved",
        "alert 4",
    ]


async def test_each_conversation_keeps_its_order_while_a_page_overtakes_the_alerts(
    pool: asyncpg.Pool, tg: EmulatorClient, start_worker: StartWorker
) -> None:
    forum = (await tg.create_chat("Support", is_forum=True, members=[BUDI]))["id"]
    for n in range(3):
        await enqueue(pool, text(forum, f"alert {n}", priority=ALERT))
    topic = await enqueue(
        pool, OutboxMessage(forum, "create_topic", {"name": "#7"}, priority=PRIORITY_INTERACTIVE)
    )
    for n in range(4):
        note = text(forum, f"ticket note {n}", thread_ref=topic, priority=PRIORITY_INTERACTIVE)
        await enqueue(pool, note)
        await enqueue(pool, text(BUDI, f"answer {n}", priority=PRIORITY_INTERACTIVE))
    await enqueue(pool, text(forum, "P0 page", priority=PRIORITY_P0))
    await enqueue(pool, text(BUDI, "P0 page", priority=PRIORITY_P0))

    await start_worker()
    final = await wait_for_rows(pool, all_sent)

    thread_id = next(r for r in final if r["id"] == topic)["result"]["message_thread_id"]
    in_topic = [m["text"] for m in await tg.messages(forum, thread_id) if m.get("text")]
    assert in_topic == [f"ticket note {n}" for n in range(4)]
    everywhere = [m for m in await tg.messages(forum) if m["from"]["is_bot"] and m.get("text")]
    # The topic is a conversation of its own: it need not wait for the general chat's alerts.
    general = [m["text"] for m in everywhere if m.get("message_thread_id") != thread_id]
    assert general == ["P0 page", "alert 0", "alert 1", "alert 2"]
    assert everywhere[0]["text"] == "P0 page"
    budi = [m["text"] for m in await tg.messages(BUDI) if m["from"]["is_bot"]]
    assert budi == ["P0 page", "answer 0", "answer 1", "answer 2", "answer 3"]


def _nodes(plan: dict[str, Any]) -> list[dict[str, Any]]:
    found = [plan]
    for child in plan.get("Plans", []):
        found.extend(_nodes(child))
    return found


async def test_the_claim_reads_each_streams_head_not_the_backlog(pool: asyncpg.Pool) -> None:
    storm = 10_000
    await pool.execute(
        """
        INSERT INTO outbox (chat_id, kind, payload, owner, priority)
        SELECT -100, 'text', jsonb_build_object('text', 'alert ' || n), 'alert_group:' || n, $2
        FROM generate_series(1, $1) AS n
        """,
        storm,
        ALERT,
    )
    page = await enqueue(pool, text(-100, "P0 page", priority=PRIORITY_P0))
    for user in range(1, 21):
        await enqueue(pool, text(user, "hello", priority=PRIORITY_INTERACTIVE))
    await pool.execute("ANALYZE outbox")
    now = await pool.fetchval("SELECT now()")

    async with pool.acquire() as conn:
        for query, args in (
            (claims._CLAIM, (now, "w", 1, 16)),
            (claims._CLAIM_CONVERSATIONS, (now, "w", 1, [-100, 1], [0, 0], 16)),
        ):
            explained = conn.transaction()
            await explained.start()
            raw = await conn.fetchval(f"EXPLAIN (ANALYZE, FORMAT JSON) {query}", *args)
            await explained.rollback()  # ANALYZE ran the UPDATE: nothing was claimed
            plan = (json.loads(raw) if isinstance(raw, str) else raw)[0]["Plan"]
            worst = max(_nodes(plan), key=lambda n: n["Actual Rows"] * n["Actual Loops"])
            read = worst["Actual Rows"] * worst["Actual Loops"]
            assert read < 100, f"a step of the claim handled {read} rows of {storm}: {worst}"

    claimed = await claims.claim(pool, now, "w", 1, 16)
    assert len(claimed) == 16
    assert claimed[0].id == page, "the storm's chat sends its page first"
    assert [r.chat_id for r in claimed].count(-100) == 1
