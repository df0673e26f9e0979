"""What the incident room stories share: the incidents chat, the cast, the doors they use."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import aiohttp

from sandbox.telegram.client import Json
from services.rules import Rules
from tests.cast import ADMIN
from tests.e2e.conftest import World, fast_rules

T0 = datetime(2030, 1, 7, 1, 0, tzinfo=UTC)  # ahead of the wall clock (see test_alert_story)
TOKEN = "am-e2e-token"
SARI = 2001  # support engineer, on call: level 1
MAYA = 2002  # senior engineer: takes the lead
DEWI = 2003  # tech lead, on call: level 3


def room_rules(**rooms: Any) -> Rules:
    return fast_rules(alerts={"rules": []}, rooms={"scan_seconds": 0.1, **rooms})


async def incidents_chat(world: World, *, forum: bool = True) -> int:
    chat = await world.tg.create_chat(
        type="supergroup", title="QuickCart Incidents", is_forum=forum,
        members=[ADMIN, SARI, MAYA, DEWI], admins=[ADMIN],
    )  # fmt: skip
    return int(chat["id"])


async def says(world: World, user: int, chat: int, text: str, **kw: Any) -> Json:
    """`user` writes in `chat`; the bot's plain answer (no buttons) after it."""
    sent = await world.send(user, text, chat_id=chat, **kw)
    answer: Json = await world.tg.wait_for_message(
        chat, after_message_id=sent["message_id"], thread_id=kw.get("thread_id"),
        predicate=lambda m: m.get("reply_markup") is None and not m.get("document"),
    )  # fmt: skip
    return answer


async def put_on_roster(world: World, user_id: int, name: str, role: str, username: str) -> None:
    await world.tg.create_user(user_id, first_name=name, username=username, language_code="id")
    sent = await world.send(user_id, "/start")
    await world.reply_to(user_id, after=sent["message_id"])
    hello = await world.send(user_id, f"Halo, saya {name}", chat_id=world.admin_chat_id)
    answer = await says(
        world, ADMIN, world.admin_chat_id, f"/staff add {role}", reply_to=hello["message_id"]
    )
    assert name in answer["text"], answer["text"]


async def start_rooms(world: World, chat_id: int | None, **settings: Any) -> None:
    """The room stories' start: the rooms rules, INCIDENT_CHAT_ID `chat_id` (and any other
    `settings`), the bot started, Sari (support) and Maya (senior engineer) on the roster."""
    world.rules = room_rules()
    world.settings = world.settings.model_copy(update={"INCIDENT_CHAT_ID": chat_id, **settings})
    await world.start_bot()
    await put_on_roster(world, SARI, "Sari", "support_engineer", "sari")
    await put_on_roster(world, MAYA, "Maya", "senior_engineer", "maya")


async def start_in_incidents_chat(world: World, *, forum: bool = True) -> int:
    """`start_rooms` with a new incidents chat (a forum unless told): its id."""
    chat_id = await incidents_chat(world, forum=forum)
    await start_rooms(world, chat_id)
    return chat_id


async def download(world: World, document: Json) -> bytes:
    base = f"{world.emulator.base_url}/bot{world.settings.BOT_TOKEN}"
    async with aiohttp.ClientSession() as http:
        async with http.get(f"{base}/getFile", params={"file_id": document["file_id"]}) as r:
            path = (await r.json())["result"]["file_path"]
        async with http.get(
            f"{world.emulator.base_url}/file/bot{world.settings.BOT_TOKEN}/{path}"
        ) as r:
            return await r.read()


async def escalate_an_alert(world: World) -> None:
    """Alertmanager posts a firing PaymentErrors; Rina presses Escalate on its message."""
    from tests.e2e.test_alert_story import escalate_payment_errors

    stored, answer = await escalate_payment_errors(world)
    assert stored["stored"] == 3  # appended; the alert inbox folds it before the flush
    assert "QC-000001" in answer["text"], answer
