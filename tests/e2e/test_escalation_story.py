"""Escalation end to end: Rina puts Sari (support) and Dewi (senior, on call) on the roster in the
admin chat, raises a P0 "Payment gateway down"; Sari presses Escalate ↑ on the incident message,
every copy moves to level 2 in place and Dewi (not Eko, a senior who is off call) is paged with
Acknowledge / Escalate / Resolve; Budi (a customer) and Sari press Resolve and are refused
politely and audited; Dewi acknowledges and resolves; /timeline tells the whole story."""

from __future__ import annotations

from typing import Any

from sandbox.telegram.client import Json
from tests.cast import ADMIN, BUDI
from tests.e2e.buttons import next_edit, press
from tests.e2e.conftest import World

SARI = 2001  # support engineer, level 1
DEWI = 2002  # senior engineer, on call: level 2
EKO = 2003  # senior engineer, off call
DIMAS = 2004  # senior engineer, on call, who never pressed Start


def datas(message: Json) -> list[str]:
    """The buttons' callback data (link buttons, such as the incident room's, carry none)."""
    markup = message.get("reply_markup") or {}
    rows = markup.get("inline_keyboard", [])
    return [b["callback_data"] for row in rows for b in row if "callback_data" in b]


def has_buttons(*wanted: str) -> Any:
    return lambda m: all(w in datas(m) for w in wanted)


async def admin_says(world: World, text: str, *, reply_to: int | None = None) -> Json:
    """Rina writes in the admin chat; the bot's answer to it."""
    sent = await world.send(ADMIN, text, chat_id=world.admin_chat_id, reply_to=reply_to)
    answer: Json = await world.tg.wait_for_message(
        world.admin_chat_id,
        after_message_id=sent["message_id"],
        predicate=lambda m: m.get("reply_markup") is None,  # not an incident notice
    )
    return answer


async def put_on_roster(
    world: World, user_id: int, name: str, role: str, *, started: bool = True
) -> Json:
    """The person says hello in the admin chat; Rina replies to it with /staff add <role>.
    `started`: they pressed Start in a private chat with the bot, as staff are told to (without
    it Telegram does not let the bot message them privately)."""
    await world.tg.create_user(user_id, first_name=name, language_code="id")
    if started:
        sent = await world.send(user_id, "/start")
        await world.reply_to(user_id, after=sent["message_id"])
    hello = await world.send(user_id, f"Halo, saya {name}", chat_id=world.admin_chat_id)
    answer = await admin_says(world, f"/staff add {role}", reply_to=hello["message_id"])
    assert name in answer["text"], answer["text"]
    return answer


def from_incidents(messages: list[Json]) -> list[Json]:
    return [m for m in messages if any(d.startswith("inc:") for d in datas(m))]


async def test_escalate_pages_the_next_on_call_and_only_engineers_resolve(world: World) -> None:
    await put_on_roster(world, SARI, "Sari", "support_engineer")
    await put_on_roster(world, DEWI, "Dewi", "senior_engineer")
    await put_on_roster(world, EKO, "Eko", "senior_engineer")
    on_call = await admin_says(world, f"/oncall set senior_engineer {DEWI}")
    assert "Dewi" in on_call["text"], on_call["text"]

    opened = await admin_says(world, "/incident P0 Payment gateway down")
    assert "QC-000001" in opened["text"] and "P0" in opened["text"], opened["text"]
    notice = await world.tg.wait_for_message(
        world.admin_chat_id, predicate=has_buttons("inc:1:esc:1")
    )
    assert "Payment gateway down" in notice["text"]
    assert "Level 1 dari 5" in notice["text"], notice["text"]
    sari_page = await world.tg.wait_for_message(SARI, predicate=has_buttons("inc:1:esc:1"))

    # Sari, level 1, asks for help from the incident message in the admin chat.
    answer = await press(world, SARI, world.admin_chat_id, notice, "inc:1:esc:1")
    assert answer["text"] == "QC-000001 sekarang di level 2.", answer

    notice = await world.tg.wait_for_edit(
        world.admin_chat_id, notice["message_id"], predicate=has_buttons("inc:1:res:2"), timeout=30
    )
    assert "Level 2 dari 5" in notice["text"], notice["text"]
    assert "inc:1:esc:1" not in datas(notice)
    sari_page = await world.tg.wait_for_edit(
        SARI, sari_page["message_id"], predicate=has_buttons("inc:1:res:2"), timeout=30
    )
    dewi_page = await world.tg.wait_for_message(DEWI, predicate=has_buttons("inc:1:res:2"))
    assert datas(dewi_page) == ["inc:1:ack:2", "inc:1:esc:2", "inc:1:res:2", "inc:1:pub:2"]
    labels = [b["text"] for b in dewi_page["reply_markup"]["inline_keyboard"][0]]
    assert len(labels) == 3 and "↑" in labels[1], labels
    assert "dieskalasi ke level 2" in dewi_page["text"], dewi_page["text"]
    assert "Payment gateway down" in dewi_page["text"]
    # Eko is a senior engineer too, but not on call: nobody woke him.
    paged_eko = "SELECT count(*) FROM outbox WHERE chat_id = $1 AND owner LIKE 'incident:%'"
    assert await world.pool.fetchval(paged_eko, EKO) == 0
    assert from_incidents(await world.tg.messages(EKO)) == []
    level = await world.pool.fetchval("SELECT level FROM incidents WHERE ticket_id = 1")
    assert level == 2

    # A customer and a support engineer may not resolve: a polite refusal, recorded.
    refused = await press(world, BUDI, world.admin_chat_id, notice, "inc:1:res:2")
    assert refused["show_alert"] is True
    assert refused["text"].startswith("Hanya engineer ke atas"), refused
    refused = await press(world, SARI, SARI, sari_page, "inc:1:res:2")
    assert refused["text"].startswith("Hanya engineer ke atas"), refused
    refusals = await world.pool.fetch(
        "SELECT actor_id, target, chat_id FROM audit_log"
        " WHERE action = 'incident.resolve' AND NOT allowed ORDER BY id"
    )
    assert [(r["actor_id"], r["target"], r["chat_id"]) for r in refusals] == [
        (BUDI, "QC-000001", world.admin_chat_id),
        (SARI, "QC-000001", SARI),
    ]
    still = await world.pool.fetchrow("SELECT level, resolved_at FROM incidents")
    assert still is not None
    assert (still["level"], still["resolved_at"]) == (2, None)

    # Dewi, the on-call senior engineer, takes it: every copy says who, and when.
    taken = await press(world, DEWI, DEWI, dewi_page, "inc:1:ack:2")
    assert taken["text"] == "Anda menerima QC-000001.", taken
    notice = await next_edit(world, world.admin_chat_id, notice, "Diterima oleh Dewi")
    assert datas(notice) == ["inc:1:esc:2", "inc:1:res:2", "inc:1:pub:2"]
    dewi_page = await world.tg.wait_for_edit(
        DEWI, dewi_page["message_id"], predicate=lambda m: "Diterima oleh Dewi" in m["text"]
    )
    # She may resolve.
    done = await press(world, DEWI, DEWI, dewi_page, "inc:1:res:2")
    assert done["text"] == "QC-000001 selesai.", done
    notice = await next_edit(world, world.admin_chat_id, notice, "sudah selesai")
    assert datas(notice) == []
    allowed = await world.pool.fetch(
        "SELECT action, actor_id FROM audit_log WHERE allowed AND action LIKE 'incident.%'"
        " ORDER BY id"
    )
    assert [(r["action"], r["actor_id"]) for r in allowed] == [
        ("incident.open", ADMIN),
        ("incident.escalate", SARI),
        ("incident.acknowledge", DEWI),
        ("incident.resolve", DEWI),
    ]

    timeline = await admin_says(world, "/timeline QC-000001")
    text = timeline["text"]
    steps = [
        "Linimasa QC-000001",
        "Insiden dibuka dengan prioritas P0, level 1",
        "Memberi tahu Sari",
        "Dieskalasi oleh Sari dari level 1 ke level 2",
        "Memberi tahu Dewi",
        "Diterima oleh Dewi di level 2",
        "Diselesaikan oleh Dewi di level 2",
    ]
    positions = [text.find(step) for step in steps]
    assert all(p >= 0 for p in positions) and positions == sorted(positions), text
    assert "Eko" not in text


async def test_a_senior_who_never_pressed_start_is_paged_in_the_admin_chat(world: World) -> None:
    """Dimas is put on the roster and on call but never wrote to the bot in private: Telegram
    refuses the bot's private page (403). The admin chat is told once, and his pages come there,
    mentioning him, until he presses Start; after that they reach him privately again."""
    await put_on_roster(world, SARI, "Sari", "support_engineer")
    added = await put_on_roster(world, DIMAS, "Dimas", "senior_engineer", started=False)
    assert "tekan Start" in added["text"], added["text"]
    await admin_says(world, f"/oncall set senior_engineer {DIMAS}")

    async def escalated_incident(number: int, title: str) -> Json:
        await admin_says(world, f"/incident P0 {title}")
        card = await world.tg.wait_for_message(
            world.admin_chat_id, predicate=has_buttons(f"inc:{number}:esc:1")
        )
        await press(world, SARI, world.admin_chat_id, card, f"inc:{number}:esc:1")
        return card

    card = await escalated_incident(1, "Payment gateway down")
    page = await world.tg.wait_for_message(
        world.admin_chat_id,
        after_message_id=card["message_id"],
        predicate=has_buttons("inc:1:ack:2"),
    )
    assert "dieskalasi ke level 2" in page["text"] and "Dimas" in page["text"], page["text"]
    told = await world.tg.wait_for_message(
        world.admin_chat_id, predicate=lambda m: "belum start bot" in (m.get("text") or "")
    )
    assert "Dimas" in told["text"], told["text"]
    # he acts on the page where it reached him
    taken = await press(world, DIMAS, world.admin_chat_id, page, "inc:1:ack:2")
    assert taken["text"] == "Anda menerima QC-000001.", taken

    # the next page goes straight to the admin chat, and nobody is told a second time
    card = await escalated_incident(2, "Database down")
    await world.tg.wait_for_message(
        world.admin_chat_id,
        after_message_id=card["message_id"],
        predicate=has_buttons("inc:2:ack:2"),
    )
    # (his page only: the edits that followed it, such as the room's link, had nothing to edit)
    tried = await world.pool.fetch(
        "SELECT status FROM outbox WHERE chat_id = $1 AND kind = 'text'", DIMAS
    )
    assert [r["status"] for r in tried] == ["failed"]  # the first page only
    notices = [
        m
        for m in await world.tg.messages(world.admin_chat_id)
        if "belum start bot" in (m.get("text") or "")
    ]
    assert len(notices) == 1
    assert from_incidents(await world.tg.messages(DIMAS)) == []

    # Dimas presses Start: his next page reaches him privately
    sent = await world.send(DIMAS, "/start")
    await world.reply_to(DIMAS, after=sent["message_id"])
    await escalated_incident(3, "Redis down")
    private = await world.tg.wait_for_message(DIMAS, predicate=has_buttons("inc:3:ack:2"))
    assert "dieskalasi ke level 2" in private["text"], private["text"]


async def test_what_an_incident_cannot_do_is_answered_with_the_reason(world: World) -> None:
    """The escalation router answers its expected errors (handlers.refusals.answers): a ticket
    that does not exist, and a press on a level the incident has already left."""
    missing = await admin_says(world, "/escalate QC-000099")
    assert missing["text"] == "Tiket itu tidak ada.", missing
    await admin_says(world, "/incident P1 Checkout slow")
    notice = await world.tg.wait_for_message(
        world.admin_chat_id, predicate=has_buttons("inc:1:esc:1")
    )
    sent = await world.send(ADMIN, "/escalate QC-000001", chat_id=world.admin_chat_id)
    await world.tg.wait_for_message(
        world.admin_chat_id, after_message_id=sent["message_id"],
        predicate=lambda m: m["text"] == "QC-000001 sekarang di level 2.",
    )  # fmt: skip
    query = await world.tg.press(
        ADMIN, world.admin_chat_id, notice["message_id"], "inc:1:esc:1", force=True
    )
    stale = await world.tg.callback_answer(query)
    assert stale["text"] == "Seseorang sudah memindahkan insiden ini: sekarang di level 2."
    assert stale["show_alert"], stale
    level = await world.pool.fetchval("SELECT level FROM incidents WHERE ticket_id = 1")
    assert level == 2
