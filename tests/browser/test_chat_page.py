"""The sandbox page as a Telegram client: talk to the bot, press its buttons, switch persons."""

from __future__ import annotations

import re
from typing import Any

import aiohttp
from playwright.async_api import expect

from bot.sandbox_cmd import Sandbox
from sandbox.telegram.client import EmulatorClient
from sandbox.world import cast
from tests.browser.chat import become, bot_says, open_as, open_chat, press, send


async def test_alice_starts_the_bot_chooses_english_and_is_answered_in_english(
    page: Any, sandbox: Sandbox
) -> None:
    await open_as(page, sandbox, cast.ALICE.id)
    await send(page, "/start")
    await expect(bot_says(page, "Please choose your language")).to_be_visible()

    await press(page, "English")

    await expect(bot_says(page, "From now on I will write to you in English.")).to_be_visible()
    await expect(page.locator("#toasts")).to_contain_text("Language saved.")


async def test_the_bots_html_is_rendered_and_a_customers_markup_stays_text(
    page: Any, sandbox: Sandbox
) -> None:
    await open_as(page, sandbox, cast.BUDI.id)
    await send(page, "<b>not bold</b> <img src=x onerror=alert(1)>")
    mine = page.locator("#messages .message.out").last
    await expect(mine).to_contain_text("<b>not bold</b> <img src=x onerror=alert(1)>")
    assert await mine.locator("b, img").count() == 0

    await bot_sends(
        sandbox,
        cast.BUDI.id,
        "<b>Tiket #12</b> <i>dibuka</i> &lt;script&gt; <code>PAY-7</code> "
        '<a href="https://quickcart.id/t/12">lihat</a> /help',
    )

    said = bot_says(page, "Tiket #12")
    await expect(said.locator("b")).to_have_text("Tiket #12")
    await expect(said.locator("i")).to_have_text("dibuka")
    await expect(said.locator("code")).to_have_text("PAY-7")
    await expect(said.locator("a[href='https://quickcart.id/t/12']")).to_have_text("lihat")
    await expect(said).to_contain_text("<script>")
    assert await said.locator("script").count() == 0

    await said.locator("a.command").click()  # a command in the bot's text sends it
    await expect(page.locator("#messages .message.out").last).to_have_text(re.compile("/help"))


async def bot_sends(box: Sandbox, chat_id: int, html: str) -> None:
    """The bot's own send, through the Bot API, as its handlers would."""
    assert box.bot_settings is not None
    url = f"{box.base_url}/bot{box.bot_settings.BOT_TOKEN}/sendMessage"
    async with aiohttp.ClientSession() as http:
        body = {"chat_id": chat_id, "text": html, "parse_mode": "HTML"}
        async with http.post(url, json=body) as response:
            assert (await response.json())["ok"], await response.text()


async def test_a_message_sent_elsewhere_appears_live_without_reloading(
    page: Any, sandbox: Sandbox
) -> None:
    await open_as(page, sandbox, cast.SARI.id)
    await open_chat(page, cast.ADMIN_CHAT_ID)
    await expect(page.locator("#conversation-title")).to_have_text(cast.ADMIN_CHAT_TITLE)

    client = EmulatorClient(sandbox.base_url)
    try:
        await client.send_text(cast.DIMAS.id, cast.ADMIN_CHAT_ID, "Payments look slow to me")
    finally:
        await client.close()

    said = page.locator("#messages .message.in").filter(has_text="Payments look slow to me")
    await expect(said).to_be_visible()
    await expect(said.locator(".author")).to_have_text("Dimas")


async def test_you_are_switches_who_acts_and_which_chats_are_listed(
    page: Any, sandbox: Sandbox
) -> None:
    await open_as(page, sandbox, cast.BUDI.id)
    chats = page.locator("#chat-list .chat-item")
    await expect(chats).to_have_count(1)  # a customer has only the bot

    await become(page, cast.SARI.id)

    admin = page.locator(f'.chat-item[data-chat="{cast.ADMIN_CHAT_ID}"]')
    await expect(admin).to_be_visible()
    # two forums now: the support group and the incidents chat (the incident rooms)
    forums = page.locator(".forum-title")
    await expect(forums).to_have_count(2)
    await expect(forums.filter(has_text=cast.SUPPORT_CHAT_TITLE)).to_be_visible()
    await expect(forums.filter(has_text=cast.INCIDENT_CHAT_TITLE)).to_be_visible()
    await open_chat(page, cast.ADMIN_CHAT_ID)
    await send(page, "hello team")
    mine = page.locator("#messages .message.out").filter(has_text="hello team")
    await expect(mine).to_have_attribute("data-from", str(cast.SARI.id))


async def test_an_incident_gets_its_room_as_a_topic_of_the_incidents_forum(
    page: Any, sandbox: Sandbox
) -> None:
    await open_as(page, sandbox, cast.RATNA.id)
    await open_chat(page, cast.ADMIN_CHAT_ID)
    await send(page, "/incident P1 Checkout down")
    await expect(bot_says(page, "QC-000001")).to_be_visible()
    room = page.locator(".chat-item.topic").filter(has_text="QC-000001 · P1 · Checkout down")
    await expect(room).to_be_visible(timeout=15_000)
    await room.click()
    summary = page.locator("#messages .message.from-bot").filter(has_text="Pelanggan terdampak")
    await expect(summary).to_be_visible(timeout=15_000)
    client = EmulatorClient(sandbox.base_url)
    try:
        [topic] = await client.topics(cast.INCIDENT_CHAT_ID)
    finally:
        await client.close()
    assert topic["name"] == "QC-000001 · P1 · Checkout down"
