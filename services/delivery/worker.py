"""The delivery worker: claims due outbox rows and sends them within Telegram's limits.

Several replicas may run it on one database. Each holds a PostgreSQL advisory lock for its
life; rows it claims carry that lock's key, so a row left 'sending' by a worker that died
(SIGKILL, lost host) is recognised and sent again. Rows of one conversation (a private chat,
a forum topic, a group's general chat) leave in order: it sends its next row only once the
earlier one is sent or failed for good, and the next row is its most urgent one (claims.py):
a page or a P0 notice overtakes an alert storm, while rows of one priority keep their order.
A row that waits for a token gives way to a more urgent one that arrives meanwhile, so the
urgent row is the conversation's next send. Different conversations leave side by side, one
task each, however many share a group: the group's budget is the limiter's (ratelimit.py).

Waking up costs what is new, not what waits: a NOTIFY names the conversation a row was queued
for; the loop claims only conversations it was told about that it is not already sending
(a conversation in flight here takes its next row itself), and looks at every stream only at
start, on the poll timer, when a retry falls due, or after it was saturated.

This module is the loop: claiming, waking, housekeeping, stopping. What happens to one claimed
row (its calls, its token, its outcome) is attempt.py's `RowSend`.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import secrets
from collections import Counter
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any

import asyncpg
from loguru import logger
from redis.asyncio import Redis

from services.clock import Clock
from services.delivery import claims, metrics, store
from services.delivery.attempt import RowSend
from services.delivery.config import DeliveryConfig
from services.delivery.digest_worker import DigestFlusher
from services.delivery.hooks import DeliveryHooks
from services.delivery.ratelimit import RateLimiter
from services.delivery.rows import OutboxRow
from services.delivery.sender import Sender
from services.outbox import NOTIFY_CHANNEL
from services.storage.db import session_changed

_CONVERSATION = re.compile(r"-?\d+:-?\d+")


class DeliveryWorker:
    def __init__(
        self,
        pool: asyncpg.Pool,
        redis: Redis,
        sender: Sender,
        clock: Clock,
        config: DeliveryConfig,
        hooks: DeliveryHooks | None = None,
    ) -> None:
        self.pool = pool
        self.sender = sender
        self.clock = clock
        self.config = config
        self.hooks = hooks or DeliveryHooks()
        self._wake = asyncio.Event()
        self._stop = asyncio.Event()
        self._done = asyncio.Event()
        self.limiter = RateLimiter(redis, config.limits, clock, prefix=config.redis_prefix)
        self.digests = DigestFlusher(pool, sender, self.limiter, clock, config)
        self.rows = RowSend(
            pool,
            sender,
            clock,
            config,
            self.hooks,
            self.limiter,
            self.digests,
            stopping=self._stop,
            look_at=self._look_at,
            look_everywhere=self._look_everywhere,
        )
        self.name = f"worker-{secrets.token_hex(4)}"
        self.lock_key = secrets.randbits(62)
        self._tasks: set[asyncio.Task[None]] = set()
        self._listener: Any = None
        self._busy: Counter[str] = Counter()  # conversations with a task here
        self._told: set[str] = set()  # conversations with new rows to look at
        self._full_at = 0.0  # loop time of the next claim over every stream (0: at once)
        self._express = 0  # tasks sending answers at once (`express`), beside the loop's

    # lifecycle ----------------------------------------------------------------------------

    async def run(self) -> None:
        """Send until `stop()`; owned by the app's cleanup context."""
        self._done.clear()
        listener = await self._listen()
        side = asyncio.create_task(self._side_loop(), name=f"{self.name}-digests")
        try:
            await store.recover_orphans(self.pool)
            while not self._stop.is_set():
                await self._round()
        finally:
            side.cancel()
            await self._drain()
            with contextlib.suppress(asyncio.CancelledError):
                await side
            await self._unlisten(listener)
            self._done.set()

    async def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        await self._done.wait()

    async def _listen(self) -> Any:
        conn = await self.pool.acquire()
        session_changed(conn)  # a session lock and a LISTEN: reset when it goes back
        await conn.execute("SELECT pg_advisory_lock($1)", self.lock_key)
        await conn.add_listener(NOTIFY_CHANNEL, self._on_notify)
        self._listener = conn
        logger.info("delivery {} started", self.name)
        return conn

    async def _unlisten(self, conn: Any) -> None:
        with contextlib.suppress(Exception):
            await conn.remove_listener(NOTIFY_CHANNEL, self._on_notify)
            await conn.execute("SELECT pg_advisory_unlock($1)", self.lock_key)
        await self.pool.release(conn)

    def _on_notify(self, _conn: object, _pid: int, _channel: str, payload: object) -> None:
        told = str(payload)
        if _CONVERSATION.fullmatch(told):  # "chat:topic" (services.outbox.conversation)
            self._told.add(told)
            self._wake.set()
        else:  # rows queued in bulk (EVERY_CONVERSATION), or a wake we cannot place
            self._look_everywhere()

    def _look_at(self, conversations: Iterable[str]) -> None:
        self._told.update(conversations)
        self._wake.set()

    def _look_everywhere(self, after: float = 0.0) -> None:
        """Claim over every stream within `after` seconds (a retry falls due, rows were put
        back, or rows that waited for a failed one may now leave)."""
        self._full_at = min(self._full_at, asyncio.get_running_loop().time() + after)
        if after <= 0:
            self._wake.set()

    async def _drain(self) -> None:
        if self._tasks:
            _, pending = await asyncio.wait(self._tasks, timeout=self.config.stop_grace)
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)
        with contextlib.suppress(Exception):
            await store.release_all(self.pool, self.lock_key)

    # the loop -------------------------------------------------------------------------------

    async def _round(self) -> None:
        self._wake.clear()
        loop = asyncio.get_running_loop()
        free = self._loop_slots()
        told = self._told - self._busy.keys()
        everywhere = loop.time() >= self._full_at
        if free <= 0:
            await self._sleep_until_work(self.config.poll_interval)  # until a task ends
            return
        if not (everywhere or told):
            await self._sleep_until_work()  # every conversation told about is in flight here
            return
        claimed: list[OutboxRow] = []
        now = self.clock.now()
        try:
            if everywhere or len(told) > free:
                self._told &= set(self._busy)  # the claim below looks at all the others
                self._full_at = loop.time() + self.config.poll_interval
                claimed = await claims.claim(self.pool, now, self.name, self.lock_key, free)
                if len(claimed) < free:
                    await self._plan_next_due(now)
            else:
                self._told -= told
                claimed = await claims.claim_conversations(
                    self.pool, now, self.name, self.lock_key, told, free
                )
        except (OSError, asyncpg.PostgresError) as exc:
            logger.warning("delivery claim failed: {}", exc)
            self._told |= told
            self._full_at = loop.time() + min(1.0, self.config.poll_interval)
        if len(claimed) >= free:
            self._full_at = 0.0  # saturated: once a slot frees, look at every stream
        for row in claimed:
            self._start(row, "row", self._finished)
        if not claimed:
            await self._sleep_until_work()

    def _loop_slots(self) -> int:
        """How many more rows the loop may have out (tasks of `express` aside)."""
        return self.config.max_in_flight - (len(self._tasks) - self._express)

    def _finished(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        self._wake.set()

    async def _plan_next_due(self, now: datetime) -> None:
        """The next full claim: on the poll timer, or when a row waiting for its time is due."""
        due = await store.next_due(self.pool, now)
        if due is not None:
            self._look_everywhere((due - now).total_seconds() + 0.01)

    async def _sleep_until_work(self, timeout: float | None = None) -> None:
        if timeout is None:
            timeout = self._full_at - asyncio.get_running_loop().time()
            if timeout <= 0:
                return
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wake.wait(), min(timeout, self.config.poll_interval))

    async def _side_loop(self) -> None:
        """Digests to (re)render, metrics, orphans of dead workers."""
        ticks = 0
        while True:
            await asyncio.sleep(self.config.flush_interval)
            ticks += 1
            try:
                await self.digests.flush_dirty()
                if ticks % 10 == 0:
                    if await store.recover_orphans(self.pool):
                        self._look_everywhere()
                    depth = await store.depth_by_status(self.pool, self.clock.now())
                    for status, count in depth.items():
                        metrics.QUEUE_DEPTH.labels(status=status).set(count)
            except asyncio.CancelledError:
                raise
            except Exception:
                logger.exception("delivery housekeeping failed")

    async def express(self, conversations: Iterable[str]) -> int:
        """Send the answers just committed for these conversations now, each in a task of its
        own, when the loop has no free slot for them: an answer to a person does not queue
        behind a storm's sends (it still waits for its chat's token, and for
        the rows before it in its conversation). The outbox row stays the record and the loop
        the retry path: what cannot be claimed now (an earlier row of the conversation is
        out, a replica took it, PostgreSQL is away) is left to the NOTIFY the commit sent and
        to the poll timer. A conversation already in flight here takes its next row itself.
        The rows taken: how many.

        If this process dies: before the claim, the row is pending and the loop (here after a
        restart, or a replica's) sends it once; after the claim and before the send, it is
        'sending' under this process's lock, and orphan recovery puts it back to be sent once;
        after the send and before its record commits, it is sent again: the loop's window,
        no wider (tests/integration/delivery/test_express.py kills a process mid-answers)."""
        if self._loop_slots() > 0:
            # The loop has room: the commit's NOTIFY wakes it, and its next claim takes these
            # with every other conversation it was told about, one round trip for all (a
            # claim per answer here cost a storm of customer messages one statement more each).
            return 0
        free = self.config.max_in_flight - self._express
        todo = [key for key in dict.fromkeys(conversations) if key not in self._busy]
        if self._stop.is_set() or free <= 0 or not todo:
            return 0
        try:
            claimed = await claims.claim_conversations(
                self.pool, self.clock.now(), self.name, self.lock_key, todo[:free], free
            )
        except (OSError, asyncpg.PostgresError) as exc:
            logger.warning("delivery: sending answers at once failed ({}); left to the loop", exc)
            return 0
        for row in claimed:
            self._express += 1
            self._start(row, "answer", self._express_finished)
        metrics.ANSWERS_AT_ONCE.inc(len(claimed))
        return len(claimed)

    def _express_finished(self, task: asyncio.Task[None]) -> None:
        self._express -= 1
        self._finished(task)

    async def wait_idle(self, timeout: float = 30.0) -> None:
        """Tests: until nothing is pending or sending."""
        deadline = asyncio.get_running_loop().time() + timeout
        while asyncio.get_running_loop().time() < deadline:
            left = await store.unsent(self.pool)
            if left == 0 and not self._tasks:
                return
            await asyncio.sleep(0.05)
        raise TimeoutError("outbox still has rows to send")

    # one row --------------------------------------------------------------------------------

    def _start(self, row: OutboxRow, what: str, done: Callable[[asyncio.Task[None]], None]) -> None:
        """A task for a claimed row. Its conversation counts as in flight from the claim on:
        neither the loop (told by the NOTIFY of the same commit) nor `express` claims it
        again meanwhile, which would cost a round trip that finds nothing."""
        self._busy[row.conversation] += 1
        task = asyncio.create_task(self._process(row), name=f"{self.name}-{what}-{row.id}")
        self._tasks.add(task)
        task.add_done_callback(done)

    async def _process(self, first: OutboxRow) -> None:
        """Send the row, then its conversation's next ones while they may leave at once."""
        key = first.conversation
        sent: claims.Sent | None = None
        try:
            row: OutboxRow | None = first
            while row is not None and not self._stop.is_set():
                # A plain sent row is recorded by the claim of the next (one statement); the
                # window in which a crash sends it twice is the same: from the send to the
                # commit of its record.
                sent = await self.rows.send(row, may_defer=True)
                # A NOTIFY for this conversation from now on is seen by the claim below or,
                # once this task ends, by the main loop: none is lost in between.
                self._told.discard(key)
                if self._stop.is_set():
                    return
                try:
                    row, woken = await claims.claim_next_in_conversation(
                        self.pool, self.clock.now(), self.name, self.lock_key, key, sent=sent
                    )
                except (OSError, asyncpg.PostgresError) as exc:
                    logger.warning("delivery: claiming the next row of {} failed: {}", key, exc)
                    self._look_at([key])
                    return
                sent = None
                if woken:
                    self._look_at(woken)
            if row is not None:
                await store.release(self.pool, row.id)
        finally:
            if sent is not None:  # not recorded by a claim: on its own, through an outage
                await self.rows.record_sent(sent)
            self._busy[key] -= 1
            if self._busy[key] <= 0:
                del self._busy[key]
