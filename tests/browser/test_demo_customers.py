"""The world panel's demo customers, in the browser: Sari (support) watches the support forum
while the panel's "4 customers complain" sends four customers to the bot; their tickets appear
as topics, the panel counts them. "8 customers block the bot": eight more tickets, and the
panel says eight blocked the bot (Telegram then refuses the bot's answers to them;
tests/integration/alerts/test_critical_metrics_bot_side.py checks the alerts this fires)."""

from __future__ import annotations

from typing import Any

import asyncpg
from playwright.async_api import expect

from bot.sandbox_cmd import Sandbox
from sandbox.world import cast
from sandbox.world.customers import FIRST_ID
from tests.browser.chat import open_as


async def test_the_panels_demo_customers_open_tickets_staff_see(
    page: Any, sandbox: Sandbox
) -> None:
    await open_as(page, sandbox, cast.SARI.id)
    complain = page.locator('[data-action="complaints"]')
    if await page.locator("#world").is_hidden():  # closed on a narrow page, or by choice
        await page.click("#world-toggle")
    await expect(complain).to_be_visible()  # the panel's first refresh has drawn it
    await complain.click()
    customers = page.locator(".world-row", has_text="Demo customers in the chats")
    await expect(customers).to_contain_text("4 (0 blocked the bot)", timeout=30_000)
    topics = page.locator(".chat-item.topic").filter(has_text="Pelanggan Demo")
    await expect(topics).to_have_count(4, timeout=15_000)

    await page.click('[data-action="customers_block"]')
    await expect(customers).to_contain_text("12 (8 blocked the bot)", timeout=30_000)
    # the support group takes 20 messages a minute: the new topics arrive over the next minute
    await expect(topics.nth(4)).to_be_visible(timeout=30_000)
    pool = await asyncpg.connect(sandbox.settings.DATABASE_URL)
    try:
        opened = await pool.fetchval(
            "SELECT count(*) FROM tickets WHERE customer_id >= $1", FIRST_ID
        )
    finally:
        await pool.close()
    assert opened == 12  # every demo customer's ticket, the blockers' too
