"""The demo QuickCart database: schema, a few weeks of history, live traffic, and trouble.

Everything here talks to the `quickcart` database in the sandbox's embedded PostgreSQL with
plain asyncpg. History is generated in SQL (`generate_series`), so seeding takes a second.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import asyncpg

DEMO_DATABASE = "quickcart"
HISTORY_DAYS = 62  # two months: the monthly fraud update compares with the month before
ORDERS_PER_HOUR = 12  # about 290 a day

SCHEMA = """
CREATE TABLE IF NOT EXISTS customers (
    id         bigserial PRIMARY KEY,
    name       text NOT NULL,
    email      text NOT NULL,
    created_at timestamptz NOT NULL
);
CREATE TABLE IF NOT EXISTS orders (
    id          bigserial PRIMARY KEY,
    code        text NOT NULL UNIQUE,
    customer_id bigint NOT NULL REFERENCES customers (id),
    total       bigint NOT NULL,
    status      text NOT NULL,           -- pending | paid | failed | shipped
    created_at  timestamptz NOT NULL
);
CREATE INDEX IF NOT EXISTS orders_created_idx ON orders (created_at);
CREATE TABLE IF NOT EXISTS payments (
    id           bigserial PRIMARY KEY,
    order_id     bigint NOT NULL REFERENCES orders (id),
    method       text NOT NULL,          -- qris | bni_va | bri_va | ...
    amount       bigint NOT NULL,
    status       text NOT NULL,          -- pending | completed | failed | expired
    created_at   timestamptz NOT NULL,
    completed_at timestamptz
);
CREATE INDEX IF NOT EXISTS payments_created_idx ON payments (created_at);
CREATE TABLE IF NOT EXISTS fraud_reviews (
    id          bigserial PRIMARY KEY,
    order_id    bigint NOT NULL REFERENCES orders (id),
    score       numeric(4, 3) NOT NULL,
    rule        text NOT NULL,           -- the fraud rule that flagged the order
    status      text NOT NULL,           -- pending | reviewed
    outcome     text,                    -- confirmed_fraud | false_positive | legitimate
    created_at  timestamptz NOT NULL,
    reviewed_at timestamptz
);
CREATE INDEX IF NOT EXISTS fraud_reviews_status_idx ON fraud_reviews (status);
CREATE TABLE IF NOT EXISTS sessions (
    id          bigserial PRIMARY KEY,
    customer_id bigint NOT NULL REFERENCES customers (id),
    started_at  timestamptz NOT NULL,
    outcome     text NOT NULL            -- ok | failed (login or checkout session broke)
);
CREATE INDEX IF NOT EXISTS sessions_started_idx ON sessions (started_at);
CREATE TABLE IF NOT EXISTS chargebacks (
    id          bigserial PRIMARY KEY,
    order_id    bigint NOT NULL REFERENCES orders (id),
    reason      text NOT NULL,           -- fraud | dispute
    created_at  timestamptz NOT NULL
);
"""

# The window lives in a temporary table `w` (start_at, end_at, step), set once per seeding.
HISTORY = """
SELECT setseed(0.42);
INSERT INTO customers (name, email, created_at)
SELECT 'Customer ' || n, 'customer' || n || '@example.id',
       (SELECT start_at FROM w) - interval '90 days'
FROM generate_series(1, 400) AS n;

INSERT INTO orders (code, customer_id, total, status, created_at)
SELECT 'QC-' || to_char(t, 'YYMMDD') || '-' || lpad(n::text, 5, '0'),
       1 + floor(random() * 400)::bigint,
       (5 + floor(random() * 60)) * 5000,
       'paid',
       t
FROM (SELECT row_number() OVER () AS n, t
      FROM w, generate_series(w.start_at, w.end_at, w.step) AS t) s;

INSERT INTO payments (order_id, method, amount, status, created_at, completed_at)
SELECT o.id,
       (ARRAY['qris', 'qris', 'qris', 'bni_va', 'bri_va', 'permata_va'])[1 + floor(random() * 6)],
       o.total,
       CASE WHEN r < 0.985 THEN 'completed' WHEN r < 0.995 THEN 'failed' ELSE 'expired' END,
       o.created_at + interval '5 seconds',
       CASE WHEN r < 0.985
            THEN o.created_at + interval '5 seconds' + (8 + random() * 30) * interval '1 second'
       END
FROM (SELECT o.*,
             -- the demo starts healthy: no failed payment in the last two hours
             CASE WHEN o.created_at > (SELECT end_at FROM w) - interval '2 hours' THEN 0
                  ELSE random() END AS r
      FROM orders o) o;

UPDATE orders o SET status = CASE p.status WHEN 'completed' THEN
           CASE WHEN o.created_at < (SELECT end_at FROM w) - interval '2 days'
                THEN 'shipped' ELSE 'paid' END
       ELSE 'failed' END
FROM payments p WHERE p.order_id = o.id;

-- Fraud reviews: about 3 % of orders are flagged by one of four rules. Each rule has its own
-- character, so the monthly fraud model update has something to say: `velocity` and
-- `address_mismatch` are precise; `new_device` raises false positives at low scores (over the
-- 5 % target, a higher score threshold fixes it); `high_amount` got worse this month.
INSERT INTO fraud_reviews (order_id, score, rule, status, outcome, created_at, reviewed_at)
SELECT id, score, rule,
       CASE WHEN pending THEN 'pending' ELSE 'reviewed' END,
       CASE WHEN pending THEN NULL
            WHEN r_fp < CASE rule
                    WHEN 'velocity' THEN 0.02
                    WHEN 'address_mismatch' THEN 0.04
                    WHEN 'new_device' THEN CASE WHEN score < 0.75 THEN 0.30 ELSE 0.005 END
                    ELSE CASE WHEN created_at > (SELECT end_at FROM w) - interval '30 days'
                                   AND score < 0.70 THEN 0.40 ELSE 0.03 END
                 END THEN 'false_positive'
            WHEN r_fraud < score - 0.25 THEN 'confirmed_fraud'
            ELSE 'legitimate' END,
       created_at,
       CASE WHEN pending THEN NULL ELSE created_at + interval '3 hours' END
FROM (SELECT o.id, o.created_at + interval '1 minute' AS created_at,
             round((0.6 + random() * 0.39)::numeric, 3) AS score,
             (ARRAY['velocity', 'new_device', 'address_mismatch', 'high_amount'])
                 [1 + floor(random() * 4)] AS rule,
             o.created_at > (SELECT end_at FROM w) - interval '1 day' AS pending,
             random() AS r_fp, random() AS r_fraud
      FROM orders o WHERE random() < 0.03) f;

-- Fraud the rules missed: a few chargebacks for fraud on orders no rule flagged (the fraud
-- detection rate stays near 96 %), and sessions for the last day (99.6 % of them work).
INSERT INTO chargebacks (order_id, reason, created_at)
SELECT o.id, 'fraud', o.created_at + interval '2 days'
FROM orders o
WHERE o.id % 1500 = 7 AND o.created_at < (SELECT end_at FROM w) - interval '2 days'
  AND NOT EXISTS (SELECT 1 FROM fraud_reviews f WHERE f.order_id = o.id);
INSERT INTO sessions (customer_id, started_at, outcome)
SELECT o.customer_id, o.created_at - interval '2 minutes',
       CASE WHEN o.id % 250 = 3 THEN 'failed' ELSE 'ok' END
FROM orders o WHERE o.created_at > (SELECT end_at FROM w) - interval '1 day';

-- Abandoned checkouts: one order a day that never got a payment (the app crashed between
-- creating the order and the payment). The weekly maintenance's orphan cleanup finds them.
INSERT INTO orders (code, customer_id, total, status, created_at)
SELECT 'QC-' || to_char(t, 'YYMMDD') || '-X' || lpad(n::text, 4, '0'), 1 + (n % 400), 50000,
       'pending', t
FROM (SELECT row_number() OVER () AS n, t
      FROM w, generate_series(w.start_at + interval '1 hour', w.end_at - interval '1 day',
                              interval '1 day') AS t) s;
"""


# The orphan queries the sandbox runs (RULES_FILE `orphans` for this schema): orders older than
# a week with no payment and no fraud review. $1 of the delete is the batch size.
_ORPHAN_ORDERS = """
FROM orders o
WHERE o.status = 'pending' AND o.created_at < now() - interval '7 days'
  AND NOT EXISTS (SELECT 1 FROM payments p WHERE p.order_id = o.id)
  AND NOT EXISTS (SELECT 1 FROM fraud_reviews f WHERE f.order_id = o.id)
"""
ORPHAN_QUERIES = [
    {
        "name": "orders_without_payment",
        "count_sql": "SELECT count(*)" + _ORPHAN_ORDERS,
        "delete_sql": "DELETE FROM orders WHERE id IN (SELECT o.id" + _ORPHAN_ORDERS + " LIMIT $1)",
        "batch_size": 20,
    }
]


async def ensure_database(admin_url: str) -> None:
    """Create the demo database in the embedded server when it is not there yet."""
    conn = await asyncpg.connect(admin_url)
    try:
        exists = await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", DEMO_DATABASE)
        if not exists:
            await conn.execute(f"CREATE DATABASE {DEMO_DATABASE}")
    finally:
        await conn.close()


async def seed(url: str, now: datetime) -> bool:
    """Schema, and history for the last weeks unless there is some already. True if seeded."""
    conn = await asyncpg.connect(url)
    try:
        await conn.execute(SCHEMA)
        if await conn.fetchval("SELECT count(*) FROM orders") > 0:
            return False
        start = now - timedelta(days=HISTORY_DAYS)
        step = timedelta(hours=1) / ORDERS_PER_HOUR
        async with conn.transaction():
            await conn.execute(
                "CREATE TEMPORARY TABLE w ON COMMIT DROP AS"
                " SELECT $1::timestamptz AS start_at, $2::timestamptz AS end_at,"
                " $3::interval AS step",
                start,
                now,
                step,
            )
            await conn.execute(HISTORY)
        await conn.execute("VACUUM ANALYZE")
        return True
    finally:
        await conn.close()


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


async def summary(url: str, now: datetime) -> dict[str, object]:
    conn = await asyncpg.connect(url)
    try:
        row = await conn.fetchrow(
            """
            SELECT count(*) FILTER (WHERE status <> 'pending') AS finished,
                   count(*) FILTER (WHERE status = 'completed') AS succeeded
            FROM payments WHERE created_at >= $1
            """,
            now - timedelta(hours=1),
        )
        orders = await conn.fetchval("SELECT count(*) FROM orders")
        queue = await conn.fetchval("SELECT count(*) FROM fraud_reviews WHERE status = 'pending'")
    finally:
        await conn.close()
    assert row is not None
    finished = int(row["finished"])
    rate = round(100.0 * int(row["succeeded"]) / finished, 1) if finished else None
    return {
        "orders": orders,
        "payments_last_hour": finished,
        "success_percent": rate,
        "fraud_queue": queue,
    }
