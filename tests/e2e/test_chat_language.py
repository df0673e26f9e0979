"""One language per chat (issue 13 item 10): a group speaks the language an admin set there with
/language, whoever writes in it; a private chat speaks its person's language."""

from __future__ import annotations

from sandbox.telegram.client import Json
from tests.cast import ADMIN, ALICE
from tests.e2e.conftest import World


async def ask(world: World, user_id: int, chat_id: int, text: str) -> Json:
    sent = await world.send(user_id, text, chat_id=chat_id)
    reply: Json = await world.reply_to(chat_id, after=sent["message_id"])
    return reply


async def choose(world: World, user_id: int, chat_id: int, code: str) -> Json:
    """/language in a chat, then press a language; the press's answer, once the chat has been
    told (the notice leaves through the outbox after the answer: a question asked before it
    arrived would read it as its reply)."""
    prompt = await ask(world, user_id, chat_id, "/language")
    query = await world.tg.press(user_id, chat_id, prompt["message_id"], f"lang:{code}")
    answer: Json = await world.tg.callback_answer(query)
    await world.reply_to(
        chat_id, after=prompt["message_id"], predicate=lambda m: "From now on" in m["text"]
        or "Mulai sekarang" in m["text"],
    )  # fmt: skip
    return answer


async def test_an_admin_sets_the_admin_chats_language_and_replies_there_follow_it(
    world: World,
) -> None:
    chat = world.admin_chat_id
    answer = await choose(world, ADMIN, chat, "en")
    assert answer["text"] == "Language saved."

    help_text = await ask(world, ADMIN, chat, "/help")
    assert help_text["text"].startswith("Staff commands: /health")
    # Rina herself never chose: in private she still gets DEFAULT_LOCALE
    private = await ask(world, ADMIN, ADMIN, "/help")
    assert private["text"].startswith("Perintah staf: /health")
    async with world.pool.acquire() as conn:
        audited = await conn.fetchrow(
            "SELECT actor_id, allowed, details FROM audit_log WHERE action = 'chat.language'"
        )
    assert audited is not None and audited["actor_id"] == ADMIN and audited["allowed"]


async def test_the_callers_own_language_does_not_change_a_groups(world: World) -> None:
    await choose(world, ADMIN, ADMIN, "en")  # Rina speaks English in private

    help_text = await ask(world, ADMIN, world.admin_chat_id, "/help")
    assert help_text["text"].startswith("Perintah staf: /health")  # the chat's: DEFAULT_LOCALE


async def test_only_an_admin_changes_a_groups_language(world: World) -> None:
    refused = await ask(world, ALICE, world.admin_chat_id, "/language")
    assert "admin" in refused["text"]
    help_text = await ask(world, ADMIN, world.admin_chat_id, "/help")
    assert help_text["text"].startswith("Perintah staf")


async def test_a_report_asked_for_in_a_group_is_in_the_groups_language(world: World) -> None:
    await choose(world, ADMIN, ADMIN, "en")  # Rina reads English in private
    chat = world.admin_chat_id

    building = await ask(world, ADMIN, chat, "/report weekly")
    report = await world.tg.wait_for_message(
        chat,
        after_message_id=building["message_id"],
        predicate=lambda m: bool(m.get("text")),  # the headline; the document follows
        timeout=30,
    )
    text = report.get("text") or report.get("caption") or ""
    assert "Laporan mingguan" in text and "Weekly report" not in text, text


async def test_someone_else_pressing_the_admins_language_buttons_changes_nothing(
    world: World,
) -> None:
    chat = world.admin_chat_id
    prompt = await ask(world, ADMIN, chat, "/language")
    query = await world.tg.press(ALICE, chat, prompt["message_id"], "lang:en")
    answer = await world.tg.callback_answer(query)
    assert "admin" in answer["text"]

    help_text = await ask(world, ADMIN, chat, "/help")
    assert help_text["text"].startswith("Perintah staf")
    refused = await world.pool.fetchval(
        "SELECT count(*) FROM audit_log WHERE action = 'chat.language' AND NOT allowed"
    )
    assert refused == 1
    assert await world.pool.fetchval("SELECT language FROM users WHERE id = $1", ALICE) is None
