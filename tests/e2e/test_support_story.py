"""The support desk end to end: Budi opens a payment ticket in Bahasa Indonesia, it is P1, a
topic appears with the card, Rina answers in the topic, Budi receives it and replies with a
photo, Rina resolves, Budi rates 5; the timeline holds every step."""

from __future__ import annotations

import asyncio

from sandbox.telegram.client import Json
from services.tickets import history
from tests.cast import ADMIN, BUDI
from tests.e2e.buttons import press
from tests.e2e.conftest import World


def buttons(message: Json) -> list[Json]:
    markup = message.get("reply_markup") or {}
    return [b for row in markup.get("inline_keyboard", []) for b in row]


async def next_from_bot(world: World, chat_id: int, after: int, contains: str = "") -> Json:
    message: Json = await world.tg.wait_for_message(
        chat_id,
        after_message_id=after,
        predicate=lambda m: contains in (m.get("text") or m.get("caption") or ""),
    )
    return message


async def choose_indonesian(world: World, user_id: int) -> None:
    sent = await world.send(user_id, "/start")
    prompt = await next_from_bot(world, user_id, sent["message_id"])
    await press(world, user_id, user_id, prompt, "lang:id")
    await next_from_bot(world, user_id, prompt["message_id"])


async def new_ticket_in(world: World, user_id: int, category: str) -> Json:
    """Through the menu: New ticket, then the category. Returns the bot's question for the
    description."""
    sent = await world.send(user_id, "/start")
    menu = await next_from_bot(world, user_id, sent["message_id"])
    await press(world, user_id, user_id, menu, "sm:new")
    categories = await next_from_bot(world, user_id, menu["message_id"])
    await press(world, user_id, user_id, categories, f"nc:{category}")
    return await next_from_bot(world, user_id, categories["message_id"])


async def open_ticket(
    world: World, user_id: int, category: str, description: str, reference: str | None
) -> Json:
    """Through the menu: New ticket, category, description, reference, Send. Returns the
    customer's confirmation message."""
    ask = await new_ticket_in(world, user_id, category)
    sent = await world.send(user_id, description)
    ask_ref = await next_from_bot(world, user_id, sent["message_id"])
    if reference is None:
        await press(world, user_id, user_id, ask_ref, "nk:skip")
        after = ask_ref["message_id"]
    else:
        sent = await world.send(user_id, reference)
        after = sent["message_id"]
    confirm = await next_from_bot(world, user_id, after)
    await press(world, user_id, user_id, confirm, "nk:send")
    assert ask
    return await next_from_bot(world, user_id, confirm["message_id"], "QC-")


async def card_of(world: World, number: str) -> Json:
    return await world.tg.wait_for_message(
        world.support_chat_id, predicate=lambda m: (m.get("text") or "").startswith(f"{number} ")
    )


async def stored_messages(world: World, count: int, timeout: float = 10.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while len(await history.messages(world.pool, 1)) < count:
        assert asyncio.get_running_loop().time() < deadline, "the message was never stored"
        await asyncio.sleep(0.05)


async def test_budi_payment_ticket_from_opening_to_five_stars(world: World) -> None:
    await choose_indonesian(world, BUDI)
    confirmation = await open_ticket(
        world,
        BUDI,
        "payment",
        "Pembayaran QRIS saya gagal tapi saldo sudah terpotong",
        "inv2026110201",
    )
    assert "QC-000001" in confirmation["text"]
    assert "Prioritas: P1 (Tinggi)" in confirmation["text"]
    assert "dalam 1 jam" in confirmation["text"]

    card = await card_of(world, "QC-000001")
    topic = card["message_thread_id"]
    topics = await world.tg.topics(world.support_chat_id)
    assert any(t["name"] == "🆕 QC-000001 · P1 · Budi" for t in topics), topics
    assert "INV2026110201" in card["text"]
    assert [b["callback_data"] for b in buttons(card)] == [
        "tk:1:ack",
        "tk:1:pri",
        "tk:1:esc",
        "tk:1:res",
    ]

    answer = await world.send(
        ADMIN, "Halo Budi, kami cek dulu ya.", chat_id=world.support_chat_id, thread_id=topic
    )
    to_budi = await next_from_bot(world, BUDI, confirmation["message_id"], "kami cek dulu")
    assert to_budi["text"].endswith("— Rina, Dukungan QuickCart")

    note = await world.send(ADMIN, "// cek dashboard Pakasir", chat_id=world.support_chat_id,
                            thread_id=topic)  # fmt: skip
    # The note and Budi's photo come from two chats, which are handled concurrently: let the
    # note be stored first so the conversation's order below is the one this story wrote.
    await stored_messages(world, 2)
    photo = await world.tg.send_photo(BUDI, BUDI, b"\x89PNG fake", caption="bukti transfer")
    copied = await world.tg.wait_for_message(
        world.support_chat_id,
        thread_id=topic,
        after_message_id=note["message_id"],
        predicate=lambda m: "photo" in m,
    )
    assert "bukti transfer" in copied["caption"]

    answer_press = await press(world, ADMIN, world.support_chat_id, card, "tk:1:res")
    assert answer_press["text"].startswith("Diselesaikan")
    rating = await next_from_bot(world, BUDI, photo["message_id"], "telah diselesaikan")
    thanks = await press(world, BUDI, BUDI, rating, "tr:1:5")
    assert "5/5" in thanks["text"]

    await world.tg.wait_for_message(
        world.support_chat_id, thread_id=topic, predicate=lambda m: "5/5" in (m.get("text") or "")
    )
    events = [e.kind for e in await history.timeline(world.pool, 1)]
    for kind in (
        "created",
        "classified",
        "topic_created",
        "staff_reply",
        "note",
        "customer_message",
        "resolved",
        "rated",
    ):
        assert kind in events, (kind, events)
    messages = await history.messages(world.pool, 1)
    assert [m.direction for m in messages] == ["out", "note", "in"]
    assert all(m.relay_message_id for m in messages if m.direction != "note")
    assert not any("dashboard" in (m.get("text") or "") for m in await world.tg.messages(BUDI))
    assert answer["message_id"]
