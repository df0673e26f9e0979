"""The fraud probe (configurable SQL over QuickCart's database) and the bot's self-check."""

from __future__ import annotations

from datetime import timedelta

import asyncpg

from services import outbox
from services.checks.model import Status
from services.checks.probes import bot, fraud
from services.checks.runner import run_one


async def _reviews(url: str, clock, *, pending: int, false_positives: int, reviewed: int) -> None:
    conn = await asyncpg.connect(url)
    try:
        await conn.execute(
            "CREATE TABLE fraud_reviews "
            "(id serial, status text, outcome text, reviewed_at timestamptz)"
        )
        await conn.execute(
            "INSERT INTO fraud_reviews (status) SELECT 'pending' FROM generate_series(1, $1)",
            pending,
        )
        for i in range(reviewed):
            await conn.execute(
                "INSERT INTO fraud_reviews (status, outcome, reviewed_at) VALUES ('done', $1, $2)",
                "false_positive" if i < false_positives else "fraud",
                clock.now() - timedelta(days=3),
            )
    finally:
        await conn.close()


async def test_a_long_review_queue_is_critical(make_ctx, empty_db_url, clock):
    await _reviews(empty_db_url, clock, pending=150, false_positives=3, reviewed=100)
    result = await run_one("fraud", fraud.probe, make_ctx(monitor_database_url=empty_db_url))
    assert result.status is Status.CRIT
    assert result.summary == "150 payments wait for manual fraud review."
    assert result.value("false_positive_percent") == 3.0


async def test_a_high_false_positive_rate_warns_then_alerts(make_ctx, empty_db_url, clock):
    await _reviews(empty_db_url, clock, pending=10, false_positives=12, reviewed=100)
    result = await run_one("fraud", fraud.probe, make_ctx(monitor_database_url=empty_db_url))
    assert result.status is Status.CRIT
    assert result.summary == "12.0 % of 100 reviewed cases in 30 days were false positives."


async def test_custom_sql_from_the_rules_is_used(make_ctx, empty_db_url):
    rules = {
        "fraud": {
            "queue_sql": "SELECT 7",
            "false_positive_sql": "SELECT 1, 50 WHERE $1::timestamptz IS NOT NULL",
        }
    }
    result = await run_one("fraud", fraud.probe, make_ctx(rules, monitor_database_url=empty_db_url))
    assert result.status is Status.OK
    assert result.summary == "7 in the review queue; false positives 2.0 %."


async def test_a_missing_table_is_unknown_not_a_crash(make_ctx, empty_db_url):
    result = await run_one("fraud", fraud.probe, make_ctx(monitor_database_url=empty_db_url))
    assert result.status is Status.UNKNOWN
    assert "UndefinedTableError" in result.summary


async def test_the_bot_reports_its_outbox_backlog(make_ctx, pool, redis_client, clock):
    for i in range(3):
        await outbox.enqueue(
            pool,
            outbox.OutboxMessage(
                chat_id=1,
                kind="text",
                payload={"text": str(i)},
                not_before=clock.now() - timedelta(minutes=10),
            ),
        )
    result = await run_one("bot", bot.probe, make_ctx(db=pool, redis=redis_client))
    assert result.status is Status.WARN  # the oldest waits 10 min > 5 min
    assert result.value("outbox_backlog") == 3
    assert 599 <= result.value("outbox_oldest_seconds") <= 601
