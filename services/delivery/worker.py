"""The delivery worker: claims due outbox rows and sends them within Telegram's limits.

Several replicas may run it on one database. Each holds a PostgreSQL advisory lock for its
life; rows it claims carry that lock's key, so a row left 'sending' by a worker that died
(SIGKILL, lost host) is recognised and sent again. Rows of one conversation (a private chat,
a forum topic, a group's general chat) leave in order: it sends its next row only once the
earlier one is sent or failed for good, and the next row is its most urgent one (store.py):
a page or a P0 notice overtakes an alert storm, while rows of one priority keep their order.
A row that waits for a token gives way to a more urgent one that arrives meanwhile, so the
urgent row is the conversation's next send. Different conversations leave side by side, one
task each, however many share a group: the group's budget is the limiter's (ratelimit.py).

Waking up costs what is new, not what waits: a NOTIFY names the conversation a row was queued
for; the loop claims only conversations it was told about that it is not already sending
(a conversation in flight here takes its next row itself), and looks at every stream only at
start, on the poll timer, when a retry falls due, or after it was saturated.
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
from collections import Counter
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import replace
from datetime import datetime, timedelta
from functools import partial
from typing import Any

import asyncpg
from loguru import logger
from redis.asyncio import Redis

from services.clock import Clock
from services.delivery import errors, metrics, policy, store
from services.delivery import sender as methods
from services.delivery.config import DeliveryConfig
from services.delivery.digest_store import may_coalesce
from services.delivery.digest_worker import DigestFlusher, fold
from services.delivery.hooks import DeliveryHooks
from services.delivery.notices import tell_operator
from services.delivery.ratelimit import RateLimiter
from services.delivery.requests import Call, Target, build_calls, plain_text_calls
from services.delivery.rows import OutboxRow
from services.delivery.sender import Sender
from services.outbox import NOTIFY_CHANNEL
from services.storage.db import session_changed
from services.storage.outage import is_outage

# How often a row waiting for a token looks for a more urgent row of its chat (seconds).
GIVE_WAY_LOOK = 1.0


class _Stopping(Exception):
    """The worker stops while this row waits for a token: give it back untried."""


class _GiveWay(Exception):
    """A more urgent row of the chat may leave while this one waits for a token: this one
    goes back untried (first in its own stream still) and the chat sends the urgent one."""


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
        self.limiter = RateLimiter(redis, config.limits, clock, prefix=config.redis_prefix)
        self.digests = DigestFlusher(pool, sender, self.limiter, clock, config)
        self.name = f"worker-{secrets.token_hex(4)}"
        self.lock_key = secrets.randbits(62)
        self._wake = asyncio.Event()
        self._stop = asyncio.Event()
        self._done = asyncio.Event()
        self._tasks: set[asyncio.Task[None]] = set()
        self._listener: Any = None
        self._busy: Counter[str] = Counter()  # conversations with a task here
        self._told: set[str] = set()  # conversations with new rows to look at
        self._full_at = 0.0  # loop time of the next claim over every stream (0: at once)

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
        self._told.add(str(payload))  # "chat:topic" (services.outbox.conversation)
        self._wake.set()

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
        free = self.config.max_in_flight - len(self._tasks)
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
                claimed = await store.claim(self.pool, now, self.name, self.lock_key, free)
                if len(claimed) < free:
                    await self._plan_next_due(now)
            else:
                self._told -= told
                claimed = await store.claim_conversations(
                    self.pool, now, self.name, self.lock_key, told, free
                )
        except (OSError, asyncpg.PostgresError) as exc:
            logger.warning("delivery claim failed: {}", exc)
            self._told |= told
            self._full_at = loop.time() + min(1.0, self.config.poll_interval)
        if len(claimed) >= free:
            self._full_at = 0.0  # saturated: once a slot frees, look at every stream
        for row in claimed:
            task = asyncio.create_task(self._process(row), name=f"{self.name}-row-{row.id}")
            self._tasks.add(task)
            task.add_done_callback(self._finished)
        if not claimed:
            await self._sleep_until_work()

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

    async def wait_idle(self, timeout: float = 30.0) -> None:
        """Tests: until nothing is pending or sending."""
        deadline = asyncio.get_running_loop().time() + timeout
        while asyncio.get_running_loop().time() < deadline:
            left = await self.pool.fetchval(
                "SELECT count(*) FROM outbox WHERE status IN ('pending', 'sending')"
            )
            if left == 0 and not self._tasks:
                return
            await asyncio.sleep(0.05)
        raise TimeoutError("outbox still has rows to send")

    # one row --------------------------------------------------------------------------------

    async def _process(self, first: OutboxRow) -> None:
        """Send the row, then its conversation's next ones while they may leave at once."""
        key = first.conversation
        self._busy[key] += 1
        try:
            row: OutboxRow | None = first
            while row is not None and not self._stop.is_set():
                await self._process_one(row)
                # A NOTIFY for this conversation from now on is seen by the claim below or,
                # once this task ends, by the main loop: none is lost in between.
                self._told.discard(key)
                try:
                    row = await store.claim_next_in_conversation(
                        self.pool, self.clock.now(), self.name, self.lock_key, key
                    )
                except (OSError, asyncpg.PostgresError) as exc:
                    logger.warning("delivery: claiming the next row of {} failed: {}", key, exc)
                    self._look_at([key])
                    return
            if row is not None:
                await store.release(self.pool, row.id)
        finally:
            self._busy[key] -= 1
            if self._busy[key] <= 0:
                del self._busy[key]

    async def _process_one(self, row: OutboxRow) -> None:
        try:
            await self._deliver(row)
        except (_Stopping, _GiveWay):
            await store.release(self.pool, row.id)
        except asyncio.CancelledError:
            raise
        except errors.DeliveryError as exc:
            await self._failed_call(row, exc)
        except Exception as exc:
            logger.exception("delivery of outbox row {} failed unexpectedly", row.id)
            await self._failed_call(row, errors.TransientError(repr(exc)))

    async def _deliver(self, row: OutboxRow) -> None:
        if may_coalesce(row):
            backlog = await store.backlog(self.pool, row.chat_id, self.clock.now())
            if backlog > self.config.threshold_for(row.chat_id):
                digest_id = await fold(self.pool, self.hooks, row, self.clock.now(), self.config)
                # an edit of this row now says it anew: wake its conversation, nothing more
                self._look_at(await store.waiting_for(self.pool, row.id))
                await self.digests.flush(digest_id)
                return
        resolved = await self._target(row)
        if resolved is None:
            return
        row, target = resolved
        calls = build_calls(row, target, self.config)
        try:
            await self._send_all(row, calls)
        except errors.PermanentError as exc:
            if exc.reason != errors.BAD_MARKUP or row.kind != "text":
                raise
            logger.warning("outbox row {}: markup refused, sent as plain text", row.id)
            await self._send_all(row, plain_text_calls(row, target, self.config))

    async def _target(self, row: OutboxRow) -> tuple[OutboxRow, Target] | None:
        """Where the row goes: its topic's id, the message it edits; None when it failed."""
        thread_id = row.thread_id
        message_id = row.payload.get("message_id") if row.kind.startswith("edit") else None
        if row.thread_ref is not None and thread_id is None:
            topic = await store.get_row(self.pool, row.thread_ref)
            if topic is None or topic.status != "sent" or not topic.result:
                await self._fail(
                    row, errors.PermanentError(errors.TOPIC_MISSING, "topic not created")
                )
                return None
            thread_id = topic.result.get("message_thread_id")
        if row.ref_id is not None and message_id is None:
            ref = await store.get_row(self.pool, row.ref_id)
            if ref is not None and ref.status == "coalesced" and row.kind == "edit":
                row = _as_new_message(row)  # its message is a digest line: say it anew
            elif ref is None or ref.message_id is None:
                if row.kind.startswith("edit") or row.kind == "pin":
                    reason = errors.MESSAGE_NOT_FOUND
                    await self._fail(row, errors.PermanentError(reason, "no message to edit"))
                    return None
            else:
                message_id = ref.message_id
        return row, Target(row.chat_id, thread_id, message_id)

    async def _send_all(self, row: OutboxRow, calls: list[Call]) -> None:
        result: dict[str, Any] = dict(row.result or {}) if row.parts_sent else {}
        ids: list[int] = list(result.get("message_ids", []))
        for index, call in enumerate(calls):
            if index < row.parts_sent:
                continue
            await self._token(row, call, may_give_way=index == 0 and not row.parts_sent)
            try:
                answer = await self.sender.call(call.method, call.params)
            except errors.NotModified:
                answer = {"not_modified": True}
            if "message_id" in answer:
                ids.append(int(answer["message_id"]))
            result = {**answer, "message_ids": ids} if len(calls) > 1 else dict(answer)
            if len(calls) > 1 and index < len(calls) - 1:
                await store.record_parts(self.pool, row.id, index + 1, result)
        if len(calls) > 1:
            result["parts"] = len(calls)
        if calls and calls[0].method == methods.SEND_DOCUMENT and row.kind == "text":
            result["as_document"] = True
        await self._sent(row, ids[0] if ids else result.get("message_id"), result)

    async def _token(self, row: OutboxRow, call: Call, *, may_give_way: bool) -> None:
        """Wait for the chat's token. While waiting, look (about once a second) whether a more
        urgent row of the conversation could go instead; a row that started sending its parts
        does not give way, so a long text stays in one piece. Rows of a group's conversations
        that wait together take its tokens most urgent first, then oldest (the limiter)."""
        loop = asyncio.get_running_loop()
        next_look = loop.time()
        rank = (row.priority, row.id)
        waited = False
        try:
            while True:
                wait = await self.limiter.try_acquire(
                    row.chat_id, chat_token=call.new_message, rank=rank
                )
                if wait <= 0:
                    waited = False  # the limiter forgot this waiter as it took the token
                    return
                waited = True
                if self._stop.is_set():
                    raise _Stopping
                if may_give_way and loop.time() >= next_look:
                    next_look = loop.time() + GIVE_WAY_LOOK
                    if await self._overtaken(row):
                        logger.info("outbox row {} gives way to a more urgent row", row.id)
                        raise _GiveWay
                await self.limiter.sleep(min(wait, 1.0))
        finally:
            if waited:
                with contextlib.suppress(Exception):
                    await self.limiter.leave(row.chat_id, row.id)

    async def _overtaken(self, row: OutboxRow) -> bool:
        try:
            return await store.overtaken(self.pool, row, self.clock.now())
        except (OSError, asyncpg.PostgresError) as exc:
            logger.warning("delivery: could not look for more urgent rows: {}", exc)
            return False

    # outcomes -------------------------------------------------------------------------------

    async def _sent(self, row: OutboxRow, message_id: int | None, result: dict[str, Any]) -> None:
        now = self.clock.now()
        topic_id = result.get("message_thread_id") if row.kind == "create_topic" else None
        hook = self.hooks.for_owner(row.owner)

        async def mark(db: Any) -> list[str]:
            return await store.mark_sent(db, row.id, message_id, result, now, topic_id=topic_id)

        async def record() -> None:
            if hook is None:  # one statement, no transaction around it
                self._look_at(await mark(self.pool))
                return
            async with self.pool.acquire() as conn:
                try:
                    # The hook first: a feature row it locks (the ticket) is written by whoever
                    # queued into this topic meanwhile; once that commits, the mark below (a new
                    # snapshot) moves their rows into the topic too.
                    async with conn.transaction():
                        await hook.on_sent(conn, row, result)
                        woken = await mark(conn)
                except Exception as exc:
                    if is_outage(exc):
                        raise
                    # No savepoint on the way: a failing hook is logged and the outcome is
                    # recorded without it (its changes were rolled back with the transaction).
                    logger.exception(
                        "delivery hook on_sent for {} (row {}) failed", row.owner, row.id
                    )
                    woken = await mark(conn)
            self._look_at(woken)

        await self._through_outage(row, record)
        metrics.SENDS.labels(outcome="sent").inc()
        metrics.SEND_LATENCY.observe(max(0.0, (now - row.created_at).total_seconds()))

    async def _through_outage(self, row: OutboxRow, record: Callable[[], Awaitable[None]]) -> None:
        """Record what Telegram already did. While PostgreSQL is unreachable, keep trying (with
        a growing pause) instead of giving up: a row left 'sending' under a live worker's lock
        would wait for the next restart, and be sent twice then. Stopping gives up: the row is
        recovered at the next start and sent again (at most the rows in flight twice)."""
        pause = 0.2
        while True:
            try:
                await record()
                return
            except Exception as exc:
                if not is_outage(exc) or self._stop.is_set():
                    raise
                logger.warning(
                    "outbox row {} was sent but PostgreSQL is unreachable ({}); retrying",
                    row.id,
                    type(exc).__name__,
                )
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._stop.wait(), pause)
                pause = min(pause * 2, 5.0)

    async def _failed_call(self, row: OutboxRow, exc: errors.DeliveryError) -> None:
        now = self.clock.now()
        if isinstance(exc, errors.RetryAfter):
            delay = policy.retry_after_delay(exc.seconds, self.config)
            metrics.RETRY_AFTER.inc()
            metrics.SENDS.labels(outcome="retry_after").inc()
            logger.warning("429 for chat {}: waiting {}s", row.chat_id, delay)
            await self.limiter.pause(row.chat_id, delay)
            await store.reschedule(self.pool, row.id, now + timedelta(seconds=delay), str(exc))
            self._look_everywhere(delay)
        elif isinstance(exc, errors.ChatMigrated):
            metrics.SENDS.labels(outcome="migrated").inc()
            await self._migrated(row, exc.new_chat_id)
        elif isinstance(exc, errors.PermanentError):
            metrics.SENDS.labels(outcome="permanent").inc()
            await self._fail(row, exc)
        elif policy.too_old(row.created_at, now, self.config):
            metrics.SENDS.labels(outcome="gave_up").inc()
            await self._fail(row, errors.PermanentError(errors.MAX_AGE, str(exc)), tell=True)
        else:
            metrics.SENDS.labels(outcome="transient").inc()
            delay = policy.backoff_delay(row.attempts, self.config)
            logger.warning("outbox row {} failed ({}); retry in {:.1f}s", row.id, exc, delay)
            await store.reschedule(self.pool, row.id, now + timedelta(seconds=delay), str(exc))
            self._look_everywhere(delay)

    async def _migrated(self, row: OutboxRow, new_chat_id: int) -> None:
        async with self.pool.acquire() as conn, conn.transaction():
            moved = await store.move_chat(conn, row.chat_id, new_chat_id)
            await store.reschedule(conn, row.id, self.clock.now(), f"migrated to {new_chat_id}")
            for hook in self.hooks.all():
                call = partial(hook.on_migrated, conn, row.chat_id, new_chat_id)
                await _safely(conn, "on_migrated", row, call)
        logger.info("chat {} became {}: {} rows moved", row.chat_id, new_chat_id, moved)
        self._look_everywhere()

    async def _fail(self, row: OutboxRow, error: errors.PermanentError, tell: bool = False) -> None:
        logger.warning("outbox row {} failed for good: {}", row.id, error)
        async with self.pool.acquire() as conn, conn.transaction():
            await store.mark_failed(conn, row.id, error.reason, str(error), self.clock.now())
            hook = self.hooks.for_owner(row.owner)
            if hook is not None:
                await _safely(conn, "on_failed", row, partial(hook.on_failed, conn, row, error))
            for watcher in self.hooks.watchers():
                await _safely(conn, "on_failed", row, partial(watcher.on_failed, conn, row, error))
            if tell or hook is None:
                await tell_operator(conn, row, error, self.config.admin_chat_id)
        self._look_everywhere()  # rows that waited for this one fail now, or a hook queued


def _as_new_message(row: OutboxRow) -> OutboxRow:
    payload = {k: v for k, v in row.payload.items() if k != "message_id"}
    return replace(row, kind="text", ref_id=None, payload=payload)


async def _safely(
    conn: Any, name: str, row: OutboxRow, call: Callable[[], Awaitable[None]]
) -> None:
    """A failing hook is logged; it never undoes the recorded outcome (savepoint). The hook is
    called only once the savepoint exists, so a savepoint that cannot be made (the database
    went away) leaves no coroutine behind un-awaited."""
    try:
        async with conn.transaction():
            await call()
    except Exception:
        logger.exception("delivery hook {} for {} (row {}) failed", name, row.owner, row.id)
