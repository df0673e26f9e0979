"""The customer's side after a new operator tried it (issue 13, items 11 and 12): choosing a
language shows the menu at once, and the "which ticket?" question answers the press and becomes
the answer, its buttons gone."""

from __future__ import annotations

from services.tickets import history
from tests.cast import BUDI
from tests.e2e.conftest import World
from tests.e2e.test_support_story import (
    buttons,
    choose_indonesian,
    next_from_bot,
    open_ticket,
    press,
)


async def test_choosing_a_language_shows_the_menu_without_another_start(world: World) -> None:
    sent = await world.send(BUDI, "/start")
    prompt = await next_from_bot(world, BUDI, sent["message_id"])
    answer = await press(world, BUDI, BUDI, prompt, "lang:id")
    assert answer["text"] == "Bahasa disimpan."
    chosen = await next_from_bot(world, BUDI, prompt["message_id"])
    assert chosen["text"].startswith("Mulai sekarang saya akan menulis kepada Anda dalam Bahasa")
    assert "Halo, Budi!" in chosen["text"]
    assert [b["callback_data"] for b in buttons(chosen)] == [
        "sm:new",
        "sm:mine",
        "sm:status",
        "sm:lang",
    ]

    await press(world, BUDI, BUDI, chosen, "sm:new")  # the menu works from there
    categories = await next_from_bot(world, BUDI, chosen["message_id"])
    assert "nc:payment" in [b["callback_data"] for b in buttons(categories)]


async def test_the_which_ticket_question_answers_the_press_and_loses_its_buttons(
    world: World,
) -> None:
    await choose_indonesian(world, BUDI)
    await open_ticket(world, BUDI, "payment", "QRIS gagal dibayar", None)
    last = await open_ticket(world, BUDI, "order", "Pesanan belum sampai", None)

    sent = await world.send(BUDI, "Ini soal pesanan yang belum sampai")
    picker = await next_from_bot(world, BUDI, sent["message_id"])
    assert "tiket yang mana" in picker["text"]
    assert last["message_id"] < picker["message_id"]
    answer = await press(world, BUDI, BUDI, picker, "tw:2:" + str(sent["message_id"]))
    assert answer["text"] == "Masuk ke QC-000002."

    answered = await world.tg.wait_for_edit(BUDI, picker["message_id"])
    assert answered["text"] == "Pesan Anda masuk ke QC-000002 · Pesanan belum sampai."
    assert buttons(answered) == []
    assert [m.body for m in await history.messages(world.pool, 2)] == [
        "Ini soal pesanan yang belum sampai"
    ]
    assert await history.messages(world.pool, 1) == []
