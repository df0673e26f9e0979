"""Topic names as Telegram counts them: the Bot API server hands `name` to TDLib, which cleans
it and keeps at most 128 Unicode code points (`clean_name` -> `utf8_truncate`), cutting a longer
name without an error. UTF-16 code units are what message entities count, not topic names."""

from __future__ import annotations

import pytest
from aiogram import Bot
from aiogram.exceptions import TelegramBadRequest

from sandbox.telegram import EmulatorClient

from .conftest import STAFF

EMOJI = "😀"  # one code point, two UTF-16 code units


async def test_128_code_points_of_emoji_are_kept_whole(bot: Bot, tg: EmulatorClient) -> None:
    support = await tg.create_chat("Support", is_forum=True, admins=[STAFF])
    name = EMOJI * 100 + "x" * 28  # 128 code points, 228 UTF-16 code units
    topic = await bot.create_forum_topic(support["id"], name)
    assert topic.name == name
    (seen,) = await tg.topics(support["id"])
    assert seen["name"] == name


async def test_a_longer_name_is_cut_at_128_code_points_not_refused(
    bot: Bot, tg: EmulatorClient
) -> None:
    support = await tg.create_chat("Support", is_forum=True, admins=[STAFF])
    topic = await bot.create_forum_topic(support["id"], "y" * 129)
    assert topic.name == "y" * 128
    assert await bot.edit_forum_topic(support["id"], topic.message_thread_id, name="z" * 200)
    (seen,) = await tg.topics(support["id"])
    assert seen["name"] == "z" * 128


async def test_spaces_are_collapsed_and_an_invisible_name_is_refused(
    bot: Bot, tg: EmulatorClient
) -> None:
    support = await tg.create_chat("Support", is_forum=True, admins=[STAFF])
    topic = await bot.create_forum_topic(support["id"], "  Budi \n\n  Santoso\u2003 ")
    assert topic.name == "Budi Santoso"
    for empty in ("", "   ", "\u200b\u200d"):
        with pytest.raises(TelegramBadRequest, match="Bad Request: title must be non-empty"):
            await bot.create_forum_topic(support["id"], empty)
