"""Every command, in every kind of chat, from people with and without a role, fed text full of
markup, 5,000 characters and unicode, and buttons with forged data: each gets a polite answer,
never a traceback, and Telegram never refuses what the bot sends (checked by the fixture)."""

from __future__ import annotations

import pytest

import handlers
from tests.cast import ADMIN, BUDI
from tests.e2e.conftest import World

HOSTILE = "<b>&amp; <script>alert(1)</script> ' \" 😀 ñ " + "x<y&z>" * 820  # > 5,000 chars
COMMANDS = sorted(
    {
        name
        for name, _ in handlers.CUSTOMER_COMMANDS
        + handlers.ADMIN_COMMANDS
        + handlers.SUPPORT_COMMANDS
    }
)
APOLOGY = ("Something went wrong", "Terjadi kesalahan")


def _is_apology(message: dict) -> bool:
    return any(word in (message.get("text") or "") for word in APOLOGY)


async def _ask(world: World, user_id: int, chat_id: int, text: str) -> list[dict]:
    sent = await world.send(user_id, text, chat_id=chat_id)
    marker = await world.send(user_id, "/help", chat_id=chat_id)
    # /help always answers: once its answer is there, everything before it was handled.
    await world.tg.wait_for_message(chat_id, after_message_id=marker["message_id"], timeout=15)
    return [
        m
        for m in await world.tg.messages(chat_id, since=sent["message_id"])
        if m["from"].get("is_bot") and m["message_id"] < marker["message_id"] + 10
    ]


async def test_a_customer_with_hostile_arguments_gets_an_answer_not_an_error(
    world: World,
) -> None:
    failures = []
    for command in COMMANDS:
        replies = await _ask(world, BUDI, BUDI, f"/{command} {HOSTILE}")
        if not replies or any(_is_apology(m) for m in replies):
            failures.append(command)
    assert not failures, f"no polite answer to: {failures}"


@pytest.mark.parametrize("chat", ["admin", "support"])
async def test_an_admin_with_hostile_arguments_gets_no_error(world: World, chat: str) -> None:
    chat_id = world.admin_chat_id if chat == "admin" else world.support_chat_id
    failures = []
    for command in COMMANDS:
        replies = await _ask(world, ADMIN, chat_id, f"/{command} {HOSTILE}")
        if any(_is_apology(m) for m in replies):
            failures.append(command)
    assert not failures, f"an error instead of an answer to: {failures}"


async def test_plain_hostile_text_from_a_customer_is_never_ignored(world: World) -> None:
    replies = await _ask(world, BUDI, BUDI, HOSTILE)
    assert replies and not [m for m in replies if _is_apology(m)]


FORGED = ["garbage", "lang:xx", "t:999999:res", "al:ack:0", "x" * 64, "esc:1:up:ö", ":::"]


async def test_forged_buttons_get_an_answer(world: World) -> None:
    sent = await world.send(BUDI, "/help")
    reply = await world.reply_to(BUDI, after=sent["message_id"])
    for data in FORGED:
        query = await world.tg.press(BUDI, BUDI, reply["message_id"], data, force=True)
        answer = await world.tg.callback_answer(query)
        assert answer["answered"], data
        assert not any(word in (answer.get("text") or "") for word in APOLOGY), data
