"""Who can be reached, and how Telegram says no."""

from __future__ import annotations

import aiohttp
import pytest
from aiogram import Bot
from aiogram.exceptions import (
    TelegramBadRequest,
    TelegramForbiddenError,
    TelegramMigrateToChat,
)
from aiogram.types import BotCommand, BotCommandScopeAllGroupChats, BotCommandScopeChat

from sandbox.telegram import EmulatorClient, TelegramEmulator
from tests.cast import ALICE, BUDI

from .conftest import STAFF


async def test_a_user_who_blocked_the_bot_is_forbidden(bot: Bot, tg: EmulatorClient) -> None:
    await tg.block(BUDI)
    with pytest.raises(TelegramForbiddenError, match="Forbidden: bot was blocked by the user"):
        await bot.send_message(BUDI, "hello")
    await tg.send_text(BUDI, BUDI, "/start")  # writing again unblocks
    assert (await bot.send_message(BUDI, "welcome back")).text == "welcome back"


async def test_nobody_is_messaged_privately_before_writing_to_the_bot(
    bot: Bot, tg: EmulatorClient
) -> None:
    """Dimas was added by id and never pressed Start: Telegram refuses, as it does for real."""
    await tg.create_user(2002, "Dimas")
    with pytest.raises(
        TelegramForbiddenError, match="Forbidden: bot can't initiate conversation with a user"
    ):
        await bot.send_message(2002, "you are on call")
    await tg.send_text(2002, 2002, "/start")
    assert (await bot.send_message(2002, "you are on call")).text == "you are on call"


async def test_unknown_chat_is_not_found(bot: Bot) -> None:
    with pytest.raises(TelegramBadRequest, match="Bad Request: chat not found"):
        await bot.send_message(-100999, "anyone?")


async def test_migrated_group_points_to_the_supergroup(bot: Bot, tg: EmulatorClient) -> None:
    group = await tg.create_chat("Ops", type="group", members=[ALICE], admins=[STAFF])
    new_id = await tg.migrate(group["id"])
    with pytest.raises(TelegramMigrateToChat) as caught:
        await bot.send_message(group["id"], "still there?")
    assert caught.value.migrate_to_chat_id == new_id
    assert "group chat was upgraded to a supergroup chat" in caught.value.message
    sent = await bot.send_message(new_id, "moved")
    assert sent.chat.type == "supergroup"


async def test_members_and_chat_info(bot: Bot, tg: EmulatorClient) -> None:
    group = await tg.create_chat("Support", members=[ALICE], admins=[STAFF], is_forum=True)
    assert (await bot.get_chat_member(group["id"], STAFF)).status == "creator"
    assert (await bot.get_chat_member(group["id"], bot.id)).status == "administrator"
    assert (await bot.get_chat_member(group["id"], ALICE)).status == "member"
    assert (await bot.get_chat_member(group["id"], BUDI)).status == "left"
    info = await bot.get_chat(group["id"])
    assert info.is_forum and info.title == "Support"


async def test_commands_are_kept_per_scope_and_language(bot: Bot, tg: EmulatorClient) -> None:
    group = await tg.create_chat("Ops", admins=[STAFF])
    await bot.set_my_commands([BotCommand(command="start", description="Start")])
    await bot.set_my_commands(
        [BotCommand(command="mulai", description="Mulai")], language_code="id"
    )
    staff_scope = BotCommandScopeChat(chat_id=group["id"])
    await bot.set_my_commands(
        [BotCommand(command="health", description="Health")], scope=staff_scope
    )
    assert [c.command for c in await bot.get_my_commands()] == ["start"]
    assert [c.command for c in await bot.get_my_commands(language_code="id")] == ["mulai"]
    assert [c.command for c in await bot.get_my_commands(scope=staff_scope)] == ["health"]
    assert await bot.get_my_commands(scope=BotCommandScopeAllGroupChats()) == []
    await bot.delete_my_commands(scope=staff_scope)
    assert await bot.get_my_commands(scope=staff_scope) == []
    with pytest.raises(TelegramBadRequest, match="BOT_COMMAND_INVALID"):
        await bot.set_my_commands([BotCommand(command="Bad-Name", description="x")])
    assert len(await tg.commands()) == 2


async def test_plain_http_answers_like_telegram(emulator: TelegramEmulator) -> None:
    base = emulator.base_url
    async with aiohttp.ClientSession() as http:
        async with http.get(f"{base}/bot1:wrong/getMe") as response:
            assert response.status == 401
            assert await response.json() == {
                "ok": False,
                "error_code": 401,
                "description": "Unauthorized",
            }
        async with http.post(f"{base}/bot{emulator.token}/noSuchMethod") as response:
            assert response.status == 404
            assert (await response.json())["description"] == "Not Found"
        async with http.get(f"{base}/bot{emulator.token}/GETME") as response:
            assert (await response.json())["result"]["username"] == "quickcart_support_bot"
        url = f"{base}/bot{emulator.token}/sendMessage"
        async with http.post(url, json={"chat_id": 5}) as response:
            assert (await response.json())["description"] == "Bad Request: message text is empty"
        async with http.post(url, data={"text": "hi"}) as response:
            assert (await response.json())["description"] == "Bad Request: chat_id is empty"
