"""The ground floor, end to end: language, help, menus, duplicate updates, webhook mode."""

from __future__ import annotations

import aiohttp
from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.types import BotCommandScopeAllPrivateChats, BotCommandScopeChat

from tests.cast import ADMIN, ALICE, BUDI
from tests.e2e.conftest import World
from tests.net import free_port


def _buttons(message: dict) -> list[dict]:
    markup = message.get("reply_markup") or {}
    return [button for row in markup.get("inline_keyboard", []) for button in row]


async def _choose_language(world: World, user_id: int, code: str) -> dict:
    prompt = await world.reply_to(user_id)
    button = next(b for b in _buttons(prompt) if b["callback_data"] == f"lang:{code}")
    query_id = await world.tg.press(user_id, user_id, prompt["message_id"], button["callback_data"])
    answer = await world.tg.callback_answer(query_id)
    confirmation = await world.reply_to(user_id, after=prompt["message_id"])
    return {"answer": answer, "confirmation": confirmation}


async def test_budi_is_asked_his_language_first_and_then_welcomed_in_indonesian(
    world: World,
) -> None:
    await world.send(BUDI, "/start")
    chosen = await _choose_language(world, BUDI, "id")
    assert chosen["answer"]["text"] == "Bahasa disimpan."
    assert "Bahasa Indonesia" in chosen["confirmation"]["text"]

    sent = await world.send(BUDI, "/start")
    welcome = await world.reply_to(BUDI, after=sent["message_id"])
    assert welcome["text"].startswith("Halo, Budi!")


async def test_alice_chooses_english_and_the_bot_speaks_english(world: World) -> None:
    await world.send(ALICE, "/start")
    chosen = await _choose_language(world, ALICE, "en")
    assert chosen["answer"]["text"] == "Language saved."

    sent = await world.send(ALICE, "/help")
    help_text = await world.reply_to(ALICE, after=sent["message_id"])
    assert help_text["text"].startswith("Write to me about any problem with QuickCart")


async def test_staff_get_the_staff_help(world: World) -> None:
    sent = await world.send(ADMIN, "/help")
    reply = await world.reply_to(ADMIN, after=sent["message_id"])
    assert reply["text"].startswith("Perintah staf: /health")


async def test_an_update_delivered_twice_is_handled_once(world: World) -> None:
    sent = await world.send(BUDI, "/help")
    first = await world.reply_to(BUDI, after=sent["message_id"])
    update = {
        "update_id": 990001,
        "message": {
            "message_id": 424242,
            "date": 1_700_000_000,
            "chat": {"id": BUDI, "type": "private", "first_name": "Budi"},
            "from": {"id": BUDI, "is_bot": False, "first_name": "Budi"},
            "text": "/help",
            "entities": [{"type": "bot_command", "offset": 0, "length": 5}],
        },
    }
    await world.tg.inject_update(update)
    await world.tg.inject_update(update)
    second = await world.reply_to(BUDI, after=first["message_id"])
    # A third message after the duplicate marker would be the duplicate's answer.
    marker = await world.send(BUDI, "/help")
    after_marker = await world.reply_to(BUDI, after=marker["message_id"])
    bot_replies = [
        m
        for m in await world.tg.messages(BUDI)
        if m["from"]["id"] != BUDI and second["message_id"] < m["message_id"] < marker["message_id"]
    ]
    assert bot_replies == []
    assert after_marker["text"] == second["text"]


async def test_the_admin_menu_is_registered_only_for_the_admin_chat(world: World) -> None:
    bot = Bot(
        world.settings.BOT_TOKEN or "",
        session=AiohttpSession(api=TelegramAPIServer.from_base(world.emulator.base_url)),
    )
    try:
        admin = await bot.get_my_commands(scope=BotCommandScopeChat(chat_id=world.admin_chat_id))
        private = await bot.get_my_commands(scope=BotCommandScopeAllPrivateChats())
        private_en = await bot.get_my_commands(
            scope=BotCommandScopeAllPrivateChats(), language_code="en"
        )
    finally:
        await bot.session.close()
    admin_names = {c.command for c in admin}
    private_names = {c.command for c in private}
    assert {"health", "backupstatus", "escalate"} <= admin_names
    assert "health" not in private_names and {"start", "help", "language"} <= private_names
    assert next(c for c in private if c.command == "language").description == "Pilih bahasa Anda"
    assert (
        next(c for c in private_en if c.command == "language").description == "Choose your language"
    )


async def test_health_ready_and_metrics_endpoints(world: World) -> None:
    await world.send(BUDI, "/help")
    await world.reply_to(BUDI)
    async with aiohttp.ClientSession() as http:
        async with http.get(world.http_base + "/healthz") as response:
            assert response.status == 200
        async with http.get(world.http_base + "/readyz") as response:
            assert response.status == 200
            assert (await response.json())["status"] == "ready"
        async with http.get(world.http_base + "/metrics") as response:
            body = await response.text()
    assert 'qc_updates_total{outcome="handled"}' in body
    assert 'qc_bot_api_calls_total{method="SendMessage",outcome="ok"}' in body


async def test_webhook_mode_checks_the_secret(world_unstarted: World) -> None:
    world = world_unstarted
    port = free_port()
    world.settings = world.settings.model_copy(
        update={
            "WEBHOOK_URL": f"http://127.0.0.1:{port}",
            "WEBHOOK_SECRET": "s3cret-hook-" + "x" * 32,
            "HTTP_PORT": port,
        }
    )
    await world.start_bot(port=port)

    sent = await world.send(BUDI, "/help")
    reply = await world.reply_to(BUDI, after=sent["message_id"])
    assert reply["text"].startswith("Tulis kepada saya")

    async with aiohttp.ClientSession() as http:
        async with http.post(
            f"http://127.0.0.1:{port}/telegram/webhook",
            json={"update_id": 5, "message": None},
            headers={"X-Telegram-Bot-Api-Secret-Token": "wrong"},
        ) as response:
            assert response.status == 401
        async with http.post(
            f"http://127.0.0.1:{port}/telegram/webhook", json={"update_id": 6}
        ) as response:
            assert response.status == 401
