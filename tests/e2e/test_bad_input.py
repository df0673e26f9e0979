"""Issue 12, items 7 and 12, through the doors people use: a /silence pattern RE2 cannot compile
is refused with the reason; buttons forged with ids of 2^66 get the stale-button answer, not a
traceback; a customer whose name and words hold NUL characters is served, stored and relayed."""

from __future__ import annotations

import asyncio

import pytest

from services.tickets import history, store
from tests.cast import ADMIN, BUDI
from tests.e2e.conftest import World
from tests.e2e.test_support_story import card_of, choose_indonesian, open_ticket

HUGE = 2**66
STALE = "Tombol ini sudah tidak berlaku"
APOLOGY = ("Something went wrong", "Terjadi kesalahan")
DEWI = 1004


async def test_a_silence_pattern_re2_cannot_compile_is_refused_with_the_reason(
    world: World,
) -> None:
    sent = await world.send(
        ADMIN, '/silence instance=~"(?=web)web-.*" 2h deploy', chat_id=world.admin_chat_id
    )
    reply = await world.reply_to(world.admin_chat_id, after=sent["message_id"])
    assert "Pola (?=web)web-.* tidak bisa dipakai" in reply["text"], reply["text"]
    assert "invalid perl operator" in reply["text"] and "RE2" in reply["text"]
    assert await world.pool.fetchval("SELECT count(*) FROM alert_silences") == 0


STAFF_BUTTONS = [
    f"tk:{HUGE}:ack",
    f"tk:{HUGE}:res",
    f"tp:{HUGE}:P0",
    f"inc:{HUGE}:ack:1",
    f"inc:1:esc:{HUGE}",
    f"al:{HUGE}:ack",
    f"al:{HUGE}:s1",
]
CUSTOMER_BUTTONS = [
    f"tc:{HUGE}:view",
    f"tc:{HUGE}:close",
    f"tr:{HUGE}:5",
    f"tr:1:{HUGE}",
    f"tw:{HUGE}:1",
    f"tw:1:{HUGE}",
]


@pytest.mark.parametrize(
    ("who", "buttons"), [("admin", STAFF_BUTTONS), ("customer", CUSTOMER_BUTTONS)]
)
async def test_buttons_with_ids_of_2_to_the_66_get_the_stale_button_answer(
    world: World, who: str, buttons: list[str]
) -> None:
    user, chat = (ADMIN, world.admin_chat_id) if who == "admin" else (BUDI, BUDI)
    sent = await world.send(user, "/help", chat_id=chat)
    reply = await world.reply_to(chat, after=sent["message_id"])
    for data in buttons:
        query = await world.tg.press(user, chat, reply["message_id"], data, force=True)
        answer = await world.tg.callback_answer(query)
        text = answer.get("text") or ""
        assert STALE in text and not any(a in text for a in APOLOGY), (data, answer)
    later = await world.tg.messages(chat, since=reply["message_id"])
    assert not [m for m in later if any(a in (m.get("text") or "") for a in APOLOGY)]


async def test_a_customer_with_nul_in_name_and_words_is_served_and_nothing_is_lost(
    world: World,
) -> None:
    await world.tg.create_user(DEWI, first_name="De\x00wi", last_name="Lest\x00ari")
    await choose_indonesian(world, DEWI)
    confirmation = await open_ticket(world, DEWI, "payment", "Saldo\x00 terpotong 2x", None)
    assert "QC-000001" in confirmation["text"]
    card = await card_of(world, "QC-000001")
    assert "Dewi" in card["text"]
    ticket = await store.get(world.pool, 1)
    assert ticket.description == "Saldo terpotong 2x"
    assert ticket.customer_name.startswith("Dewi")

    await world.send(DEWI, "Tolong\x00 dicek ya")
    relayed = await world.tg.wait_for_message(
        world.support_chat_id,
        thread_id=card["message_thread_id"],
        predicate=lambda m: "Tolong dicek ya" in (m.get("text") or ""),
    )
    assert relayed
    deadline = asyncio.get_running_loop().time() + 10
    while "Tolong dicek ya" not in [m.body for m in await history.messages(world.pool, 1)]:
        assert asyncio.get_running_loop().time() < deadline, "the message was never stored"
        await asyncio.sleep(0.05)
