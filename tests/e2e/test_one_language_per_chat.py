"""Issue 13 item 10, done when: every kind of message the bot posts into a group chat whose
language is `en` holds no Indonesian word of the catalogue, and the reverse.

The words: those that occur in the Indonesian catalogue's translations and in no English one
(and the reverse), placeholders, numbers and words shorter than four letters left out. The story
posts, in the admin chat and the support group: /help and /health replies, a ticket's card and a
topic notice, an Alertmanager alert firing and then resolved, the incident it escalates to with
its card and a level line, and a job result. The person acting (Rina) and the customer speak the
other language in private, so a message that follows them instead of the chat is caught.
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from babel.messages.pofile import read_po

from sandbox.telegram.client import Json
from services import roster, users
from services.clock import FrozenClock
from services.i18n import LOCALES_DIR
from services.users import Role
from tests.cast import ADMIN, ALICE, BUDI
from tests.e2e.conftest import World, fast_rules
from tests.e2e.test_alert_story import (
    FIXTURES,
    T0,
    datas,
    flush_at,
    post_alertmanager,
    start,
)
from tests.e2e.test_support_deadlines import scan
from tests.e2e.test_support_story import open_ticket, press

WORD = re.compile(r"[^\W\d_]{4,}")
NOT_WORDS = re.compile(
    r"\b[A-Z][A-Z0-9]*_[A-Z0-9_]+\b|\{[^}]*\}|<[^>]*>|https?://\S+|[/@#]\w+|%\(\w+\)s"
)
DIMAS = 2002
DESCRIPTION = "QRIS 2026 INV2026110201 12345"  # a customer's text that is in no catalogue


def words(text: str) -> set[str]:
    return {w.lower() for w in WORD.findall(NOT_WORDS.sub(" ", text))}


def catalogue_words(language: str) -> set[str]:
    path = LOCALES_DIR / language / "LC_MESSAGES" / "messages.po"
    with path.open("rb") as source:
        catalog = read_po(source, locale=language)
    found: set[str] = set()
    for message in catalog:
        if not message.id:
            continue
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        for string in strings:
            found |= words(string or "")
    return found


def only_in(language: str) -> set[str]:
    other = "en" if language == "id" else "id"
    return catalogue_words(language) - catalogue_words(other)


def test_the_word_lists_tell_the_languages_apart() -> None:
    assert {"tiket", "insiden", "prioritas"} <= only_in("id")
    assert {"ticket", "incident", "priority"} <= only_in("en")


@pytest.fixture
def e2e_clock() -> FrozenClock:
    return FrozenClock(T0)


async def ask(world: World, chat_id: int, text: str, **kw: Any) -> Json:
    sent = await world.send(ADMIN, text, chat_id=chat_id, **kw)
    reply: Json = await world.reply_to(chat_id, after=sent["message_id"])
    return reply


async def choose(world: World, user_id: int, chat_id: int, code: str) -> None:
    sent = await world.send(user_id, "/language", chat_id=chat_id)
    prompt = await world.reply_to(chat_id, after=sent["message_id"])
    await press(world, user_id, chat_id, prompt, f"lang:{code}")
    await world.reply_to(chat_id, after=prompt["message_id"])


async def wait_text(world: World, chat_id: int, has: str, **kw: Any) -> Json:
    found: Json = await world.tg.wait_for_message(
        chat_id, predicate=lambda m: has in (m.get("text") or ""), **kw
    )
    return found


def shown(message: Json) -> str:
    buttons = [b.get("text", "") for row in (message.get("reply_markup") or {}).get(
        "inline_keyboard", []) for b in row]  # fmt: skip
    return "\n".join([message.get("text") or message.get("caption") or "", *buttons])


@pytest.mark.parametrize(("chat_language", "private_language"), [("en", "id"), ("id", "en")])
async def test_every_kind_of_group_message_speaks_the_chats_language(
    world_unstarted: World, chat_language: str, private_language: str
) -> None:
    world = await start(world_unstarted, fast_rules(alerts={"rules": []}))
    clock = world.frozen_clock
    admin_chat, support_chat = world.admin_chat_id, world.support_chat_id
    customer = BUDI if private_language == "id" else ALICE
    # Rina and the customer speak the other language in private
    await choose(world, ADMIN, ADMIN, private_language)
    await choose(world, customer, customer, private_language)
    if chat_language != "id":  # DEFAULT_LOCALE is id: the groups speak it until an admin says
        await choose(world, ADMIN, admin_chat, chat_language)
        await choose(world, ADMIN, support_chat, chat_language)

    # command replies in both groups
    await ask(world, admin_chat, "/help")
    await ask(world, admin_chat, "/health")
    await ask(world, support_chat, "/help")

    # a ticket: its card in its topic, and a notice when Rina acknowledges it
    await open_ticket(world, customer, "payment", DESCRIPTION, None)
    card = await wait_text(world, support_chat, "QC-000001")
    await press(world, ADMIN, support_chat, card, "tk:1:ack")
    await world.tg.wait_for_edit(support_chat, card["message_id"], after_edit_count=card.get(
        "edit_count", 0))  # fmt: skip

    # an alert fires, is escalated to an incident, the incident moves on a level, it resolves
    await post_alertmanager(world, "am_0.25_firing.json")
    await flush_at(world, clock, T0 + timedelta(seconds=31))
    alert = await wait_text(world, admin_chat, "PaymentErrors")
    group_id = await world.pool.fetchval("SELECT id FROM alert_groups")
    await press(world, ADMIN, admin_chat, alert, f"al:{group_id}:esc")
    notice = await world.tg.wait_for_message(
        admin_chat, predicate=lambda m: "inc:2:esc:1" in datas(m)
    )
    await press(world, ADMIN, admin_chat, notice, "inc:2:esc:1")
    await world.tg.wait_for_message(
        admin_chat,
        after_message_id=notice["message_id"],
        predicate=lambda m: "QC-000002" in (m.get("text") or "") and not datas(m),
    )
    await post_alertmanager(world, "am_0.25_resolved.json")
    await flush_at(world, clock, T0 + timedelta(seconds=31) + timedelta(minutes=5))
    await world.tg.wait_for_edit(
        admin_chat, alert["message_id"], predicate=lambda m: "✅" in (m.get("text") or "")
    )

    # a job's result
    asked = await ask(world, admin_chat, "/runjob payment_check")
    await world.tg.wait_for_message(
        admin_chat,
        after_message_id=asked["message_id"],
        predicate=lambda m: (m.get("text") or "").startswith(("✅", "⚠️", "❌")),
    )

    # a maintenance window: the summary posted when it ends
    await ask(world, admin_chat, f"/maintenance start 10m {DESCRIPTION}")
    clock.advance(minutes=11)
    await wait_text(world, admin_chat, "🛠")

    # a missed response deadline with nobody on call: the breach notice goes to the admin chat
    await open_ticket(world, customer, "payment", DESCRIPTION, None)
    clock.advance(days=3)
    await scan(world)
    await wait_text(world, admin_chat, "QC-000003")

    # Dimas, on call but never started the bot: the admin chat is told, and his notice is
    # posted there for him (in the chat's language, not his)
    await world.tg.create_user(DIMAS, first_name="Dimas", language_code=private_language)
    await users.touch(world.pool, DIMAS, first_name="Dimas")
    await users.set_language(world.pool, DIMAS, private_language)
    await roster.add_member(
        world.pool, user_id=DIMAS, display_name="Dimas", roles=[Role.SUPPORT_ENGINEER],
        added_by=ADMIN,
    )  # fmt: skip
    await roster.set_on_call(world.pool, Role.SUPPORT_ENGINEER, DIMAS, set_by=ADMIN)
    await open_ticket(world, customer, "payment", DESCRIPTION, None)
    clock.advance(days=3)
    await scan(world)
    await wait_text(world, admin_chat, "QC-000004")
    assert not [m for m in await world.tg.messages(DIMAS) if "QC-000004" in (m.get("text") or "")]

    other = "id" if chat_language == "en" else "en"
    wrong = only_in(other)
    fixture = (FIXTURES / "am_0.25_firing.json").read_text()
    foreign = {w.lower() for w in WORD.findall(fixture)} | words(DESCRIPTION)
    foreign |= {"budi", "alice", "rina", "dimas"}
    kinds = 0
    for chat_id in (admin_chat, support_chat):
        for message in await world.tg.messages(chat_id):
            if not (message.get("from") or {}).get("is_bot"):
                continue
            if "Please choose your language" in (message.get("text") or ""):
                continue  # the language prompt speaks both on purpose
            kinds += 1
            text = shown(message)
            mixed = (words(text) & wrong) - foreign
            assert not mixed, f"{other} words {sorted(mixed)} in a {chat_language} chat: {text}"
    assert kinds >= 10
