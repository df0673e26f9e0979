"""Messages sent on behalf of a chat, as Telegram delivers them: a group's anonymous admin and
"send as" a channel carry a service bot in `from` and the real chat in `sender_chat`."""

from __future__ import annotations

import pytest
from aiogram import Bot

from sandbox.telegram import EmulatorClient
from sandbox.telegram.client import EmulatorError
from tests.cast import ALICE, BUDI

GROUP_ANONYMOUS_BOT = 1087968824
CHANNEL_BOT = 136817688


async def test_an_anonymous_admin_writes_as_the_group(bot: Bot, tg: EmulatorClient) -> None:
    group = await tg.create_chat("Support", members=[BUDI], admins=[ALICE])
    sent = await tg.send_text(ALICE, group["id"], "/close QC-000005", as_chat=group["id"])
    assert sent["from"]["id"] == GROUP_ANONYMOUS_BOT
    (update,) = await bot.get_updates()
    message = update.message
    assert message is not None and message.from_user is not None
    assert (message.from_user.id, message.from_user.is_bot) == (GROUP_ANONYMOUS_BOT, True)
    assert message.from_user.username == "GroupAnonymousBot"
    assert message.sender_chat is not None
    assert (message.sender_chat.id, message.sender_chat.type) == (group["id"], "supergroup")
    assert message.text == "/close QC-000005"
    assert [(e.type, e.offset, e.length) for e in message.entities or []] == [("bot_command", 0, 6)]


async def test_an_admin_of_a_channel_writes_as_the_channel(bot: Bot, tg: EmulatorClient) -> None:
    group = await tg.create_chat("Support", members=[ALICE, BUDI])
    channel = await tg.create_chat("QuickCart News", type="channel", admins=[ALICE])
    assert channel["type"] == "channel" and str(channel["id"]).startswith("-100")
    await tg.send_text(ALICE, group["id"], "/tickets", as_chat=channel["id"])
    (update,) = await bot.get_updates()
    message = update.message
    assert message is not None and message.from_user is not None
    assert (message.from_user.id, message.from_user.username) == (CHANNEL_BOT, "Channel_Bot")
    assert message.sender_chat is not None
    assert (message.sender_chat.id, message.sender_chat.type) == (channel["id"], "channel")
    assert message.sender_chat.title == "QuickCart News"

    forwarded = await bot.forward_message(BUDI, group["id"], message.message_id)
    assert forwarded.forward_origin is not None
    assert forwarded.forward_origin.type == "chat"


async def test_only_administrators_may_write_on_behalf_of_a_chat(tg: EmulatorClient) -> None:
    group = await tg.create_chat("Support", members=[BUDI], admins=[ALICE])
    channel = await tg.create_chat("QuickCart News", type="channel", admins=[ALICE])
    for user, chat, as_chat in [
        (BUDI, group["id"], group["id"]),  # not an admin of the group
        (BUDI, group["id"], channel["id"]),  # not an admin of the channel
        (ALICE, ALICE, ALICE),  # a private chat has no one to send as
        (ALICE, group["id"], (await tg.create_chat("Other", admins=[ALICE]))["id"]),  # no channel
    ]:
        with pytest.raises(EmulatorError) as refused:
            await tg.send_text(user, chat, "hello", as_chat=as_chat)
        assert refused.value.status == 400
    # The service bots are nobody's people: no private chat appears for them.
    private = [c["id"] for c in await tg.chats() if c["type"] == "private"]
    assert sorted(private) == sorted([ALICE, BUDI, 2001])
