"""The two CRITICAL_METRICS that live in the bot's own records fire too: the user complaint
rate (customers' tickets at the desk per active QuickCart customer, the payment check counting
the active ones in the demo database) and Telegram message delivery (customers who blocked the
bot make sends fail for good). Both are what people do in the sandbox's web chat, not buttons
of the world panel."""

from __future__ import annotations

from datetime import UTC, datetime

import asyncpg
from redis.asyncio import Redis

from sandbox.world import demo_db
from services import outbox, users
from services.alerts.config import AlertsRules
from services.alerts.evaluation import holds
from services.alerts.sources import SourceContext, source_for
from services.checks.config import ChecksRules, Targets
from services.checks.probe import ProbeContext
from services.checks.runner import run_checks
from services.classification import Category
from services.clock import FrozenClock
from services.rules import Rules
from services.tickets import desk
from services.tickets.config import DeskConfig


async def fires(pool: asyncpg.Pool, rule_name: str, now: datetime) -> bool:
    rule = AlertsRules().rule(rule_name)
    assert rule is not None
    samples = await source_for(rule).read(SourceContext(db=pool), now)
    return any(holds(s.value, rule.op, rule.threshold) for s in samples or [])


async def test_customers_opening_tickets_raise_the_complaint_rate_past_half_a_percent(
    pool: asyncpg.Pool, redis_client: Redis, empty_db_url: str
) -> None:
    now = datetime.now(UTC)
    await demo_db.seed(empty_db_url, now)
    clock = FrozenClock(now)
    ctx = ProbeContext(
        targets=Targets(monitor_database_url=empty_db_url),
        rules=ChecksRules(),
        clock=clock,
        db=pool,
    )
    await run_checks(ctx, ["payment", "bot"], trigger="schedule")  # counts the active customers
    conn = await asyncpg.connect(empty_db_url)
    try:
        active = await conn.fetchval(ChecksRules().payment.active_customers_sql, now)
    finally:
        await conn.close()
    assert await fires(pool, "UserComplaintRateHigh", now) is False  # nobody complained
    cfg = DeskConfig.build(
        support_chat_id=-100777, timezone="Asia/Jakarta", staff_locale="en", rules=Rules()
    )
    needed = int(active * 0.005) + 1  # just past 0.5 % of the active customers
    for n in range(needed):
        customer = await users.touch(pool, 5000 + n, first_name=f"Pelanggan {n}")
        await desk.open_ticket(
            pool, redis_client, cfg, clock, customer=customer, category=Category.ORDER,
            description="Pesanan saya belum sampai",
        )  # fmt: skip
    await run_checks(ctx, ["payment", "bot"], trigger="schedule")
    assert await fires(pool, "UserComplaintRateHigh", now)
    value = await pool.fetchval(
        "SELECT value FROM check_samples WHERE key = 'complaint_rate_percent'"
        " ORDER BY id DESC LIMIT 1"
    )
    assert value == needed * 100.0 / active


async def test_sends_refused_for_good_lower_telegram_delivery(pool: asyncpg.Pool) -> None:
    now = datetime.now(UTC)
    for n in range(20):
        row = await outbox.enqueue(
            pool, outbox.OutboxMessage(chat_id=6000 + n, kind="text", payload={"text": "Halo"})
        )
        status = "failed" if n < 2 else "sent"  # two customers blocked the bot: 90 %
        await pool.execute("UPDATE outbox SET status = $2 WHERE id = $1", row, status)
    assert await fires(pool, "TelegramDeliveryLow", now)
    await pool.execute("UPDATE outbox SET status = 'sent'")
    assert not await fires(pool, "TelegramDeliveryLow", now)
