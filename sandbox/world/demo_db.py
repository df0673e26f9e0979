"""The demo QuickCart database as it stands: schema, a few weeks of history, the orphan queries
the sandbox's cleanup job runs, and the summary the world panel shows. What happens to it while
the sandbox runs (live traffic, the panel's trouble buttons) is demo_live.py.

Everything here talks to the `quickcart` database in the sandbox's embedded PostgreSQL with
plain asyncpg. History is generated in SQL (`generate_series`), so seeding takes a second.
"""

from __future__ import annotations

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
