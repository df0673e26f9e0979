"""The world panel's "Stop backup heartbeat", in the browser: the sandbox's nightly backup has
checked in (Ratna's /heartbeats in the admin chat shows nightly-backup up); the panel stops
its heartbeat, says so, and the next backup runs without pinging the bot."""

from __future__ import annotations

import re
from typing import Any

from playwright.async_api import expect

from bot.sandbox_cast import BACKUP_HEARTBEAT
from bot.sandbox_cmd import Sandbox
from sandbox.world import cast
from tests.browser.chat import bot_says, open_as, open_chat, send


async def test_the_panel_stops_the_backup_heartbeat(page: Any, sandbox: Sandbox) -> None:
    world = sandbox.world
    assert world is not None
    await open_as(page, sandbox, cast.RATNA.id)
    await open_chat(page, cast.ADMIN_CHAT_ID)
    await send(page, "/heartbeats")
    listing = bot_says(page, BACKUP_HEARTBEAT)
    await expect(listing).to_contain_text("🟢")

    stop = page.locator('[data-action="backup_heartbeat_stop"]')
    if not await stop.is_visible():
        await page.click("#world-toggle")
    await stop.click()
    await expect(stop).to_have_class(re.compile("active"))
    await expect(page.locator("#world-body")).to_contain_text("stopped")
    assert world.heartbeat.stopped

    before = list(world.heartbeat.sent)
    await page.click('[data-action="backup_now"]')
    await expect(page.locator("#world-body")).to_contain_text("stopped")
    assert world.heartbeat.sent == before  # the backup ran and told nobody
