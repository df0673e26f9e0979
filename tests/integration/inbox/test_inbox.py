"""The inbox on real PostgreSQL: stored once, handled in order per conversation, floods
refused at the door and kept, outages waited out, bugs kept as failed."""

from __future__ import annotations

import asyncio
from typing import Any

import asyncpg
import pytest
import redis.exceptions

from services.inbox import store
from services.inbox.config import FloodLimit, InboxConfig
from services.inbox.store import Refused
from services.inbox.worker import InboxWorker
from tests.waiting import at_most

NO_FLOOD = FloodLimit(updates=10_000)
FAST = InboxConfig(poll_interval=0.05, backoff_base=0.05, backoff_cap=0.2, stop_grace=1.0)


def private(update_id: int, chat_id: int, text: str = "hi") -> dict[str, Any]:
    return {
        "update_id": update_id,
        "message": {
            "message_id": update_id,
            "date": 0,
            "chat": {"id": chat_id, "type": "private"},
            "from": {"id": chat_id, "is_bot": False, "first_name": "B"},
            "text": text,
        },
    }


async def test_a_redelivered_update_is_stored_once(pool: asyncpg.Pool) -> None:
    first = await store.store(pool, [private(1, 1001), private(2, 1001)], NO_FLOOD)
    again = await store.store(pool, [private(2, 1001), private(3, 1001)], NO_FLOOD)
    assert (first.accepted, again.accepted, again.duplicates) == (2, 1, 1)
    assert await pool.fetchval("SELECT count(*) FROM inbox") == 3


async def test_what_postgresql_cannot_hold_is_cleaned_and_the_rest_kept(
    pool: asyncpg.Pool,
) -> None:
    update = private(1, 1001, "pem\x00bayaran \ud800gagal 😀")
    update["message"]["from"]["first_name"] = "Bu\x00di"
    await store.store(pool, [update], NO_FLOOD)
    payload = await pool.fetchval("SELECT payload FROM inbox WHERE update_id = 1")
    assert payload["message"]["text"] == "pembayaran \ufffdgagal 😀"
    assert payload["message"]["from"]["first_name"] == "Budi"


async def test_one_update_per_conversation_at_a_time_in_order(pool: asyncpg.Pool) -> None:
    await store.store(
        pool, [private(1, 1001), private(2, 1002), private(3, 1001), private(4, 1002)], NO_FLOOD
    )
    first = await store.claim(pool, "a", 1, 10)
    assert [r.update_id for r in first] == [1, 2]
    assert await store.claim(pool, "b", 2, 10) == []  # both conversations are in hand
    await store.finish(pool, [1])
    second = await store.claim(pool, "b", 2, 10)
    assert [r.update_id for r in second] == [3]


async def test_an_update_put_back_for_later_holds_its_conversation(pool: asyncpg.Pool) -> None:
    await store.store(pool, [private(1, 1001), private(2, 1001)], NO_FLOOD)
    (row,) = await store.claim(pool, "a", 1, 10)
    await store.retry_later(pool, row.update_id, 60, "redis down")
    assert await store.claim(pool, "a", 1, 10) == []  # 2 may not overtake 1


async def test_rows_of_a_dead_process_go_back(pool: asyncpg.Pool) -> None:
    await store.store(pool, [private(1, 1001)], NO_FLOOD)
    async with pool.acquire() as holder:
        await holder.execute("SELECT pg_advisory_lock($1)", 4242)
        await store.claim(pool, "alive", 4242, 10)
        assert await store.recover_orphans(pool) == 0  # its owner still holds the lock
        await holder.execute("SELECT pg_advisory_unlock($1)", 4242)
    assert await store.recover_orphans(pool) == 1
    assert [r.update_id for r in await store.claim(pool, "b", 7, 10)] == [1]


async def test_a_flood_is_refused_at_the_door_and_kept(pool: asyncpg.Pool) -> None:
    limit = FloodLimit(updates=5, window_seconds=60)
    flood = [private(i, 1001, f"spam {i}") for i in range(1, 13)]
    group = [
        {
            "update_id": 100 + i,
            "message": {"message_id": i, "date": 0, "chat": {"id": -5, "type": "group"}},
        }
        for i in range(12)
    ]
    first = await store.store(pool, flood[:8] + group, limit)
    later = await store.store(pool, flood[8:], limit)
    assert (first.accepted, first.throttled) == (5 + 12, 3)  # groups (staff) are not limited
    assert (later.accepted, later.throttled) == (0, 4)
    assert await store.newly_throttled(pool) == ["1001"]
    assert await store.newly_throttled(pool) == []  # told once
    assert await store.take_refused(pool, 3600) == []  # staff get it once the window is over
    (refused,) = await store.take_refused(pool, 0)
    assert [u["message"]["text"] for u in refused.updates] == [f"spam {i}" for i in range(6, 13)]
    assert await pool.fetchval("SELECT count(*) FROM inbox") == 24  # nothing deleted


class Recorder:
    def __init__(self, fail: dict[int, list[BaseException]] | None = None) -> None:
        self.fail = fail or {}
        self.seen: list[int] = []
        self.running: dict[str, int] = {}
        self.overlaps = 0

    async def __call__(self, payload: dict[str, Any]) -> None:
        update_id = payload["update_id"]
        chat = str(payload["message"]["chat"]["id"])
        self.running[chat] = self.running.get(chat, 0) + 1
        if self.running[chat] > 1:
            self.overlaps += 1
        try:
            await asyncio.sleep(0.001 * (update_id % 3))
            errors = self.fail.get(update_id)
            if errors:
                raise errors.pop(0)
            self.seen.append(update_id)
        finally:
            self.running[chat] -= 1


async def run_until_settled(worker: InboxWorker, pool: asyncpg.Pool, expect: int) -> None:
    task = asyncio.create_task(worker.run())
    try:
        for _ in range(600):
            settled = "SELECT count(*) FROM inbox WHERE state IN ('done', 'failed')"
            if await pool.fetchval(settled) >= expect:
                break
            await asyncio.sleep(0.05)
    finally:
        await worker.stop()
        await task


async def test_the_worker_keeps_each_conversation_in_order_and_never_overlaps(
    pool: asyncpg.Pool,
) -> None:
    updates = [private(i, 1000 + i % 7) for i in range(1, 301)]
    await store.store(pool, updates, NO_FLOOD)
    feed = Recorder()
    await run_until_settled(InboxWorker(pool, feed, FAST), pool, 300)
    assert sorted(feed.seen) == list(range(1, 301))
    for chat in range(1000, 1007):
        mine = [u for u in feed.seen if 1000 + u % 7 == chat]
        assert mine == sorted(mine)
    assert feed.overlaps == 0


async def test_an_outage_is_waited_out_and_a_bug_is_kept_as_failed(pool: asyncpg.Pool) -> None:
    outage = redis.exceptions.ConnectionError("Connection refused")
    feed = Recorder({1: [outage, outage, outage, outage], 4: [ValueError("bug")] * 5})
    await store.store(pool, [private(1, 1001), private(2, 1001), private(4, 1002)], NO_FLOOD)
    await run_until_settled(InboxWorker(pool, feed, FAST), pool, 3)
    assert feed.seen == [1, 2]  # the outage outlasted max_attempts and still nothing was lost
    failed = await pool.fetchrow("SELECT state, attempts, last_error FROM inbox WHERE update_id=4")
    assert failed["state"] == "failed" and failed["attempts"] == FAST.max_attempts
    assert "bug" in failed["last_error"]


async def test_flood_rows_are_told_and_handed_to_staff(pool: asyncpg.Pool) -> None:
    class Flood:
        def __init__(self) -> None:
            self.told: list[str] = []
            self.handed: list[Refused] = []

        async def tell_sender(self, conversation: str) -> None:
            self.told.append(conversation)

        async def hand_to_staff(self, refused: Refused) -> None:
            self.handed.append(refused)

    flood = Flood()
    config = FAST.model_copy(update={"flood": FloodLimit(updates=2, window_seconds=0.2)})
    await store.store(pool, [private(i, 1001, f"m{i}") for i in range(1, 6)], config.flood)
    worker = InboxWorker(pool, Recorder(), config, flood)
    task = asyncio.create_task(worker.run())
    try:
        await at_most(10, lambda: flood.handed)
    finally:
        await worker.stop()
        await task
    assert flood.told == ["1001"]
    assert [u["message"]["text"] for u in flood.handed[0].updates] == ["m3", "m4", "m5"]


@pytest.mark.parametrize("attempts", [1, 2, 10])
def test_backoff_is_capped(attempts: int) -> None:
    assert 0 < FAST.backoff(attempts) <= FAST.backoff_cap


async def test_retention_prunes_what_was_handled_and_keeps_what_was_not(
    pool: asyncpg.Pool,
) -> None:
    from datetime import UTC, datetime, timedelta

    from services.maintenance.retention import RetentionPolicy, prune

    await store.store(pool, [private(i, 1000 + i) for i in range(1, 5)], NO_FLOOD)
    await store.finish(pool, [1])
    await store.give_up(pool, 2, "bug")
    await store.finish(pool, [3])
    await pool.execute(
        "UPDATE inbox SET handled_at = now() - interval '20 days' WHERE update_id IN (1, 2)"
    )
    result = await prune(pool, datetime.now(UTC), RetentionPolicy(inbox_days=14))
    assert result.inbox_updates == 1
    left = await pool.fetch("SELECT update_id, state FROM inbox ORDER BY update_id")
    assert [(r["update_id"], r["state"]) for r in left] == [
        (2, "failed"),  # a person should look at it first
        (3, "done"),  # handled recently
        (4, "pending"),
    ]
    assert timedelta(days=14) == timedelta(days=RetentionPolicy().inbox_days)


async def _cut_short_then_restart(pool: asyncpg.Pool, before_restart: Any = None) -> list[int]:
    """Update 4 is being handled when PostgreSQL restarts and takes the put-back with it: the
    row stays 'processing', stamped with the worker's lock key, 5 waiting behind it. What the
    worker handled within 6 s of the restart (before housekeeping's first round, every 10 s:
    it takes its lock again long before, as after a real restart)."""
    await store.store(pool, [private(3, 1002)], NO_FLOOD)
    feed = Recorder()
    slow_housekeeping = FAST.model_copy(update={"poll_interval": 2.0})
    worker = InboxWorker(pool, feed, slow_housekeeping)
    task = asyncio.create_task(worker.run())
    try:
        await at_most(10, lambda: feed.seen == [3])  # the worker holds its lock
        assert feed.seen == [3]
        async with pool.acquire() as conn, conn.transaction():
            await store.store(conn, [private(4, 1001), private(5, 1001)], NO_FLOOD)
            await conn.execute(
                "UPDATE inbox SET state = 'processing', owner = $1, owner_lock = $2"
                " WHERE update_id = 4",
                worker.name,
                worker.lock_key,
            )
        await asyncio.sleep(0.5)
        assert feed.seen == [3]  # 4 is nobody's, and 5 waits behind it
        if before_restart is not None:
            before_restart()
        # PostgreSQL restarts: the worker's sessions are cut, its lock with them
        await pool.execute("SELECT pg_terminate_backend($1)", worker._lock_conn.get_server_pid())
        await at_most(6, lambda: feed.seen == [3, 4, 5])
    finally:
        await worker.stop()
        await task
    return list(feed.seen)


async def test_an_update_cut_short_by_a_postgresql_restart_is_handled_after_it(
    pool: asyncpg.Pool,
) -> None:
    """When the process holds its lock again (the server is back), the row goes back and its
    conversation moves on."""
    assert await _cut_short_then_restart(pool) == [3, 4, 5]
    assert await pool.fetchval("SELECT count(*) FROM inbox WHERE state = 'done'") == 3


async def test_rows_left_ours_by_an_outage_go_back_even_when_the_first_try_fails(
    pool: asyncpg.Pool, monkeypatch: pytest.MonkeyPatch
) -> None:
    """As above, and the server just back fails the put-back once (a pooled connection it cut:
    seen as asyncpg's 'cannot switch to state'): the worker does not claim before the rows are
    back, it lets go of its lock and tries again. (The failure is injected: no local stand-in
    makes asyncpg fail that way on demand.)"""
    release_own = store.release_own
    failures = [asyncpg.InternalClientError("cannot switch to state 12")]

    async def flaky(*args: Any) -> int:
        if failures:
            raise failures.pop()
        return await release_own(*args)

    seen = await _cut_short_then_restart(
        pool, lambda: monkeypatch.setattr(store, "release_own", flaky)
    )
    assert not failures  # the injected failure happened
    assert seen == [3, 4, 5]


async def test_a_conversation_that_waited_is_taken_as_a_run_up_to_its_first_retry(
    pool: asyncpg.Pool,
) -> None:
    await store.store(pool, [private(i, 1001) for i in range(1, 9)] + [private(20, 1002)], NO_FLOOD)
    first = await store.claim(pool, "a", 1, 10)
    assert [r.update_id for r in first] == [1, 20]
    run = await store.finish_and_take_run(pool, [1], "a", 1, 3)
    assert [r.update_id for r in run] == [2, 3, 4]  # at most 3, in order
    assert await store.claim(pool, "b", 2, 10) == []  # the conversation is in hand
    await store.retry_later(pool, 6, 60, "redis down")  # 6 waits: 7 and 8 may not overtake it
    run = await store.finish_and_take_run(pool, [2, 3, 4], "a", 1, 10)
    assert [r.update_id for r in run] == [5]
    await store.release(pool, [5])  # taken, not handled: back in its place
    state = await pool.fetchrow("SELECT state, attempts FROM inbox WHERE update_id = 5")
    assert (state["state"], state["attempts"]) == ("pending", 0)


class Together:
    """Handles a run's leading texts that start with "t" at once; `seen` is shared with the
    one-by-one feed, so the two ways' order can be checked together."""

    def __init__(self, seen: list[int], fail_first: bool = False) -> None:
        self.seen = seen
        self.runs: list[list[int]] = []
        self.fail_first = fail_first

    async def __call__(self, payloads: list[dict[str, Any]]) -> int:
        ids = [p["update_id"] for p in payloads]
        self.runs.append(ids)
        if self.fail_first:
            self.fail_first = False
            raise ValueError("bug in the run lane")
        taken = 0
        for payload in payloads:
            if not payload["message"]["text"].startswith("t"):
                break
            taken += 1
        self.seen.extend(ids[:taken])
        return taken


async def test_runs_go_together_where_they_can_and_one_by_one_where_not_in_order(
    pool: asyncpg.Pool,
) -> None:
    texts = ["t", "t", "x", "t", "t", "t", "x", "x", "t"] * 5
    await store.store(
        pool, [private(i, 1001, text) for i, text in enumerate(texts, start=1)], NO_FLOOD
    )
    feed = Recorder()
    together = Together(feed.seen, fail_first=True)
    worker = InboxWorker(pool, feed, FAST, together=together)
    await run_until_settled(worker, pool, len(texts))
    assert feed.seen == list(range(1, len(texts) + 1))  # each once, in order, either way
    assert feed.overlaps == 0
    assert max(len(run) for run in together.runs) > 1  # the backlog came as runs
    done = await pool.fetchval("SELECT count(*) FROM inbox WHERE state = 'done'")
    assert done == len(texts)


async def test_a_failed_update_puts_the_rest_of_its_run_back_behind_it(pool: asyncpg.Pool) -> None:
    feed = Recorder({2: [ValueError("bug")]})
    await store.store(pool, [private(i, 1001, "x") for i in range(1, 6)], NO_FLOOD)
    await run_until_settled(InboxWorker(pool, feed, FAST), pool, 5)
    assert feed.seen == [1, 2, 3, 4, 5]  # 2 retried before 3 goes
    attempts = await pool.fetch("SELECT update_id, attempts FROM inbox ORDER BY update_id")
    assert [r["attempts"] for r in attempts] == [1, 2, 1, 1, 1]
