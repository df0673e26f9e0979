"""The desk when things go sideways: hostile and huge text, a restart mid-conversation, a
deleted topic, a customer who blocked the bot, an over-limit customer, a stranger pressing
Resolve, a reopened ticket and an automatic close."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from services import audit
from services.clock import FrozenClock
from services.rules import Rules
from services.tickets import actions, history, store
from services.tickets.config import DeskConfig
from tests.cast import ADMIN, BUDI
from tests.e2e.conftest import World, fast_rules
from tests.e2e.test_support_story import (
    buttons,
    card_of,
    choose_indonesian,
    new_ticket_in,
    next_from_bot,
    open_ticket,
    press,
)

JOKO = 1003  # a member of the support group without a staff role


async def budi_with_a_ticket(world: World) -> tuple[dict, dict]:
    await choose_indonesian(world, BUDI)
    confirmation = await open_ticket(world, BUDI, "payment", "QRIS gagal dibayar", None)
    return confirmation, await card_of(world, "QC-000001")


async def test_hostile_5000_characters_reach_the_topic_escaped_and_split(world: World) -> None:
    confirmation, card = await budi_with_a_ticket(world)
    hostile = "<&><b>" + "kata & <i>tag</i> " * 300  # over 5,000 characters
    sent = await world.send(BUDI, hostile)
    topic = card["message_thread_id"]
    first = await world.tg.wait_for_message(
        world.support_chat_id,
        thread_id=topic,
        after_message_id=card["message_id"],
        predicate=lambda m: "<&><b>" in (m.get("text") or ""),
    )
    for _ in range(100):  # the later parts follow the first one by a moment
        parts = [
            m
            for m in await world.tg.messages(
                world.support_chat_id, topic, since=first["message_id"] - 1
            )
            if m["from"].get("is_bot") and "kata" in (m.get("text") or "")
        ]
        joined = "".join(m["text"] for m in parts)
        if joined.count("<i>tag</i>") >= 300:
            break
        await asyncio.sleep(0.1)
    assert len(parts) >= 2
    assert joined.count("<i>tag</i>") == 300  # arrived as text, not as markup
    assert (await history.messages(world.pool, 1))[-1].body == hostile
    assert sent and confirmation


async def test_a_restart_in_the_middle_of_a_new_ticket_keeps_the_conversation(
    world: World,
) -> None:
    await choose_indonesian(world, BUDI)
    await new_ticket_in(world, BUDI, "order")

    await world.restart_bot()

    sent = await world.send(BUDI, "Pesanan saya belum sampai")
    ask_ref = await next_from_bot(world, BUDI, sent["message_id"])
    assert "ORD-20261102-7F3K9Q" in ask_ref["text"]  # still in the conversation: the next step
    sent = await world.send(BUDI, "ORD-123")
    refused = await next_from_bot(world, BUDI, sent["message_id"])
    assert "bukan format referensi" in refused["text"]


async def test_a_deleted_topic_is_recreated_on_the_next_message(world: World) -> None:
    _, card = await budi_with_a_ticket(world)
    old_topic = card["message_thread_id"]
    await world.tg.delete_topic(world.support_chat_id, old_topic)
    await world.send(BUDI, "Halo, ada kabar?")
    copied = await world.tg.wait_for_message(
        world.support_chat_id,
        predicate=lambda m: (
            "ada kabar" in (m.get("text") or "")
            and m.get("message_thread_id") not in (None, old_topic)
        ),
        timeout=15,
    )
    new_card = await world.tg.wait_for_message(
        world.support_chat_id,
        thread_id=copied["message_thread_id"],
        predicate=lambda m: (m.get("text") or "").startswith("QC-000001 "),
    )
    assert new_card["message_thread_id"] != old_topic
    assert "topic_recreated" in [e.kind for e in await history.timeline(world.pool, 1)]


async def test_a_customer_who_blocked_the_bot_is_marked_and_staff_are_told(world: World) -> None:
    _, card = await budi_with_a_ticket(world)
    await world.tg.block(BUDI)
    topic = card["message_thread_id"]
    await world.send(ADMIN, "Sudah kami proses", chat_id=world.support_chat_id, thread_id=topic)
    told = await world.tg.wait_for_message(
        world.support_chat_id,
        thread_id=topic,
        predicate=lambda m: "memblokir bot" in (m.get("text") or ""),
    )
    assert told
    assert (await store.get(world.pool, 1)).customer_blocked_at is not None


@pytest.fixture
def e2e_rules() -> Rules:
    return fast_rules(support={"messages_per_minute": 3})


async def test_an_over_limit_customer_is_told_when_to_write_again(world: World) -> None:
    confirmation, _ = await budi_with_a_ticket(world)
    first = None
    for n in range(4):
        sent = await world.send(BUDI, f"pesan {n}")
        first = first or sent
    assert first is not None
    told = await next_from_bot(world, BUDI, first["message_id"], "terlalu cepat")
    assert "setelah" in told["text"]
    # polling handles updates concurrently: any one of the four may be the one refused
    for _ in range(50):  # the other three may still be in flight
        stored = [m.body or "" for m in await history.messages(world.pool, 1)]
        if len(stored) >= 3:
            break
        await asyncio.sleep(0.1)
    assert len(stored) == 3 and set(stored) < {f"pesan {n}" for n in range(4)}
    assert confirmation


async def test_a_non_staff_member_pressing_resolve_is_refused_and_audited(world: World) -> None:
    await world.tg.create_user(JOKO, first_name="Joko", language_code="id")
    _, card = await budi_with_a_ticket(world)
    answer = await press(world, JOKO, world.support_chat_id, card, "tk:1:res")
    assert answer["show_alert"] and "Hanya staf" in answer["text"]
    assert (await store.get(world.pool, 1)).status.value == "open"
    since = (await store.get(world.pool, 1)).created_at - timedelta(minutes=1)
    refused = await audit.entries_since(world.pool, since, allowed=False)
    assert [(e.actor_id, e.action) for e in refused] == [(JOKO, "ticket.resolve")]


async def test_a_resolved_ticket_reopens_when_the_customer_writes_again(world: World) -> None:
    confirmation, card = await budi_with_a_ticket(world)
    await press(world, ADMIN, world.support_chat_id, card, "tk:1:res")
    resolved = await next_from_bot(world, BUDI, confirmation["message_id"], "diselesaikan")
    await world.send(BUDI, "Masih gagal, kak")
    reopened = await next_from_bot(world, BUDI, resolved["message_id"], "dibuka kembali")
    assert "QC-000001" in reopened["text"]
    # resolving stamped the first response, so the reopened ticket is acknowledged, not new
    assert (await store.get(world.pool, 1)).status.value == "acknowledged"
    edited = await world.tg.wait_for_edit(
        world.support_chat_id, card["message_id"],
        predicate=lambda m: "tk:1:res" in [b["callback_data"] for b in buttons(m)],
        after_edit_count=1,
    )  # fmt: skip
    assert edited


async def test_resolved_tickets_close_automatically_after_seven_days(world: World) -> None:
    confirmation, card = await budi_with_a_ticket(world)
    await press(world, ADMIN, world.support_chat_id, card, "tk:1:res")
    resolved = await next_from_bot(world, BUDI, confirmation["message_id"], "diselesaikan")
    cfg = DeskConfig.build(
        support_chat_id=world.support_chat_id, timezone="Asia/Jakarta", staff_locale="id"
    )
    resolved_at = (await store.get(world.pool, 1)).resolved_at
    assert resolved_at is not None
    later = FrozenClock(resolved_at + timedelta(days=7, minutes=1))
    assert await actions.auto_close(world.pool, cfg, later) == [1]
    closed = await next_from_bot(world, BUDI, resolved["message_id"], "telah ditutup")
    assert "QC-000001" in closed["text"]
    await world.tg.wait_for_message(
        world.support_chat_id,
        thread_id=card["message_thread_id"],
        predicate=lambda m: "Ditutup otomatis" in (m.get("text") or ""),
    )
