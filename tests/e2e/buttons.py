"""The bot's inline buttons as the e2e stories use them: what a message offers, a press, and the
edit a press brings."""

from __future__ import annotations

from sandbox.telegram.client import Json
from tests.e2e.conftest import World


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


async def next_edit(world: World, chat: int, message: Json, contains: str) -> Json:
    """The message as an edit after the version given (`message`) shows it: the first whose
    text holds `contains`."""
    edited: Json = await world.tg.wait_for_edit(
        chat,
        message["message_id"],
        after_edit_count=message["edit_count"],
        predicate=lambda m: contains in m["text"],
    )
    return edited
