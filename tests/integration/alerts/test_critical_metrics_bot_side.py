"""The two CRITICAL_METRICS that live in the bot's own records fire from the world panel too,
through the bot's own doors (the panel never writes the bot's tables): the whole sandbox runs
(`bot.sandbox_cmd.running`: the Telegram emulator, the demo QuickCart, the bot polling it), and
the panel's buttons send demo customers to the bot in the emulator.

- "4 customers complain": four customers write to the bot and open tickets by its buttons; the
  complaint rate (the desk's tickets in 24 h per active QuickCart customer, 400 in the demo)
  passes 0.5 %.
- "8 customers block the bot": eight more open tickets and block the bot at once; Telegram
  refuses the bot's "your ticket is open" to each (403), and delivery over the hour drops
  below 95 %."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import aiohttp
import asyncpg
import pytest

from bot.monitor import MonitorConfig
from bot.sandbox_cmd import Sandbox
from sandbox.world import customers
from services.alerts.config import AlertsRules
from services.alerts.evaluation import holds
from services.alerts.sources import SourceContext, source_for
from tests.sandboxes import sandbox_on
from tests.waiting import eventually


async def fires(pool: asyncpg.Pool, rule_name: str, sandbox: Sandbox) -> bool:
    rule = AlertsRules().rule(rule_name)
    assert rule is not None and sandbox.world is not None
    samples = await source_for(rule).read(SourceContext(db=pool), sandbox.world.clock.now())
    return any(holds(s.value, rule.op, rule.threshold) for s in samples or [])


async def until(check: Callable[[], Awaitable[bool]], what: str) -> None:
    """What the sandbox's monitoring loop reaches within 45 s (it runs every few seconds)."""
    await eventually(what, check, 45.0, every=0.25)


@pytest.fixture
async def sandbox(
    db_url: str, empty_db_url: str, redis_url: str, tmp_path: Path
) -> AsyncIterator[Sandbox]:
    monitor = MonitorConfig(probe_interval=1.0, tick_interval=1.0)
    async with sandbox_on(db_url, empty_db_url, redis_url, tmp_path / "data", monitor) as box:
        yield box


async def press(sandbox: Sandbox, action: str) -> dict[str, object]:
    async with (
        aiohttp.ClientSession() as http,
        http.post(f"{sandbox.base_url}/world/action", json={"action": action}) as response,
    ):
        body: dict[str, object] = await response.json()
        assert response.status == 200, body
        return body


async def test_the_panels_customers_make_the_complaint_rate_and_telegram_delivery_fire(
    sandbox: Sandbox, pool: asyncpg.Pool
) -> None:
    async def active_counted() -> bool:
        value = await pool.fetchval(
            "SELECT value FROM check_samples WHERE check_name = 'payment'"
            " AND key = 'active_customers' ORDER BY id DESC LIMIT 1"
        )
        return value is not None and value > 0

    await until(active_counted, "the payment check counts QuickCart's active customers")
    assert not await fires(pool, "UserComplaintRateHigh", sandbox)
    assert not await fires(pool, "TelegramDeliveryLow", sandbox)

    view = await press(sandbox, "complaints")
    assert view["demo_customers"] == {"customers": customers.COMPLAINERS, "blocked": 0}
    tickets = await pool.fetch(
        "SELECT customer_id, channel, category FROM tickets WHERE customer_id >= $1",
        customers.FIRST_ID,
    )  # the bot opened them, and told each customer: the panel only played the customers
    assert len(tickets) == customers.COMPLAINERS
    assert {(t["channel"], t["category"]) for t in tickets} == {("bot", "order")}

    async def complaints_fire() -> bool:
        return await fires(pool, "UserComplaintRateHigh", sandbox)

    await until(complaints_fire, "the complaint rate passes 0.5 %")
    assert not await fires(pool, "TelegramDeliveryLow", sandbox)  # every answer arrived

    view = await press(sandbox, "customers_block")
    assert view["demo_customers"] == {
        "customers": customers.COMPLAINERS + customers.BLOCKERS,
        "blocked": customers.BLOCKERS,
    }

    async def delivery_fires() -> bool:
        return await fires(pool, "TelegramDeliveryLow", sandbox)

    await until(delivery_fires, "Telegram delivery drops below 95 %")

    async def all_refused() -> bool:
        count = await pool.fetchval("SELECT count(*) FROM outbox WHERE status = 'failed'")
        return bool(count == customers.BLOCKERS)

    await until(all_refused, "Telegram refuses the bot's answer to each blocking customer")
    refused = await pool.fetch(
        "SELECT chat_id, last_error FROM outbox WHERE status = 'failed' ORDER BY chat_id"
    )
    assert len(refused) == customers.BLOCKERS
    assert all(r["chat_id"] >= customers.FIRST_ID for r in refused)
    assert all("blocked" in (r["last_error"] or "") for r in refused)
