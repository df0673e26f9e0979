"""The bot's inline buttons as the e2e stories use them: what a message offers, and a press."""

from __future__ import annotations

from typing import Any

from tests.e2e.conftest import World

Json = dict[str, Any]


def datas(message: Json) -> list[str]:
    """The callback data of the message's buttons, row by row (a link button's is "")."""
    markup = message.get("reply_markup") or {}
    return [b.get("callback_data", "") for row in markup.get("inline_keyboard", []) for b in row]


async def press(world: World, user: int, chat: int, message: Json, data: str) -> Json:
    """`user` presses the button carrying `data` (the message must offer it) on `message` in
    `chat`; the bot's answer to the callback query."""
    assert data in datas(message), (data, datas(message))
    query = await world.tg.press(user, chat, message["message_id"], data)
    answer: Json = await world.tg.callback_answer(query)
    return answer
