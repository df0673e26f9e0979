"""The control API the web chat page and the benchmarks rely on."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import aiohttp
from aiogram import Bot

from sandbox.telegram import EmulatorClient, TelegramEmulator
from tests.cast import ALICE


async def test_events_stream_what_happens(
    bot: Bot, tg: EmulatorClient, emulator: TelegramEmulator
) -> None:
    events: list[dict[str, Any]] = []

    async def listen() -> None:
        async with (
            aiohttp.ClientSession() as http,
            http.get(f"{emulator.base_url}/control/events") as response,
        ):
            async for line in response.content:
                if line.startswith(b"data: "):
                    events.append(json.loads(line[6:]))
                    if len(events) == 3:
                        return

    listener = asyncio.create_task(listen())
    await asyncio.sleep(0.2)
    await tg.send_text(ALICE, ALICE, "hi")
    sent = await bot.send_message(ALICE, "<b>hello</b>")
    await bot.edit_message_text(text="hello again", chat_id=ALICE, message_id=sent.message_id)
    await asyncio.wait_for(listener, 3)
    assert [e["type"] for e in events] == ["message_new", "message_new", "message_edited"]
    assert events[1]["message"]["html"] == "<b>hello</b>"


async def test_reset_empties_the_world(bot: Bot, tg: EmulatorClient) -> None:
    await bot.send_message(ALICE, "before")
    await tg.reset()
    assert await tg.chats() == []
    assert (await tg.stats())["calls"] == {}


async def test_a_timeout_names_what_the_chat_holds(bot: Bot, tg: EmulatorClient) -> None:
    await bot.send_message(ALICE, "something else")
    try:
        await tg.wait_for_message(ALICE, predicate=lambda m: "ticket" in m["text"], timeout=0.2)
    except AssertionError as error:
        assert "something else" in str(error)
    else:
        raise AssertionError("wait_for_message should have timed out")
