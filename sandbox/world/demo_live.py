"""The demo QuickCart database while the sandbox runs: live traffic and trouble.

`Traffic` inserts the orders, payments and sessions of the demo time that passed, at the success
rate the world panel sets; the panel's fraud and customer-experience buttons change the data
(`sessions_break`, `payments_slow_burst`, `fraud_slips`, `fraud_flag`); `Trouble` holds a slow
query or a lock on connections of its own. The schema and history are demo_db.py.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import asyncpg


@dataclass
class Traffic:
    """New orders and payments as demo time passes, at the success rate the panel sets."""

    url: str
    success_rate: float = 0.985
    orders_per_minute: float = 4.0
    gateway_down: bool = False
    session_failure: float = 0.004  # share of customer sessions that break
    slow_payments: bool = False  # payments take 1.5 to 2.5 minutes instead of 8 to 38 s
    last: datetime | None = None
    rng: random.Random = field(default_factory=lambda: random.Random(7))

    async def tick(self, conn: asyncpg.Connection, now: datetime) -> tuple[int, int]:
        """Insert the orders of the demo time since the last tick; (completed, failed)."""
        if self.last is None or now - self.last > timedelta(hours=1):
            self.last = now - timedelta(minutes=1)
        elapsed = (now - self.last).total_seconds() / 60
        count = min(int(elapsed * self.orders_per_minute), 400)
        if count == 0:
            return 0, 0
        span = now - self.last
        rows = []
        done = failed = 0
        for i in range(count):
            at = self.last + span * ((i + 1) / count)
            ok = not self.gateway_down and self.rng.random() < self.success_rate
            done, failed = done + ok, failed + (not ok)
            wait = timedelta(seconds=self.payment_seconds())
            amount = (5 + self.rng.randrange(60)) * 5000
            rows.append((at, amount, ok, at + wait if ok else None))
        sessions = [(at, self.rng.random() >= self.session_failure) for at, *_ in rows]
        self.last = now
        await conn.executemany(
            "INSERT INTO sessions (customer_id, started_at, outcome)"
            " VALUES (1 + floor(random() * 400)::bigint, $1, CASE WHEN $2 THEN 'ok' ELSE"
            " 'failed' END)",
            sessions,
        )
        await conn.executemany(
            """
            WITH o AS (
                INSERT INTO orders (code, customer_id, total, status, created_at)
                VALUES ('QC-' || to_char($1::timestamptz, 'YYMMDD-HH24MISS-US')
                        || '-' || floor(random() * 1000)::int,
                        1 + floor(random() * 400)::bigint, $2,
                        CASE WHEN $3 THEN 'paid' ELSE 'failed' END, $1)
                RETURNING id
            )
            INSERT INTO payments (order_id, method, amount, status, created_at, completed_at)
            SELECT o.id, 'qris', $2, CASE WHEN $3 THEN 'completed' ELSE 'failed' END, $1, $4
            FROM o
            """,
            rows,
        )
        return done, failed

    def payment_seconds(self) -> float:
        if self.slow_payments:
            return 90 + self.rng.random() * 60
        return 8 + self.rng.random() * 30


# The world panel's fraud and customer-experience buttons: what happens to QuickCart's data.


async def sessions_break(conn: asyncpg.Connection, now: datetime, *, count: int = 50) -> None:
    """Logins and checkouts break: most of the last minutes' sessions fail."""
    await conn.execute(
        "INSERT INTO sessions (customer_id, started_at, outcome)"
        " SELECT 1 + (n % 400), $1::timestamptz - n * interval '5 seconds',"
        " CASE WHEN n % 5 = 0 THEN 'ok' ELSE 'failed' END FROM generate_series(1, $2) AS n",
        now,
        count,
    )


async def payments_slow_burst(conn: asyncpg.Connection, now: datetime, *, count: int = 60) -> None:
    """Payments in the last minutes that took about two minutes to complete."""
    await conn.execute(
        """
        WITH o AS (
            INSERT INTO orders (code, customer_id, total, status, created_at)
            SELECT 'QC-S' || to_char($1::timestamptz, 'YYMMDDHH24MISS') || '-' || n,
                   1 + (n % 400), 100000, 'paid',
                   $1::timestamptz - interval '3 minutes' - n * interval '1 second'
            FROM generate_series(1, $2) AS n
            RETURNING id, created_at
        )
        INSERT INTO payments (order_id, method, amount, status, created_at, completed_at)
        SELECT id, 'qris', 100000, 'completed', created_at, created_at + interval '130 seconds'
        FROM o
        """,
        now,
        count,
    )


async def fraud_slips(conn: asyncpg.Connection, now: datetime, *, count: int = 60) -> None:
    """Chargebacks for fraud on recent orders no rule flagged: fraud got through."""
    await conn.execute(
        """
        INSERT INTO chargebacks (order_id, reason, created_at)
        SELECT o.id, 'fraud', $1 FROM orders o
        WHERE o.created_at > $1::timestamptz - interval '20 days'
          AND NOT EXISTS (SELECT 1 FROM fraud_reviews f WHERE f.order_id = o.id)
          AND NOT EXISTS (SELECT 1 FROM chargebacks c WHERE c.order_id = o.id)
        ORDER BY o.created_at DESC LIMIT $2
        """,
        now,
        count,
    )


async def fraud_flag(
    conn: asyncpg.Connection, now: datetime, *, count: int, outcome: str | None
) -> None:
    """New fraud reviews for recent orders: pending (the queue grows) or already reviewed with
    `outcome` (a wave of false alarms)."""
    await conn.execute(
        """
        INSERT INTO fraud_reviews (order_id, score, rule, status, outcome, created_at, reviewed_at)
        SELECT o.id, 0.650, 'new_device', CASE WHEN $3::text IS NULL THEN 'pending'
               ELSE 'reviewed' END, $3::text, $1::timestamptz,
               CASE WHEN $3::text IS NULL THEN NULL ELSE $1::timestamptz END
        FROM orders o
        WHERE NOT EXISTS (SELECT 1 FROM fraud_reviews f WHERE f.order_id = o.id)
        ORDER BY o.created_at DESC LIMIT $2
        """,
        now,
        count,
        outcome,
    )


@dataclass
class Trouble:
    """A slow query and a lock held in the demo database, on connections of their own."""

    url: str
    tasks: dict[str, list[asyncio.Task[None]]] = field(default_factory=dict)

    def active(self) -> list[str]:
        return [name for name, tasks in self.tasks.items() if any(not t.done() for t in tasks)]

    def start_slow_query(self, seconds: int = 900) -> None:
        self._start("slow_query", [self._run(f"SELECT pg_sleep({int(seconds)})")])

    def start_lock(self) -> None:
        holder_ready = asyncio.Event()
        self._start("lock", [self._hold_lock(holder_ready), self._wait_for_lock(holder_ready)])

    def _start(self, name: str, jobs: list[object]) -> None:
        if name in self.active():
            for job in jobs:
                job.close()  # type: ignore[attr-defined]
            return
        self.tasks[name] = [asyncio.create_task(j, name=f"demo-{name}") for j in jobs]  # type: ignore[arg-type]

    async def _run(self, sql: str) -> None:
        conn = await asyncpg.connect(self.url)
        try:
            await conn.execute(sql, timeout=None)
        finally:
            await _close(conn)

    async def _hold_lock(self, ready: asyncio.Event) -> None:
        conn = await asyncpg.connect(self.url)
        try:
            async with conn.transaction():
                await conn.execute("UPDATE orders SET status = status WHERE id = 1")
                ready.set()
                await asyncio.Event().wait()  # idle in transaction until released
        finally:
            await _close(conn)

    async def _wait_for_lock(self, ready: asyncio.Event) -> None:
        await ready.wait()
        await self._run("UPDATE orders SET status = 'shipped' WHERE id = 1")

    async def release(self) -> None:
        for tasks in self.tasks.values():
            for task in tasks:
                task.cancel()
            for task in tasks:
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
        self.tasks.clear()


async def _close(conn: asyncpg.Connection) -> None:
    """Close even while a statement runs: terminate, so the server drops it too."""
    if conn.is_closed():
        return
    with contextlib.suppress(Exception):
        conn.terminate()
