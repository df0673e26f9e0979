"""How updates reach the bot: long polling and webhooks."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest
from aiogram import Bot
from aiogram.exceptions import TelegramBadRequest, TelegramConflictError
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup
from aiohttp import web

from sandbox.telegram import EmulatorClient
from tests.cast import ALICE, BUDI
from tests.waiting import at_most


async def test_long_poll_returns_as_soon_as_a_user_writes(bot: Bot, tg: EmulatorClient) -> None:
    started = time.monotonic()
    poll = asyncio.create_task(bot.get_updates(timeout=5))
    await asyncio.sleep(0.2)
    await tg.send_text(ALICE, ALICE, "hello")
    updates = await asyncio.wait_for(poll, 3)
    assert time.monotonic() - started < 2
    assert [u.message.text for u in updates if u.message] == ["hello"]


async def test_an_empty_poll_waits_for_its_timeout(bot: Bot) -> None:
    started = time.monotonic()
    assert await bot.get_updates(timeout=1) == []
    assert time.monotonic() - started >= 0.9


async def test_offset_confirms_earlier_updates(bot: Bot, tg: EmulatorClient) -> None:
    for text in ("one", "two", "three"):
        await tg.send_text(ALICE, ALICE, text)
    first = await bot.get_updates()
    assert [u.message.text for u in first if u.message] == ["one", "two", "three"]
    rest = await bot.get_updates(offset=first[1].update_id + 1)
    assert [u.update_id for u in rest] == [first[2].update_id]
    assert await bot.get_updates(offset=first[2].update_id + 1) == []


async def test_allowed_updates_filter_and_are_remembered(bot: Bot, tg: EmulatorClient) -> None:
    sent = await bot.send_message(
        ALICE,
        "Pick",
        reply_markup=InlineKeyboardMarkup(
            inline_keyboard=[[InlineKeyboardButton(text="A", callback_data="a")]]
        ),
    )
    await bot.get_updates(allowed_updates=["message"])
    await tg.press(ALICE, ALICE, sent.message_id, "a")
    await tg.send_text(ALICE, ALICE, "text")
    updates = await bot.get_updates()  # no allowed_updates: the last list still holds
    assert [u.event_type for u in updates] == ["message"]


async def test_a_command_carries_a_bot_command_entity(bot: Bot, tg: EmulatorClient) -> None:
    group = await tg.create_chat("Ops", members=[ALICE])
    await tg.send_text(ALICE, group["id"], "/status@quickcart_support_bot now")
    await tg.send_text(ALICE, ALICE, "/start ref_42")
    updates = await bot.get_updates()
    entities = [u.message.entities for u in updates if u.message]
    assert [(e.type, e.offset, e.length) for e in entities[0] or []] == [("bot_command", 0, 29)]
    assert [(e.type, e.offset, e.length) for e in entities[1] or []] == [("bot_command", 0, 6)]
    assert updates[1].message is not None and updates[1].message.from_user is not None
    assert updates[1].message.from_user.username == "alice"


async def test_a_button_press_reaches_the_bot_and_its_answer_is_readable(
    bot: Bot, tg: EmulatorClient
) -> None:
    keyboard = InlineKeyboardMarkup(
        inline_keyboard=[[InlineKeyboardButton(text="Ack", callback_data="t:12:ack")]]
    )
    sent = await bot.send_message(BUDI, "Ticket 12", reply_markup=keyboard)
    query_id = await tg.press(BUDI, BUDI, sent.message_id, "t:12:ack")
    (update,) = await bot.get_updates()
    query = update.callback_query
    assert query is not None and query.id == query_id and query.data == "t:12:ack"
    assert query.message is not None and query.message.message_id == sent.message_id
    assert await bot.answer_callback_query(query.id, text="Acknowledged", show_alert=True)
    answer = await tg.callback_answer(query_id)
    assert answer["text"] == "Acknowledged" and answer["show_alert"] is True
    with pytest.raises(TelegramBadRequest, match="query is too old and response timeout expired"):
        await bot.answer_callback_query(query.id)
    with pytest.raises(TelegramBadRequest, match="query ID is invalid"):
        await bot.answer_callback_query("123")


async def test_a_forged_press_needs_force(bot: Bot, tg: EmulatorClient) -> None:
    sent = await bot.send_message(BUDI, "no buttons")
    with pytest.raises(Exception, match="has no button"):
        await tg.press(BUDI, BUDI, sent.message_id, "t:1:esc")
    assert await tg.press(BUDI, BUDI, sent.message_id, "t:1:esc", force=True)


async def test_the_same_update_can_be_delivered_twice(bot: Bot, tg: EmulatorClient) -> None:
    message = await tg.send_text(ALICE, ALICE, "once")
    (original,) = await bot.get_updates()
    fields = ("message_id", "date", "chat", "from", "text")
    raw = {"update_id": original.update_id, "message": {k: message[k] for k in fields}}
    await tg.inject_update(raw)
    again = await bot.get_updates(offset=original.update_id)
    assert [u.update_id for u in again] == [original.update_id, original.update_id]


async def test_webhook_delivery_carries_the_secret(bot: Bot, tg: EmulatorClient) -> None:
    received: list[tuple[str | None, dict[str, Any]]] = []
    attempts = 0

    async def hook(request: web.Request) -> web.Response:
        nonlocal attempts
        attempts += 1
        if attempts == 1:
            return web.Response(status=500)  # Telegram retries
        received.append(
            (request.headers.get("X-Telegram-Bot-Api-Secret-Token"), await request.json())
        )
        return web.json_response({})

    app = web.Application()
    app.router.add_post("/telegram/webhook", hook)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    try:
        url = f"http://127.0.0.1:{port}/telegram/webhook"
        assert await bot.set_webhook(url, secret_token="s3cret", drop_pending_updates=True)
        with pytest.raises(TelegramConflictError, match="can't use getUpdates method"):
            await bot.get_updates()
        await tg.send_text(ALICE, ALICE, "via webhook")
        await at_most(5, lambda: received)
        secret, update = received[0]
        assert secret == "s3cret"
        assert update["message"]["text"] == "via webhook"
        info = await bot.get_webhook_info()
        assert info.url == url and info.pending_update_count == 0
        assert info.last_error_message == "Wrong response from the webhook: 500"
        assert await bot.delete_webhook()
        assert (await bot.get_webhook_info()).url == ""
    finally:
        await runner.cleanup()
