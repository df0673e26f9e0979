"""Alertmanager's payloads, accepted durably first and folded into alerts after (migration
0035_alert_inbox).

The webhook appends each checked payload with one INSERT and answers; nothing it does waits on
a lock another transaction holds. `fold_pending` takes the pending payloads in arrival order
under a transaction-level advisory lock, folds them (`alertmanager.fold`) and stamps them folded
in the same transaction: a crash before commit leaves them pending, a second replica finds the
lock taken and the payloads either pending or folded, never half. So each payload is folded
exactly once, whatever the number of replicas.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable
from dataclasses import KW_ONLY, dataclass, field
from datetime import datetime, timedelta

import asyncpg
from loguru import logger

from services.alerts import alertmanager
from services.alerts.config import AlertsRules
from services.clock import Clock
from services.storage.db import transaction
from services.storage.types import Executor

FOLD_LOCK_KEY = 0x5143_1535  # "QC" + issue 15 + 35: one folder of the alert inbox at a time
# The alert loop folds what the consumer left pending longer than this before it flushes
# groups, so a flush never misses a payload that arrived a while before it.
SETTLED = timedelta(seconds=1)
BATCH = 200  # payloads folded in one transaction (Alertmanager sends up to a few hundred alerts)
KEEP = timedelta(days=7)  # folded payloads kept this long, for a look at what arrived
# PostgreSQL refusing the data itself: the same payload would be refused again.
POISON = (
    asyncpg.DataError,
    asyncpg.IntegrityConstraintViolationError,
    asyncpg.ProgramLimitExceededError,
)


async def append(db: Executor, checked: alertmanager.Checked, now: datetime) -> int:
    """Store one checked payload as it came: the only statement of a webhook call."""
    inbox_id: int = await db.fetchval(
        "INSERT INTO alert_inbox (received_at, alerts, payload) VALUES ($1, $2, $3) RETURNING id",
        now,
        checked.alerts,
        checked.text,
    )
    return inbox_id


@dataclass
class FoldReport:
    folded: list[int] = field(default_factory=list)  # inbox ids folded by this call
    failed: list[int] = field(default_factory=list)  # refused by PostgreSQL, kept with why
    alerts: int = 0
    busy: bool = False  # another replica was folding


async def fold_pending(
    pool: asyncpg.Pool,
    config: AlertsRules,
    clock: Clock,
    *,
    batch: int = BATCH,
    received_before: datetime | None = None,
) -> FoldReport:
    """Fold one batch of pending payloads, unless another replica is folding now
    (`received_before`: only those that arrived before then)."""
    report = FoldReport()
    async with transaction(pool) as conn:
        if not await conn.fetchval("SELECT pg_try_advisory_xact_lock($1)", FOLD_LOCK_KEY):
            report.busy = True
            return report
        rows = await conn.fetch(
            "SELECT id, received_at, payload FROM alert_inbox WHERE folded_at IS NULL"
            " AND ($2::timestamptz IS NULL OR received_at < $2) ORDER BY id LIMIT $1",
            batch,
            received_before,
        )
        if not rows:
            return report
        # Groups wait from when their first alert arrived (Alertmanager's group_wait), not from
        # when it was folded: a consumer that lagged does not delay the first message again.
        received = min(r["received_at"] for r in rows)
        ids = [r["id"] for r in rows]
        payloads = [alertmanager.parse(r["payload"]) for r in rows]
        try:
            async with conn.transaction():  # a savepoint: a poison payload is looked for below
                result = await alertmanager.fold(conn, payloads, config, received)
            report.alerts = result.stored
        except POISON:
            await _fold_one_by_one(conn, ids, payloads, config, received, report)
        else:
            report.folded = ids
        await conn.execute(
            "UPDATE alert_inbox SET folded_at = $2 WHERE id = ANY($1::bigint[])", ids, clock.now()
        )
    return report


async def _fold_one_by_one(
    conn: asyncpg.Connection | asyncpg.pool.PoolConnectionProxy,
    ids: list[int],
    payloads: list[alertmanager.WirePayload],
    config: AlertsRules,
    now: datetime,
    report: FoldReport,
) -> None:
    """PostgreSQL refused the batch: fold each payload alone; keep a refused one with why."""
    for inbox_id, payload in zip(ids, payloads, strict=True):
        try:
            async with conn.transaction():
                result = await alertmanager.fold(conn, [payload], config, now)
            report.alerts += result.stored
            report.folded.append(inbox_id)
        except POISON as exc:
            logger.error("alert inbox payload {} refused by PostgreSQL: {}", inbox_id, exc)
            await conn.execute(
                "UPDATE alert_inbox SET failed = $2 WHERE id = $1", inbox_id, str(exc)[:500]
            )
            report.failed.append(inbox_id)


async def fold_all(
    pool: asyncpg.Pool,
    config: AlertsRules,
    clock: Clock,
    *,
    received_before: datetime | None = None,
) -> FoldReport:
    """Fold until nothing is pending (or another replica is at it)."""
    total = FoldReport()
    while True:
        report = await fold_pending(pool, config, clock, received_before=received_before)
        total.folded += report.folded
        total.failed += report.failed
        total.alerts += report.alerts
        total.busy = report.busy
        if report.busy or not (report.folded or report.failed):
            return total


async def prune(db: Executor, now: datetime) -> int:
    """Forget payloads folded more than KEEP ago."""
    status = await db.execute(
        "DELETE FROM alert_inbox WHERE folded_at < $1 AND failed IS NULL", now - KEEP
    )
    return int(status.split()[-1])


async def pending(db: Executor) -> int:
    count: int = await db.fetchval("SELECT count(*) FROM alert_inbox WHERE folded_at IS NULL")
    return count


@dataclass(eq=False)
class AlertInboxWorker:
    """Folds payloads as they arrive: woken by this process's webhook, and every `every`
    seconds for what other replicas appended.

    Wakes are debounced: a burst of POSTs is folded once it pauses for `settle` seconds (and
    at the latest `settle_max` after its first), in a few large transactions instead of one
    per POST, and the fold does not compete with the burst's POSTs for the event loop.
    Group waits count from arrival (`received_at`), so the pause delays no message."""

    pool: asyncpg.Pool
    config: Callable[[], AlertsRules]
    clock: Clock
    _: KW_ONLY
    every: float = 1.0
    settle: float = 0.2
    settle_max: float = 1.0
    on_folded: Callable[[FoldReport], Awaitable[None]] | None = None
    _wake: asyncio.Event = field(default_factory=asyncio.Event, init=False)
    _stop: asyncio.Event = field(default_factory=asyncio.Event, init=False)

    def wake(self) -> None:
        self._wake.set()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()

    async def run(self) -> None:
        next_prune = 0.0
        while not self._stop.is_set():
            self._wake.clear()
            report = await fold_all(self.pool, self.config(), self.clock)
            if report.folded and self.on_folded is not None:
                await self.on_folded(report)
            if time.monotonic() >= next_prune:
                next_prune = time.monotonic() + 3600
                await prune(self.pool, self.clock.now())
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.every)
            await self._settle()

    async def _settle(self) -> None:
        """Wait while wakes keep coming, `settle_max` at most."""
        deadline = time.monotonic() + self.settle_max
        while self._wake.is_set() and not self._stop.is_set():
            self._wake.clear()
            left = deadline - time.monotonic()
            if left <= 0:
                return
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), min(self.settle, left))
