"""Escalation end to end: Rina puts Sari (support) and Dewi (senior, on call) on the roster in the
admin chat, raises a P0 "Payment gateway down"; Sari presses Escalate ↑ on the incident message,
every copy moves to level 2 in place and Dewi (not Eko, a senior who is off call) is paged with
Acknowledge / Escalate / Resolve; Budi (a customer) and Sari press Resolve and are refused
politely and audited; Dewi acknowledges and resolves; /timeline tells the whole story."""

from __future__ import annotations

from typing import Any

from tests.e2e.conftest import ADMIN, BUDI, World

Json = dict[str, Any]

SARI = 2001  # support engineer, level 1
DEWI = 2002  # senior engineer, on call: level 2
EKO = 2003  # senior engineer, off call


def datas(message: Json) -> list[str]:
    markup = message.get("reply_markup") or {}
    return [b.get("callback_data", "") for row in markup.get("inline_keyboard", []) for b in row]


def has_buttons(*wanted: str) -> Any:
    return lambda m: all(w in datas(m) for w in wanted)


async def press(world: World, user: int, chat: int, message: Json, data: str) -> Json:
    assert data in datas(message), (data, datas(message))
    query = await world.tg.press(user, chat, message["message_id"], data)
    answer: Json = await world.tg.callback_answer(query)
    return answer


async def admin_says(world: World, text: str, *, reply_to: int | None = None) -> Json:
    """Rina writes in the admin chat; the bot's answer to it."""
    sent = await world.send(ADMIN, text, chat_id=world.admin_chat_id, reply_to=reply_to)
    answer: Json = await world.tg.wait_for_message(
        world.admin_chat_id,
        after_message_id=sent["message_id"],
        predicate=lambda m: m.get("reply_markup") is None,  # not an incident notice
    )
    return answer


async def put_on_roster(world: World, user_id: int, name: str, role: str) -> None:
    """The person says hello in the admin chat; Rina replies to it with /staff add <role>."""
    await world.tg.create_user(user_id, first_name=name, language_code="id")
    hello = await world.send(user_id, f"Halo, saya {name}", chat_id=world.admin_chat_id)
    answer = await admin_says(world, f"/staff add {role}", reply_to=hello["message_id"])
    assert name in answer["text"], answer["text"]


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
        world.admin_chat_id, notice["message_id"], predicate=has_buttons("inc:1:res:2")
    )
    assert "Level 2 dari 5" in notice["text"], notice["text"]
    assert "inc:1:esc:1" not in datas(notice)
    sari_page = await world.tg.wait_for_edit(
        SARI, sari_page["message_id"], predicate=has_buttons("inc:1:res:2")
    )
    dewi_page = await world.tg.wait_for_message(DEWI, predicate=has_buttons("inc:1:res:2"))
    assert datas(dewi_page) == ["inc:1:ack:2", "inc:1:esc:2", "inc:1:res:2"]
    labels = [b["text"] for b in dewi_page["reply_markup"]["inline_keyboard"][0]]
    assert len(labels) == 3 and "↑" in labels[1], labels
    assert "dieskalasi ke level 2" in dewi_page["text"], dewi_page["text"]
    assert "Payment gateway down" in dewi_page["text"]
    # Eko is a senior engineer too, but not on call: nobody woke him.
    assert await world.pool.fetchval("SELECT count(*) FROM outbox WHERE chat_id = $1", EKO) == 0
    assert await world.tg.messages(EKO) == []
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
    notice = await world.tg.wait_for_edit(
        world.admin_chat_id,
        notice["message_id"],
        after_edit_count=notice["edit_count"],
        predicate=lambda m: "Diterima oleh Dewi" in m["text"],
    )
    assert datas(notice) == ["inc:1:esc:2", "inc:1:res:2"]
    dewi_page = await world.tg.wait_for_edit(
        DEWI, dewi_page["message_id"], predicate=lambda m: "Diterima oleh Dewi" in m["text"]
    )
    # She may resolve.
    done = await press(world, DEWI, DEWI, dewi_page, "inc:1:res:2")
    assert done["text"] == "QC-000001 selesai.", done
    notice = await world.tg.wait_for_edit(
        world.admin_chat_id,
        notice["message_id"],
        after_edit_count=notice["edit_count"],
        predicate=lambda m: "sudah selesai" in m["text"],
    )
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
