"""The world panel's "Payday outage", in the browser: Ratna (CTO) raises "Pakasir: payments
failing" in the admin chat and declares it customer-facing; the panel breaks the gateway and
200 demo customers start writing; the incident's one card in the admin chat counts them up
in place (no message per customer), and the panel shows how many have written."""

from __future__ import annotations

import re
from typing import Any

from playwright.async_api import expect

from bot.sandbox_cmd import Sandbox
from sandbox.world import cast
from tests.browser.chat import bot_says, open_as, open_chat, send


def affected(text: str) -> int:
    found = re.search(r"👥 (\d+)", text)
    return int(found[1]) if found else 0


async def test_the_payday_outage_counts_up_on_the_incident_card(
    page: Any, sandbox: Sandbox
) -> None:
    assert sandbox.world is not None
    await open_as(page, sandbox, cast.RATNA.id)
    await open_chat(page, cast.ADMIN_CHAT_ID)
    await send(page, "/incident P1 Pakasir: payments failing")
    await expect(bot_says(page, "QC-")).to_be_visible()
    await send(page, "/incident public QC-000001 payment")
    card = bot_says(page, "👥")
    await expect(card).to_contain_text("0", timeout=20_000)

    outage = page.locator('[data-action="payday_outage"]')
    if not await outage.is_visible():
        await page.click("#world-toggle")
    await outage.click()
    await expect(page.locator("#world-body")).to_contain_text("/ 200", timeout=10_000)

    first = 0
    for _ in range(60):  # the card is edited in place as customers write
        first = affected(await bot_says(page, "👥").inner_text())
        if first > 0:
            break
        await page.wait_for_timeout(1000)
    assert first > 0, "the card never counted a customer"
    later = first
    for _ in range(60):
        later = affected(await bot_says(page, "👥").inner_text())
        if later > first:
            break
        await page.wait_for_timeout(1000)
    assert later > first, f"the card stayed at {first}"
    # one card, edited: not a message per customer
    assert await page.locator("#messages .message.from-bot").filter(has_text="👥").count() == 1
