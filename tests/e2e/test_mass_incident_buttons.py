"""A customer-facing incident run from its buttons: Rina raises "Pakasir: payments failing" in the
admin chat; its card there carries "Customer-facing". Sari (support engineer) presses it and is
refused (politely, on the audit log); a forged press names no incident; Tono (tech lead) presses
it and the incident is declared exactly as `/incident public` would (the notice proposed from
the title, the match from its category), and the button leaves the card. Budi and Dedi write
about failed payments and are linked. On the incident's card, "Update customers" asks Tono for
the text; a message of his in the group's General topic meanwhile is not taken for it, his next
message in the incident's topic is, and it reaches both customers, with the progress on the
card. After Resolve, each rating shows on the card (count and average). Budi writes again and is
asked whether the problem is still there: No opens nothing; Dedi's Yes opens his link as a
normal ticket with its own topic, what he wrote copied into it. Their messages are stored either
way."""

from __future__ import annotations

import pytest

from sandbox.telegram.client import Json
from services.rules import Rules
from tests.e2e.conftest import ADMIN, BUDI, World, fast_rules
from tests.e2e.test_escalation_story import put_on_roster
from tests.e2e.test_mass_incident_story import datas, press, said, start
from tests.e2e.test_support_story import choose_indonesian, open_ticket

SARI, TONO = 2001, 2003
DEDI = 1003


@pytest.fixture
def e2e_rules() -> Rules:
    return fast_rules(mass_incidents={"card_edit_seconds": 1})


async def cast(world: World) -> None:
    await put_on_roster(world, SARI, "Sari", "support_engineer")
    await put_on_roster(world, TONO, "Tono", "tech_lead")
    await world.tg.create_user(DEDI, first_name="Dedi", language_code="id")
    for user in (BUDI, DEDI):
        await start(world, user)


async def refused_and_audited(world: World, chat: int, message: Json, data: str) -> None:
    """Sari (support engineer) presses "Customer-facing": refused with an alert, nothing
    declared, and the refusal on the audit log with who and where."""
    refused = await press(world, SARI, chat, message, data)
    assert refused["show_alert"] is True
    assert refused["text"].startswith("Hanya engineer ke atas"), refused
    assert await world.pool.fetchval("SELECT count(*) FROM public_incidents") == 0
    assert await world.pool.fetchval(
        "SELECT count(*) FROM audit_log WHERE action = 'incident.public' AND NOT allowed "
        "AND actor_id = $1 AND chat_id = $2",
        SARI,
        chat,
    )


async def declared_by_command(world: World, button: str) -> Json:
    """The cast, and QC-000001 opened and declared customer-facing by the admin's commands: the
    support group's card, once it offers `button`."""
    await cast(world)
    await said(world, ADMIN, world.admin_chat_id, "/incident P1 Pakasir payments failing")
    await said(world, ADMIN, world.admin_chat_id, "/incident public QC-000001")
    card: Json = await world.tg.wait_for_message(
        world.support_chat_id, predicate=lambda m: button in datas(m)
    )
    return card


async def declared_with_two_linked(world: World) -> tuple[Json, int]:
    """QC-000001 declared by the command; Budi (QC-000002) and Dedi (QC-000003) linked. The
    support group's card and the incident's topic."""
    card = await declared_by_command(world, "mc:1:res")
    thread = card["message_thread_id"]
    for user, text in ((BUDI, "Pembayaran saya gagal terus"), (DEDI, "transaksi gagal")):
        notice = await said(world, user, user, text)
        assert any(d.startswith("mn:") for d in datas(notice)), notice
    return card, thread


async def resolved_with_two_linked(world: World) -> tuple[Json, int]:
    card, thread = await declared_with_two_linked(world)
    await press(world, TONO, world.support_chat_id, card, "mc:1:res")
    # both are told (the rating's buttons) before either writes again: a message they sent
    # before it arrived would read the resolution as its answer
    for user in (BUDI, DEDI):
        await world.tg.wait_for_message(
            user, predicate=lambda m: any(d.startswith("mr:") for d in datas(m))
        )
    return card, thread


async def test_the_incidents_customer_facing_button_declares_it(world: World) -> None:
    await cast(world)
    await said(world, ADMIN, world.admin_chat_id, "/incident P1 Pakasir payments failing")
    incident_card = await world.tg.wait_for_message(
        world.admin_chat_id, predicate=lambda m: "inc:1:pub:1" in datas(m)
    )
    assert "Umumkan ke pelanggan" in str(incident_card["reply_markup"]), incident_card

    # the permission table's word: a support engineer is refused, and it is on the audit log
    await refused_and_audited(world, world.admin_chat_id, incident_card, "inc:1:pub:1")
    # forged: no such incident
    query = await world.tg.press(
        TONO, world.admin_chat_id, incident_card["message_id"], "inc:999:pub:1", force=True
    )
    forged = await world.tg.callback_answer(query)
    assert forged["text"] == "Tiket ini bukan insiden.", forged

    declared = await press(world, TONO, world.admin_chat_id, incident_card, "inc:1:pub:1")
    assert "QC-000001" in declared["text"], declared
    row = await world.pool.fetchrow("SELECT categories, declared_by FROM public_incidents")
    assert list(row["categories"]) == ["payment"] and row["declared_by"] == TONO
    via = await world.pool.fetchval(
        "SELECT details->>'via' FROM ticket_events WHERE ticket_id = 1 AND kind = 'public_declared'"
    )
    assert via == "button"
    said_in_chat = await world.tg.wait_for_message(
        world.admin_chat_id, predicate=lambda m: "/incident notice QC-000001" in m["text"]
    )
    assert "payment" in said_in_chat["text"], said_in_chat["text"]
    # the incident's card no longer offers it; a stale press is answered, nothing changes
    await world.tg.wait_for_edit(
        world.admin_chat_id, incident_card["message_id"],
        predicate=lambda m: "inc:1:pub:1" not in datas(m),
    )  # fmt: skip
    query = await world.tg.press(
        TONO, world.admin_chat_id, incident_card["message_id"], "inc:1:pub:1", force=True
    )
    again = await world.tg.callback_answer(query)
    assert "sudah" in again["text"], again


async def test_update_customers_from_the_card(world: World) -> None:
    card, thread = await declared_with_two_linked(world)
    # "Update customers": refused for Sari, a prompt for Tono, his next message in the topic
    refused = await press(world, SARI, world.support_chat_id, card, "mc:1:upd")
    assert refused["show_alert"] is True and refused["text"].startswith("Hanya engineer")
    # /cancel leaves it: nothing is sent (the prompt arrives first: the outbox sends it after
    # the press is answered, and a /cancel sent before it would read it as its answer)
    await press(world, TONO, world.support_chat_id, card, "mc:1:upd")
    await world.tg.wait_for_message(
        world.support_chat_id, thread_id=thread, after_message_id=card["message_id"],
        predicate=lambda m: "/cancel" in m["text"],
    )  # fmt: skip
    cancel = await said(world, TONO, world.support_chat_id, "/cancel", thread_id=thread)
    assert cancel["text"] == "Tidak ada yang dikirim ke pelanggan.", cancel["text"]
    await press(world, TONO, world.support_chat_id, card, "mc:1:upd")
    prompt = await world.tg.wait_for_message(
        world.support_chat_id, thread_id=thread, after_message_id=cancel["message_id"],
        predicate=lambda m: "/cancel" in m["text"],
    )  # fmt: skip
    assert "QC-000001" in prompt["text"], prompt["text"]
    # a message of his elsewhere in the group (its General topic) is not the update
    await world.send(TONO, "Catatan di General", chat_id=world.support_chat_id)
    update = "Pakasir sedang memulihkan layanan <b>QRIS</b> & VA"
    sent = await world.send(TONO, update, chat_id=world.support_chat_id, thread_id=thread)
    queued = await world.tg.wait_for_message(
        world.support_chat_id, thread_id=thread, after_message_id=sent["message_id"],
        predicate=lambda m: "2" in m["text"] and "pelanggan" in m["text"],
    )  # fmt: skip
    assert "diantrekan" in queued["text"], queued["text"]
    for user in (BUDI, DEDI):
        got = await world.tg.wait_for_message(
            user, predicate=lambda m: "Pakasir sedang memulihkan" in m["text"]
        )
        assert "<b>QRIS</b> & VA" in got["text"], got["text"]
    assert not [m for m in await world.tg.messages(BUDI) if "Catatan di General" in m["text"]]
    await world.tg.wait_for_edit(
        world.support_chat_id, card["message_id"], predicate=lambda m: "2 / 2" in m["text"],
        timeout=20,
    )  # fmt: skip
    assert (
        await world.pool.fetchval(
            "SELECT count(*) FROM audit_log WHERE action = 'incident.update' AND allowed "
            "AND actor_id = $1",
            TONO,
        )
        == 1
    )


async def test_the_card_counts_the_ratings_of_the_resolution(world: World) -> None:
    card, _thread = await resolved_with_two_linked(world)
    budi_fixed = await world.tg.wait_for_message(BUDI, predicate=lambda m: "mr:1:5" in datas(m))
    dedi_fixed = await world.tg.wait_for_message(DEDI, predicate=lambda m: "mr:1:4" in datas(m))
    await world.tg.wait_for_edit(
        world.support_chat_id, card["message_id"],
        predicate=lambda m: "Belum ada penilaian" in m["text"],
    )  # fmt: skip
    await press(world, BUDI, BUDI, budi_fixed, "mr:1:5")
    await press(world, DEDI, DEDI, dedi_fixed, "mr:1:4")
    edited = await world.tg.wait_for_edit(
        world.support_chat_id, card["message_id"], predicate=lambda m: "2 penilaian" in m["text"],
        timeout=20,
    )  # fmt: skip
    assert "rata-rata 4.5/5" in edited["text"], edited["text"]
    admin_card = await world.tg.wait_for_message(
        world.admin_chat_id, predicate=lambda m: "insiden publik" in m["text"]
        and "2 penilaian" in m["text"], timeout=20,
    )  # fmt: skip
    assert "rata-rata 4.5/5" in admin_card["text"], admin_card["text"]


async def test_writing_after_the_fix_asks_whether_it_is_still_broken(world: World) -> None:
    _card, thread = await resolved_with_two_linked(world)
    # Budi writes again: asked, and "No" opens nothing; his message is kept with his link
    asked = await said(world, BUDI, BUDI, "Masih gagal? oh sudah bisa ternyata")
    assert datas(asked) == ["mn:2:again", "mn:2:fine"], asked
    assert "masih" in asked["text"], asked["text"]
    fine = await press(world, BUDI, BUDI, asked, "mn:2:fine")
    assert "Tidak ada tiket" in fine["text"], fine
    row = await world.pool.fetchrow(
        "SELECT kind, status, topic_outbox_id FROM tickets WHERE id = 2"
    )
    assert dict(row) == {"kind": "linked", "status": "resolved", "topic_outbox_id": None}
    bodies = [
        r["body"]
        for r in await world.pool.fetch(
            "SELECT body FROM ticket_messages WHERE ticket_id = 2 ORDER BY id"
        )
    ]
    assert bodies[-1] == "Masih gagal? oh sudah bisa ternyata", bodies
    # a press by someone else on Dedi's question is refused and audited
    asked_dedi = await said(world, DEDI, DEDI, "Masih belum bisa bayar, saldo terpotong")
    assert datas(asked_dedi) == ["mn:3:again", "mn:3:fine"], asked_dedi
    query = await world.tg.press(BUDI, BUDI, asked["message_id"], "mn:3:again", force=True)
    not_yours = await world.tg.callback_answer(query)
    assert not_yours["show_alert"] is True, not_yours
    assert await world.pool.fetchval(
        "SELECT count(*) FROM audit_log WHERE action = 'incident.link' AND NOT allowed "
        "AND actor_id = $1 AND target = 'ticket:3'",
        BUDI,
    )
    assert await world.pool.fetchval("SELECT kind FROM tickets WHERE id = 3") == "linked"
    # Dedi says yes: a normal ticket with its own topic, what he wrote copied into it
    reopened = await press(world, DEDI, DEDI, asked_dedi, "mn:3:again")
    assert "QC-000003" in reopened["text"], reopened
    told = await world.tg.wait_for_message(DEDI, predicate=lambda m: "QC-000003" in m["text"])
    assert "tim kami akan membalas" in told["text"], told["text"]
    row = await world.pool.fetchrow(
        "SELECT kind, status, topic_outbox_id FROM tickets WHERE id = 3"
    )
    assert row["kind"] == "normal" and row["status"] == "open" and row["topic_outbox_id"]
    topics = await world.tg.topics(world.support_chat_id)
    assert len(topics) == 2, topics
    dedi_topic = next(t for t in topics if t["message_thread_id"] != thread)["message_thread_id"]
    await world.tg.wait_for_message(
        world.support_chat_id, thread_id=dedi_topic,
        predicate=lambda m: "saldo terpotong" in m["text"],
    )  # fmt: skip
    query = await world.tg.press(DEDI, DEDI, asked_dedi["message_id"], "mn:3:again", force=True)
    stale = await world.tg.callback_answer(query)
    assert stale["show_alert"] is True, stale
    kinds = [
        r["kind"]
        for r in await world.pool.fetch(
            "SELECT kind FROM ticket_events WHERE ticket_id = 1 AND kind LIKE 'public%' ORDER BY id"
        )
    ]
    assert kinds == [
        "public_declared", "public_resolved", "public_link_reopened",
    ], kinds  # fmt: skip
    # Budi (who said it works) opens a ticket from the menu about something else: a ticket of
    # the desk, not another "is it still there?"
    await choose_indonesian(world, BUDI)
    before = len(await world.tg.messages(BUDI))
    confirmation = await open_ticket(world, BUDI, "account", "Saya tidak bisa ganti email", None)
    assert "QC-000004" in confirmation["text"], confirmation["text"]
    row = await world.pool.fetchrow(
        "SELECT kind, customer_id, topic_outbox_id FROM tickets WHERE id = 4"
    )
    assert row["kind"] == "normal" and row["customer_id"] == BUDI and row["topic_outbox_id"]
    later = (await world.tg.messages(BUDI))[before:]
    assert not [m for m in later if "mn:2:again" in datas(m)], later
    assert await world.pool.fetchval("SELECT status FROM tickets WHERE id = 2") == "resolved"
