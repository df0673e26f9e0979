"""The inbox worker: hands stored updates to the dispatcher, one conversation at a time.

A conversation's updates that waited meanwhile (a storm's backlog) are taken as one run, in
one statement, and handled in order: each recorded done before the run's next is handed over,
except a leading part that `together` handles at once (a customer's texts into their ticket,
services/tickets/run_relay.py), recorded done together after it. So the cost of an update
falls as its conversation's backlog grows, and a crash still interrupts only what was being
handled: the rest of a run is 'processing' under this process's lock and goes back with it.

Each process holds a PostgreSQL advisory lock for its life and stamps the rows it claims
with that lock's key, so rows left 'processing' by a process that died (SIGKILL, lost host)
are recognised and handled again; the update's handlers are safe to run twice for what a
crash interrupted. A store outage (Redis or PostgreSQL not answering) puts the update back
with a backoff, in its place: its conversation waits, nothing is dropped, nobody is told
"something went wrong" for a message that will be handled in a moment.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import secrets
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

import asyncpg
from loguru import logger

from services.inbox import metrics, store
from services.inbox.config import InboxConfig
from services.inbox.store import InboxRow, Refused
from services.storage.db import session_changed
from services.storage.outage import is_outage

Feed = Callable[[dict[str, Any]], Awaitable[None]]
# Handles a leading part of a conversation's run of updates at once, all or nothing, safe to
# run again for what a crash interrupted; how many it handled (0: none, the usual way then).
Together = Callable[[list[dict[str, Any]]], Awaitable[int]]


class FloodHandling(Protocol):
    """What happens to updates refused as a flood (they are stored, never handled)."""

    async def tell_sender(self, conversation: str) -> None: ...

    async def hand_to_staff(self, refused: Refused) -> None: ...


def _closed(conn: Any) -> bool:
    """Whether the pooled connection holding our lock is gone: closed, or (the server cut it)
    already taken back by the pool, whose proxy then refuses every call."""
    try:
        return bool(conn.is_closed())
    except asyncpg.InterfaceError:
        return True


class InboxWorker:
    def __init__(
        self,
        pool: asyncpg.Pool,
        feed: Feed,
        config: InboxConfig,
        flood: FloodHandling | None = None,
        together: Together | None = None,
    ) -> None:
        self.pool = pool
        self.feed = feed
        self.together = together
        self.config = config
        self.flood = flood
        self.name = f"inbox-{secrets.token_hex(4)}"
        self.lock_key = secrets.randbits(62)
        self._wake = asyncio.Event()
        self._stop = asyncio.Event()
        self._tasks: dict[int, asyncio.Task[None]] = {}
        self._in_hand: set[int] = set()  # updates being handled here right now
        self._lock_conn: Any = None  # a pooled connection holding the advisory lock

    def wake(self) -> None:
        """New rows were stored by this process (polling or its webhook)."""
        self._wake.set()

    async def stop(self) -> None:
        self._stop.set()
        self._wake.set()

    # lifecycle ----------------------------------------------------------------------------

    async def run(self) -> None:
        side = asyncio.create_task(self._side_loop(), name=f"{self.name}-side")
        try:
            while not self._stop.is_set():
                if await self._hold_lock():
                    await self._round()
                else:
                    await self._pause(self.config.backoff_cap)
        finally:
            side.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await side
            await self._drain()

    async def _hold_lock(self) -> bool:
        """Own the advisory lock (again, after PostgreSQL restarted); False while it is down."""
        if self._lock_conn is not None and not _closed(self._lock_conn):
            return True
        await self._let_go_of_lock()
        try:
            conn = await self.pool.acquire()
        except Exception as exc:
            if not is_outage(exc):
                raise
            logger.warning("inbox: PostgreSQL unreachable ({}); waiting", type(exc).__name__)
            return False
        try:
            session_changed(conn)  # a session lock: reset when it goes back
            await conn.execute("SELECT pg_advisory_lock($1)", self.lock_key)
        except Exception as exc:
            await self.pool.release(conn)
            if not is_outage(exc):
                raise
            logger.warning("inbox: PostgreSQL unreachable ({}); waiting", type(exc).__name__)
            return False
        self._lock_conn = conn
        try:
            await store.recover_orphans(self.pool)
            # Our rows still 'processing' that no task here holds (none on the first start):
            # their handler was cut short by an outage, or by a stop, and putting them back
            # failed with it. They carry our lock's key, which we hold again, so
            # recover_orphans passes over them, and each would hold its conversation for good.
            await store.release_own(self.pool, self.lock_key, list(self._in_hand))
        except Exception as exc:
            # Not claiming before they are back: let go and try again (a server just back
            # can fail the first statements on a pooled connection it cut).
            logger.warning("inbox: could not put back our rows yet ({}); retrying", exc)
            await self._let_go_of_lock()
            return False
        logger.info("inbox {} holds its lock", self.name)
        return True

    async def _drain(self) -> None:
        tasks = list(self._tasks.values())
        if tasks:
            _, late = await asyncio.wait(tasks, timeout=self.config.stop_grace)
            for task in late:
                task.cancel()
            await asyncio.gather(*late, return_exceptions=True)
            if late:
                logger.warning("inbox: {} update(s) cut short at shutdown, kept", len(late))
        with contextlib.suppress(Exception):
            await store.release_all(self.pool, self.lock_key)
        await self._let_go_of_lock()

    async def _let_go_of_lock(self) -> None:
        conn, self._lock_conn = self._lock_conn, None
        if conn is not None:
            with contextlib.suppress(Exception):
                await conn.execute("SELECT pg_advisory_unlock($1)", self.lock_key)
            with contextlib.suppress(Exception):
                await self.pool.release(conn)

    # the loop -------------------------------------------------------------------------------

    async def _round(self) -> None:
        self._wake.clear()
        free = self.config.concurrency - len(self._tasks)
        claimed: list[InboxRow] = []
        if free > 0:
            try:
                claimed = await store.claim(
                    self.pool, self.name, self.lock_key, free, list(self._in_hand)
                )
            except Exception as exc:
                if not is_outage(exc):
                    raise
                logger.warning("inbox claim failed: {}", type(exc).__name__)
                await self._pause(self.config.backoff_cap)
                return
        for row in claimed:
            task = asyncio.create_task(self._handle(row), name=f"{self.name}-{row.update_id}")
            self._tasks[row.update_id] = task
            task.add_done_callback(functools.partial(self._finished, row.update_id))
        # Until an update finishes (its conversation's next one may be due), this process
        # stores new ones, or the poll interval passes (other replicas' rows, retries).
        await self._pause(self.config.poll_interval)

    def _finished(self, update_id: int, _task: asyncio.Task[None]) -> None:
        self._tasks.pop(update_id, None)
        self._wake.set()

    async def _pause(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wake.wait(), seconds)

    async def _handle(self, first: InboxRow) -> None:
        """Handle the update, then its conversation's next ones while they may go at once:
        those that waited meanwhile come as one run (a storm's backlog), handled in order."""
        run = [first]
        while run:
            ids = {row.update_id for row in run}
            self._in_hand |= ids
            try:
                run = await self._handle_run(run)
            finally:
                self._in_hand -= ids

    async def _handle_run(self, run: list[InboxRow]) -> list[InboxRow]:
        """Handle the run's first update, or a leading part of it at once (`together`); what
        is left of the run, else the conversation's next run."""
        taken = await self._together(run)
        if not taken:
            if not await self._handle_one(run[0]):
                await self._settle(store.release, [row.update_id for row in run[1:]])
                return []
            taken = 1
        metrics.HANDLED.labels(outcome="done").inc(taken)
        done = [row.update_id for row in run[:taken]]
        rest = run[taken:]
        try:
            if self._stop.is_set():
                await store.finish(self.pool, done)
                await store.release(self.pool, [row.update_id for row in rest])
                return []
            if rest:
                await store.finish(self.pool, done)
                return rest
            return await store.finish_and_take_run(
                self.pool, done, self.name, self.lock_key, self.config.run
            )
        except Exception as exc:
            if not is_outage(exc):
                raise
            # Ours until orphan recovery (the lock went with the server) or release_own.
            logger.warning("inbox: could not record update(s) {}: {}", done, exc)
            return []

    async def _together(self, run: list[InboxRow]) -> int:
        """How many leading updates of the run `together` handled (0: none, or no such)."""
        if self.together is None:
            return 0
        try:
            return await self.together([row.payload for row in run])
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # the usual way handles them, and fails or retries as it does
            if not is_outage(exc):
                logger.opt(exception=exc).warning("inbox: a run failed together; one by one")
            return 0

    async def _handle_one(self, row: InboxRow) -> bool:
        """Feed one update; False when it failed (recorded for a retry, or given up)."""
        try:
            await self.feed(row.payload)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            await self._failed(row, exc)
            return False
        return True

    async def _failed(self, row: InboxRow, exc: Exception) -> None:
        reason = f"{type(exc).__name__}: {exc}"
        if is_outage(exc):
            delay = self.config.backoff(row.attempts)
            # One line per update and outage, not one per retry.
            log = logger.warning if delay < self.config.backoff_cap else logger.debug
            log("update {} waits {:.1f}s: {}", row.update_id, delay, reason)
            metrics.HANDLED.labels(outcome="retry").inc()
            await self._settle(store.retry_later, row.update_id, delay, reason)
        elif row.attempts < self.config.max_attempts:
            logger.opt(exception=exc).warning("update {} failed; will retry", row.update_id)
            metrics.HANDLED.labels(outcome="retry").inc()
            await self._settle(
                store.retry_later, row.update_id, self.config.backoff(row.attempts), reason
            )
        else:
            logger.opt(exception=exc).error(
                "update {} failed {} times; kept as failed", row.update_id, row.attempts
            )
            metrics.HANDLED.labels(outcome="failed").inc()
            await self._settle(store.give_up, row.update_id, reason)

    async def _settle(self, action: Callable[..., Awaitable[None]], *args: Any) -> None:
        """Record the outcome; if PostgreSQL is gone, the row stays ours until orphan
        recovery puts it back (our lock went with the server)."""
        try:
            await action(self.pool, *args)
        except Exception as exc:
            if not is_outage(exc):
                raise
            logger.warning("inbox: could not record update {}: {}", args[0], type(exc).__name__)

    async def _side_loop(self) -> None:
        """Flood notices, orphans of dead processes, queue depth."""
        ticks = 0
        while True:
            await asyncio.sleep(self.config.poll_interval)
            ticks += 1
            try:
                if self.flood is not None:
                    for conversation in await store.newly_throttled(self.pool):
                        await self.flood.tell_sender(conversation)
                    window = self.config.flood.window_seconds
                    for refused in await store.take_refused(self.pool, window):
                        await self.flood.hand_to_staff(refused)
                if ticks % 5 == 0:
                    if await store.recover_orphans(self.pool):
                        self._wake.set()
                    for state, count in (await store.depth(self.pool)).items():
                        metrics.DEPTH.labels(state=state).set(count)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                if is_outage(exc):
                    continue
                logger.exception("inbox housekeeping failed")
