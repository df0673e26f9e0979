"""Every default rule that reads the bot's own database runs against the real schema: a query
PostgreSQL refuses would be "no data" forever, and the rule would never fire."""

from __future__ import annotations

from datetime import UTC, datetime

import asyncpg
import pytest

from services.alerts.config import SqlMetric, default_rules
from services.alerts.sources import SourceContext, SqlSource

OWN_SQL_RULES = [
    r for r in default_rules() if isinstance(r.metric, SqlMetric) and r.metric.database == "own"
]


@pytest.mark.parametrize("rule", OWN_SQL_RULES, ids=lambda r: r.name)
async def test_the_query_runs_on_the_bot_s_own_schema(pool: asyncpg.Pool, rule) -> None:
    assert isinstance(rule.metric, SqlMetric)
    args = (datetime.now(UTC),) if "$1" in rule.metric.query else ()
    async with pool.acquire() as conn, conn.transaction(readonly=True):
        await conn.fetch(rule.metric.query, *args)  # raises if PostgreSQL refuses it


async def test_telegram_delivery_low_fires_on_a_bad_hour(pool: asyncpg.Pool) -> None:
    rule = next(r for r in OWN_SQL_RULES if r.name == "TelegramDeliveryLow")
    await pool.execute(
        "INSERT INTO outbox (chat_id, kind, payload, status) "
        "SELECT 1, 'text', '{}'::jsonb, CASE WHEN n <= 15 THEN 'sent' ELSE 'failed' END "
        "FROM generate_series(1, 20) AS n"
    )
    samples = await SqlSource(rule.metric).read(  # type: ignore[arg-type]
        SourceContext(db=pool, monitor_db=None), datetime.now(UTC)
    )
    assert samples is not None and samples[0].value == pytest.approx(75.0)
