"""pinChatMessage and message_reaction updates, as Telegram does them: a pin needs the bot to
be an administrator; reactions reach the bot only when it asked for them in allowed_updates
(they are not sent by default) and it administers the group."""

from __future__ import annotations

import pytest
from aiogram import Bot
from aiogram.exceptions import TelegramBadRequest
from aiogram.types import ReactionTypeEmoji

from sandbox.telegram import EmulatorClient
from tests.cast import ALICE

from .conftest import STAFF


async def test_the_bot_pins_its_message_and_only_where_it_is_an_administrator(
    bot: Bot, tg: EmulatorClient
) -> None:
    chat = await tg.create_chat("Incidents", is_forum=True, members=[STAFF], admins=[STAFF])
    sent = await bot.send_message(chat["id"], "summary")
    assert await bot.pin_chat_message(chat["id"], sent.message_id, disable_notification=True)
    [shown] = await tg.messages(chat["id"])
    assert shown["pinned"] is True
    with pytest.raises(TelegramBadRequest, match="message to pin not found"):
        await bot.pin_chat_message(chat["id"], 999)
    assert await bot.unpin_chat_message(chat["id"], message_id=sent.message_id)
    assert (await tg.messages(chat["id"]))[0]["pinned"] is False


async def test_reactions_reach_the_bot_only_when_it_asked_for_them(
    bot: Bot, tg: EmulatorClient
) -> None:
    chat = await tg.create_chat("Incidents", members=[STAFF, ALICE], admins=[STAFF])
    said = await tg.send_text(ALICE, chat["id"], "Pakasir is down")
    await bot.get_updates(offset=-1, timeout=0)  # default allowed_updates: no reactions
    updates = await bot.get_updates(timeout=0)
    offset = max((u.update_id for u in updates), default=0) + 1
    await tg.react(STAFF, chat["id"], said["message_id"], "📌")
    assert await bot.get_updates(offset=offset, timeout=0) == []
    offset = max((u.update_id for u in await bot.get_updates(timeout=0)), default=0) + 1
    await bot.get_updates(offset=offset, timeout=0, allowed_updates=["message", "message_reaction"])
    await tg.react(STAFF, chat["id"], said["message_id"], "📌", "👍")
    [update] = await bot.get_updates(offset=offset, timeout=0)
    reaction = update.message_reaction
    assert reaction is not None
    assert reaction.chat.id == chat["id"] and reaction.message_id == said["message_id"]
    assert reaction.user is not None and reaction.user.id == STAFF
    assert [r.emoji for r in reaction.old_reaction if isinstance(r, ReactionTypeEmoji)] == ["📌"]
    new = [r.emoji for r in reaction.new_reaction if isinstance(r, ReactionTypeEmoji)]
    assert new == ["📌", "👍"]
    shown = (await tg.messages(chat["id"]))[0]
    assert shown["reactions"] == {str(STAFF): ["📌", "👍"]}
