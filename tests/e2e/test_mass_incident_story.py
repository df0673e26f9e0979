"""A customer-facing incident end to end: Rina raises "Pakasir: payments failing" and declares
it customer-facing; Budi, Alice and Dedi write about failed payments and each gets the notice
at once in their language, linked to the incident with no topic of their own, while Citra's
password question goes the desk's usual way; Budi's follow-up (with `<b>` and `&`) becomes one
digest line in the incident's topic; Alice says her problem is different and gets a normal
ticket with its own topic; `/update` in the incident's topic reaches Budi and Dedi, the card
counts it; Resolve tells them, resolves their links and asks for a rating; Budi writes again,
says it is still broken, and his link opens as a normal ticket. The timeline and the audit log
hold every step."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from sandbox.telegram.client import Json
from services import users
from services.rules import Rules
from tests.cast import ADMIN, ALICE, BUDI
from tests.e2e.buttons import datas, press
from tests.e2e.conftest import World, fast_rules

DEDI, CITRA = 1003, 1004


@pytest.fixture
def e2e_rules() -> Rules:
    return fast_rules(mass_incidents={"card_edit_seconds": 1})


async def said(world: World, user: int, chat: int, text: str, **kw: Any) -> Json:
    sent = await world.send(user, text, chat_id=chat, **kw)
    answer: Json = await world.tg.wait_for_message(
        chat, after_message_id=sent["message_id"], thread_id=kw.get("thread_id"),
        predicate=lambda m: not datas(m) or "mc:" not in datas(m)[0],
    )  # fmt: skip
    return answer


async def start(world: World, user: int) -> None:
    sent = await world.send(user, "/start")
    await world.reply_to(user, after=sent["message_id"])


async def test_a_customer_facing_incident_answers_links_updates_and_resolves(world: World) -> None:
    await world.tg.create_user(DEDI, first_name="Dedi", language_code="id")
    await world.tg.create_user(CITRA, first_name="Citra", language_code="id")
    for user in (BUDI, ALICE, DEDI, CITRA):
        await start(world, user)
    await users.set_language(world.pool, ALICE, "en")  # as if she had pressed English

    opened = await said(world, ADMIN, world.admin_chat_id, "/incident P1 Pakasir payments failing")
    assert "QC-000001" in opened["text"], opened["text"]
    declared = await said(world, ADMIN, world.admin_chat_id, "/incident public QC-000001")
    assert "QC-000001" in declared["text"] and "payment" in declared["text"], declared["text"]

    # one topic for the incident in the support group, its card there and in the admin chat
    card = await world.tg.wait_for_message(
        world.support_chat_id, predicate=lambda m: "mc:1:res" in datas(m)
    )
    topics = await world.tg.topics(world.support_chat_id)
    assert len(topics) == 1, topics
    thread = topics[0]["message_thread_id"]
    assert card.get("message_thread_id") == thread, card
    admin_card = await world.tg.wait_for_message(
        world.admin_chat_id, predicate=lambda m: "mc:1:res" in datas(m)
    )
    assert "QC-000001" in admin_card["text"]

    budi_notice = await said(world, BUDI, BUDI, "Pembayaran saya gagal terus dari tadi")
    assert datas(budi_notice) == ["mn:2:diff", "mn:2:ok"], budi_notice
    alice_notice = await said(world, ALICE, ALICE, "My QRIS payment failed twice")
    assert "Known issue" in alice_notice["text"], alice_notice["text"]
    assert "We are on it" in alice_notice["text"], alice_notice["text"]
    assert datas(alice_notice) == ["mn:3:diff", "mn:3:ok"]
    dedi_notice = await said(world, DEDI, DEDI, "transaksi gagal, saldo terpotong")
    assert datas(dedi_notice) == ["mn:4:diff", "mn:4:ok"]
    # a message the incident does not match goes the desk's usual way
    citra = await said(world, CITRA, CITRA, "Bagaimana cara ganti kata sandi?")
    assert not any(d.startswith("mn:") for d in datas(citra)), citra
    links = await world.pool.fetch(
        "SELECT id, customer_id, topic_outbox_id FROM tickets WHERE kind = 'linked' "
        "AND parent_id = 1 ORDER BY id"
    )
    assert [(r["customer_id"], r["topic_outbox_id"]) for r in links] == [
        (BUDI, None), (ALICE, None), (DEDI, None),
    ]  # fmt: skip

    card = await world.tg.wait_for_edit(
        world.support_chat_id, card["message_id"], predicate=lambda m: "👥 3" in m["text"]
    )
    assert "Dedi" in card["text"] and "Budi" in card["text"], card["text"]

    await press(world, BUDI, BUDI, budi_notice, "mn:2:ok")
    # Budi adds what he has: one digest line in the incident's topic, his tags stay text
    thanks = await said(world, BUDI, BUDI, "Ini bukti transfer <b>ORD-20261102-7F3K9Q</b> & saldo")
    assert "QC-000001" in thanks["text"], thanks["text"]
    digest = await world.tg.wait_for_message(
        world.support_chat_id, thread_id=thread, predicate=lambda m: "ORD-20261102" in m["text"]
    )
    assert "<b>ORD-20261102-7F3K9Q</b> & saldo" in digest["text"], digest["text"]

    # Alice's problem is different: a normal ticket, its own topic
    answer = await press(world, ALICE, ALICE, alice_notice, "mn:3:diff")
    assert "QC-000003" in answer["text"], answer
    await world.tg.wait_for_message(ALICE, predicate=lambda m: "QC-000003" in m["text"])
    row = await world.pool.fetchrow("SELECT kind, topic_outbox_id FROM tickets WHERE id = 3")
    assert row["kind"] == "normal" and row["topic_outbox_id"] is not None

    # /update in the incident's topic reaches every linked customer, in their language
    update_text = "/update Pakasir sedang memulihkan layanan"
    await world.send(ADMIN, update_text, chat_id=world.support_chat_id, thread_id=thread)
    for user in (BUDI, DEDI):
        update = await world.tg.wait_for_message(
            user, predicate=lambda m: "Pakasir sedang memulihkan" in m["text"]
        )
        assert "mn:" not in str(datas(update))
    await world.tg.wait_for_edit(
        world.support_chat_id, card["message_id"], predicate=lambda m: "2 / 2" in m["text"],
        timeout=20,
    )  # fmt: skip
    assert not [
        m for m in await world.tg.messages(ALICE) if "Pakasir sedang memulihkan" in m["text"]
    ]

    # Resolve from the card: every linked customer is told and asked for a rating
    answer = await press(world, ADMIN, world.support_chat_id, card, "mc:1:res")
    assert "QC-000001" in answer["text"], answer
    budi_fixed = await world.tg.wait_for_message(BUDI, predicate=lambda m: "mr:1:5" in datas(m))
    await world.tg.wait_for_message(DEDI, predicate=lambda m: "mr:1:5" in datas(m))
    statuses = await world.pool.fetch("SELECT status FROM tickets WHERE id IN (2, 4)")
    assert {r["status"] for r in statuses} == {"resolved"}
    rated = await press(world, BUDI, BUDI, budi_fixed, "mr:1:5")
    assert "5/5" in rated["text"], rated
    assert await world.pool.fetchval("SELECT rating FROM tickets WHERE id = 2") == 5
    # nothing of a linked ticket went into the group (its rating neither): only topics hold
    # anything, and the incident's topic holds its card, its ticket card and the digest
    await asyncio.sleep(1.0)
    outside = [
        m for m in await world.tg.messages(world.support_chat_id)
        if m.get("from", {}).get("is_bot") and not m.get("message_thread_id")
    ]  # fmt: skip
    assert outside == [], outside

    # A new payment message no longer matches a resolved incident; Budi writes again, is asked
    # whether it is still broken, says yes, and his link opens as a normal ticket with its topic
    asked = await said(world, BUDI, BUDI, "Masih belum bisa bayar")
    assert datas(asked) == ["mn:2:again", "mn:2:fine"], asked
    await press(world, BUDI, BUDI, asked, "mn:2:again")
    await world.tg.wait_for_message(
        BUDI, after_message_id=asked["message_id"], predicate=lambda m: "QC-000002" in m["text"]
    )
    row = await world.pool.fetchrow(
        "SELECT kind, status, topic_outbox_id FROM tickets WHERE id = 2"
    )
    assert row["kind"] == "normal" and row["status"] == "open" and row["topic_outbox_id"]

    kinds = [
        r["kind"]
        for r in await world.pool.fetch(
            "SELECT kind FROM ticket_events WHERE ticket_id = 1 AND kind LIKE 'public%' ORDER BY id"
        )
    ]
    assert kinds == [
        "public_declared", "public_link_declined", "public_update", "public_resolved",
        "public_link_reopened",
    ], kinds  # fmt: skip
    audited = {
        r["action"]
        for r in await world.pool.fetch(
            "SELECT action FROM audit_log WHERE allowed AND actor_id = $1", ADMIN
        )
    }
    assert {"incident.public", "incident.update", "incident.resolve"} <= audited, audited
    timeline = await said(world, ADMIN, world.admin_chat_id, "/timeline QC-000001")
    for line in (
        "Dinyatakan sebagai insiden publik oleh Rina (cocok dengan: payment)",
        "mengirim update ke 2 pelanggan (0 memblokir bot): Pakasir sedang memulihkan layanan",
        "QC-000003: pelanggan bilang masalahnya lain",
        "Kabar penyelesaian terkirim ke 2 pelanggan",
    ):
        assert line in timeline["text"], timeline["text"]
