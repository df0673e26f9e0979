"""What a new operator saw first on the page (issue 13, item 16): the demo clock in the
browser's time while the bot speaks Jakarta time, topic avatars showing half an emoji, and a
chat column one character wide on a phone."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import aiohttp
import pytest
from playwright.async_api import expect

from bot.sandbox_cmd import Sandbox
from sandbox.world import cast
from tests.browser.chat import bot_says, open_as, open_chat, send
from tests.browser.conftest import ARTIFACTS

# A browser far from Jakarta: whatever the page shows must not come from here.
NEW_YORK = pytest.mark.browser_context(timezone_id="America/New_York", locale="en-US")
BOT_TIME = re.compile(r"^(\d{4}-\d{2}-\d{2} \d{2}:\d{2}) (\S+)$")  # as the bot writes times


@NEW_YORK
@pytest.mark.parametrize(
    ("zone", "abbreviation"),
    [
        pytest.param("Asia/Jakarta", "WIB", id="default-jakarta"),
        pytest.param(
            "Asia/Makassar",
            "WITA",
            id="makassar",
            marks=pytest.mark.sandbox_settings(TIMEZONE="Asia/Makassar"),
        ),
    ],
)
async def test_the_world_clock_shows_the_bots_time_zone_the_way_the_bot_writes_times(
    page: Any, sandbox: Sandbox, zone: str, abbreviation: str
) -> None:
    assert sandbox.world is not None
    await open_as(page, sandbox, cast.RATNA.id)
    clock = page.locator(".world-section", has_text="Demo clock").locator(".world-value").first
    await expect(clock).to_have_text(BOT_TIME)

    shown = BOT_TIME.match(await clock.inner_text())
    assert shown is not None
    assert shown[2] == abbreviation
    at = datetime.strptime(shown[1], "%Y-%m-%d %H:%M").replace(tzinfo=ZoneInfo(zone))
    assert abs(at - sandbox.world.clock.now()) < timedelta(minutes=2)


async def test_topic_avatars_show_a_whole_emoji_never_half_of_one(
    page: Any, sandbox: Sandbox
) -> None:
    names = {
        "🆕 QC-000003 · P1 · Budi Santoso": "🆕",
        "👩‍💻 Pairing with the gateway team": "👩‍💻",  # a ZWJ sequence, one grapheme
        "🇮🇩 Jakarta office": "🇮🇩",  # a flag: two regional indicators, one grapheme
        "Quarterly review": "QR",
    }
    for name in names:
        await create_topic(sandbox, cast.SUPPORT_CHAT_ID, name)

    await open_as(page, sandbox, cast.SARI.id)
    for name, avatar in names.items():
        item = page.locator(".chat-item.topic").filter(has_text=name.split(" ", 1)[1])
        await expect(item.locator(".avatar")).to_have_text(avatar)
    avatars = await page.locator(".avatar").all_inner_texts()
    assert not [a for a in avatars if re.search(r"[\ud800-\udfff]|\ufffd", a)], avatars

    await page.locator(".chat-item.topic").filter(has_text="QC-000003").click()
    await expect(page.locator("#conversation-avatar")).to_have_text("🆕")
    ARTIFACTS.mkdir(exist_ok=True)
    await page.locator("#sidebar").screenshot(path=str(ARTIFACTS / "topic-avatars.png"))


@pytest.mark.browser_context(viewport={"width": 420, "height": 860})
async def test_on_a_420_px_phone_the_chat_column_keeps_its_width(
    page: Any, sandbox: Sandbox
) -> None:
    await open_as(page, sandbox, cast.SARI.id)
    ARTIFACTS.mkdir(exist_ok=True)
    await page.screenshot(path=str(ARTIFACTS / "phone-420-opened.png"))
    await chat_column_is_readable(page)

    await send(page, "/help")
    await expect(bot_says(page, "/health")).to_be_visible()
    await send(page, "Payments look slow to me today")
    mine = page.locator("#messages .message.out").filter(has_text="Payments look slow")
    await expect(mine).to_be_visible()
    await page.screenshot(path=str(ARTIFACTS / "phone-420.png"))
    await chat_column_is_readable(page)
    line = await mine.locator(".text").bounding_box()
    assert line is not None and line["height"] < 60, line  # one or two lines, not thirty

    # Back to the list of chats, into the admin chat, and the world panel over everything.
    await page.click("#back-to-chats")
    await expect(page.locator("#chat-list")).to_be_visible()
    await open_chat(page, cast.ADMIN_CHAT_ID)
    await expect(page.locator("#conversation-title")).to_have_text(cast.ADMIN_CHAT_TITLE)
    await chat_column_is_readable(page)
    await page.click("#back-to-chats")
    await page.click("#world-toggle")
    world = await page.locator("#world").bounding_box()
    assert world is not None and world["width"] >= 400, world
    await page.screenshot(path=str(ARTIFACTS / "phone-420-world.png"))
    await page.click("#world-close")
    await expect(page.locator("#world")).to_be_hidden()


async def chat_column_is_readable(page: Any) -> None:
    """The chat column is at least 250 px wide and nothing covers its middle."""
    box = await page.locator("#conversation").bounding_box()
    assert box is not None and box["width"] >= 250, f"chat column {box}"
    on_top = await page.evaluate(
        """() => {
            const r = document.getElementById("messages").getBoundingClientRect();
            const hit = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2);
            return document.getElementById("conversation").contains(hit);
        }"""
    )
    assert on_top, "something covers the chat column"


async def create_topic(box: Sandbox, chat_id: int, name: str) -> None:
    """The bot's own createForumTopic, through the Bot API."""
    assert box.bot_settings is not None
    url = f"{box.base_url}/bot{box.bot_settings.BOT_TOKEN}/createForumTopic"
    body = {"chat_id": chat_id, "name": name}
    async with aiohttp.ClientSession() as http, http.post(url, json=body) as response:
        assert (await response.json())["ok"], await response.text()
