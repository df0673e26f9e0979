"""One claimed outbox row, sent and recorded: the delivery worker's hands.

`RowSend.send(row)` resolves where the row goes (its topic, the message it edits), folds it into
a digest when its chat is flooded, sends its calls within the chat's tokens (giving way to a more
urgent row of its conversation while it waits), and records the outcome: sent (with the owner's
hook in one transaction), retried later, moved to a migrated chat, or failed for good (hooks,
watchers, the operator told). Which rows are claimed, and when, is the worker's loop (worker.py).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, replace
from datetime import timedelta
from functools import partial
from typing import Any

import asyncpg
from loguru import logger

from services.clock import Clock
from services.delivery import claims, errors, metrics, policy, store
from services.delivery import sender as methods
from services.delivery.config import DeliveryConfig
from services.delivery.digest_store import may_coalesce
from services.delivery.digest_worker import DigestFlusher, fold
from services.delivery.hooks import DeliveryHooks
from services.delivery.outbound import tell_operator
from services.delivery.ratelimit import RateLimiter
from services.delivery.requests import Call, Target, build_calls, plain_text_calls
from services.delivery.rows import OutboxRow
from services.delivery.sender import Sender
from services.storage.db import transaction
from services.storage.outage import is_outage

# How often a row waiting for a token looks for a more urgent row of its chat (seconds).
GIVE_WAY_LOOK = 1.0


class _Stopping(Exception):
    """The worker stops while this row waits for a token: give it back untried."""


class _GiveWay(Exception):
    """A more urgent row of the chat may leave while this one waits for a token: this one
    goes back untried (first in its own stream still) and the chat sends the urgent one."""


@dataclass
class RowSend:
    """Sends the rows one worker claimed. `look_at(conversations)` and `look_everywhere(after)`
    tell the worker's loop where rows may now leave (rows that waited for this one, a retry
    falling due, a chat that moved); `stopping` is set when the worker stops."""

    pool: asyncpg.Pool
    sender: Sender
    clock: Clock
    config: DeliveryConfig
    hooks: DeliveryHooks
    limiter: RateLimiter
    digests: DigestFlusher
    stopping: asyncio.Event
    look_at: Callable[[Iterable[str]], None]
    look_everywhere: Callable[[float], None]

    async def send(self, row: OutboxRow, *, may_defer: bool = False) -> claims.Sent | None:
        """Send one claimed row and record what became of it; a row given back untried
        (the worker stops, or a more urgent row of its conversation goes first) is pending again.
        `may_defer`: a sent row that needs no hook nor topic bookkeeping is not recorded here
        but returned, for the caller's next claim to record (`claims.claim_next_in_conversation`)
        or `record_sent` when there is none."""
        try:
            return await self._deliver(row, may_defer)
        except (_Stopping, _GiveWay):
            await store.release(self.pool, row.id)
        except asyncio.CancelledError:
            raise
        except errors.DeliveryError as exc:
            await self._failed_call(row, exc)
        except Exception as exc:
            logger.exception("delivery of outbox row {} failed unexpectedly", row.id)
            await self._failed_call(row, errors.TransientError(repr(exc)))
        return None

    async def record_sent(self, sent: claims.Sent) -> None:
        """Record a deferred send on its own (no claim followed it), through an outage."""

        async def record() -> None:
            self.look_at(await store.mark_sent(
                self.pool, sent.row_id, sent.message_id, sent.result, sent.at
            ))  # fmt: skip

        await self._through_outage(sent.row_id, record)

    async def _deliver(self, row: OutboxRow, may_defer: bool) -> claims.Sent | None:
        if may_coalesce(row):
            backlog = await store.backlog(self.pool, row.chat_id, self.clock.now())
            if backlog > self.config.threshold_for(row.chat_id):
                digest_id = await fold(self.pool, self.hooks, row, self.clock.now(), self.config)
                # an edit of this row now says it anew: wake its conversation, nothing more
                self.look_at(await store.waiting_for(self.pool, row.id))
                await self.digests.flush(digest_id)
                return None
        resolved = await self._target(row)
        if resolved is None:
            return None
        row, target = resolved
        calls = build_calls(row, target, self.config)
        try:
            return await self._send_all(row, calls, may_defer)
        except errors.PermanentError as exc:
            if exc.reason != errors.BAD_MARKUP or row.kind != "text":
                raise
            logger.warning("outbox row {}: markup refused, sent as plain text", row.id)
            return await self._send_all(row, plain_text_calls(row, target, self.config), may_defer)

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

    async def _send_all(
        self, row: OutboxRow, calls: list[Call], may_defer: bool
    ) -> claims.Sent | None:
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
        return await self._sent(row, ids[0] if ids else result.get("message_id"), result, may_defer)

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
                if self.stopping.is_set():
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
            return await claims.overtaken(self.pool, row, self.clock.now())
        except (OSError, asyncpg.PostgresError) as exc:
            logger.warning("delivery: could not look for more urgent rows: {}", exc)
            return False

    # outcomes -------------------------------------------------------------------------------

    async def _sent(
        self, row: OutboxRow, message_id: int | None, result: dict[str, Any], may_defer: bool
    ) -> claims.Sent | None:
        now = self.clock.now()
        topic_id = result.get("message_thread_id") if row.kind == "create_topic" else None
        hook = self.hooks.for_owner(row.owner)
        if hook is not None and not hook.wants_sent(row):
            hook = None
        metrics.SENDS.labels(outcome="sent").inc()
        metrics.SEND_LATENCY.observe(max(0.0, (now - row.created_at).total_seconds()))
        if may_defer and hook is None and topic_id is None:
            return claims.Sent(row.id, message_id, result, now)

        async def mark(db: Any) -> list[str]:
            return await store.mark_sent(db, row.id, message_id, result, now, topic_id=topic_id)

        async def record() -> None:
            if hook is None:  # one statement, no transaction around it
                self.look_at(await mark(self.pool))
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
            self.look_at(woken)

        await self._through_outage(row.id, record)
        return None

    async def _through_outage(self, row_id: int, record: Callable[[], Awaitable[None]]) -> None:
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
                if not is_outage(exc) or self.stopping.is_set():
                    raise
                logger.warning(
                    "outbox row {} was sent but PostgreSQL is unreachable ({}); retrying",
                    row_id,
                    type(exc).__name__,
                )
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self.stopping.wait(), pause)
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
            self.look_everywhere(delay)
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
            self.look_everywhere(delay)

    async def _migrated(self, row: OutboxRow, new_chat_id: int) -> None:
        async with transaction(self.pool) as conn:
            moved = await store.move_chat(conn, row.chat_id, new_chat_id)
            await store.reschedule(conn, row.id, self.clock.now(), f"migrated to {new_chat_id}")
            for hook in self.hooks.all():
                call = partial(hook.on_migrated, conn, row.chat_id, new_chat_id)
                await _safely(conn, "on_migrated", row, call)
        logger.info("chat {} became {}: {} rows moved", row.chat_id, new_chat_id, moved)
        self.look_everywhere(0.0)

    async def _fail(self, row: OutboxRow, error: errors.PermanentError, tell: bool = False) -> None:
        logger.warning("outbox row {} failed for good: {}", row.id, error)
        async with transaction(self.pool) as conn:
            await store.mark_failed(conn, row.id, error.reason, str(error), self.clock.now())
            hook = self.hooks.for_owner(row.owner)
            if hook is not None:
                await _safely(conn, "on_failed", row, partial(hook.on_failed, conn, row, error))
            for watcher in self.hooks.watchers():
                await _safely(conn, "on_failed", row, partial(watcher.on_failed, conn, row, error))
            if tell or hook is None:
                await tell_operator(conn, row, error, self.config.admin_chat_id)
        self.look_everywhere(0.0)  # rows that waited for this one fail now, or a hook queued


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
