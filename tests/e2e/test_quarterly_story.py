"""Quarterly deep maintenance end to end, on the first day of Q1 2027 (the e2e clock):
Rina types /quarter in the admin chat and sees Q1's Security & Compliance checklist with a
button per task; Sari (support, not an owner) presses one and is refused and audited; Satria
(security) ticks the penetration test with a file and the security training with a note;
Rina (admin) ticks the GDPR audit with a note, the last task, and the quarterly report arrives
in the admin chat: what was done, by whom, with which evidence, nothing slipped."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from sandbox.telegram.client import Json
from services import roster
from services.clock import FrozenClock
from services.users import Role
from tests.cast import ADMIN
from tests.e2e.buttons import datas
from tests.e2e.conftest import World

SATRIA, SARI = 2006, 2001
NEW_YEAR = datetime(2026, 12, 31, 17, 10, tzinfo=UTC)  # 2027-01-01 00:10 in Jakarta


@pytest.fixture
def e2e_clock() -> FrozenClock:
    return FrozenClock(NEW_YEAR)


async def checklist(world: World) -> Json:
    sent = await world.send(ADMIN, "/quarter", chat_id=world.admin_chat_id)
    answer: Json = await world.reply_to(world.admin_chat_id, after=sent["message_id"])
    return answer


async def tick(world: World, user: int, message: Json, task: int, evidence: str | bytes) -> Json:
    query = await world.tg.press(
        user, world.admin_chat_id, message["message_id"], f"qt:tick:{task}"
    )
    await world.tg.callback_answer(query)
    prompt = await world.tg.wait_for_message(
        world.admin_chat_id,
        predicate=lambda m: "/cancel" in m["text"] and m.get("from", {}).get("is_bot"),
    )
    if isinstance(evidence, bytes):
        sent = await world.tg.send_document(
            user, world.admin_chat_id, evidence, "pentest-2027Q1.pdf", "application/pdf"
        )
    else:
        sent = await world.send(user, evidence, chat_id=world.admin_chat_id)
    # the answer to the evidence; the quarterly report the last tick sends is its own message
    # (📋) and so are its evidence files (documents), and under load either may leave first:
    # they are queued inside the tick, the answer after them
    done: Json = await world.reply_to(
        world.admin_chat_id,
        after=max(sent["message_id"], prompt["message_id"]),
        predicate=lambda m: "text" in m and not m["text"].startswith("📋"),
    )
    return done


async def test_the_first_day_of_q1_shows_its_checklist_and_ticking_every_task_reports(
    world: World,
) -> None:
    for user_id, name, role in [
        (SATRIA, "Satria", Role.SECURITY),
        (SARI, "Sari", Role.SUPPORT_ENGINEER),
    ]:
        await world.tg.create_user(user_id, first_name=name, language_code="id")
        await roster.add_member(
            world.pool, user_id=user_id, display_name=name, roles=[role], added_by=ADMIN
        )
    # The admin chat speaks English for this story.
    await world.pool.execute(
        "INSERT INTO chat_settings (chat_id, language) VALUES ($1, 'en')"
        " ON CONFLICT (chat_id) DO UPDATE SET language = 'en'",
        world.admin_chat_id,
    )

    shown = await checklist(world)
    text = shown["text"]
    assert "Q1 2027" in text and "Security &amp; Compliance" not in text, text
    assert "Security & Compliance" in text, text
    assert "0 of 3 done; due by 2027-03-31." in text, text
    for title in ("Penetration testing", "GDPR audit", "Security training"):
        assert title in text, text
    assert datas(shown) == ["qt:tick:1", "qt:tick:2", "qt:tick:3"]
    assert (
        await world.pool.fetchval("SELECT count(*) FROM quarter_tasks WHERE quarter = '2027Q1'")
        == 3
    )

    # Sari is not the owner of the penetration test: refused, recorded, nothing asked.
    query = await world.tg.press(SARI, world.admin_chat_id, shown["message_id"], "qt:tick:1")
    answer = await world.tg.callback_answer(query)
    assert answer["show_alert"] is True and "(Security)" in answer["text"], answer
    refused = await world.pool.fetch(
        "SELECT actor_id, target FROM audit_log WHERE action = 'quarter.tick' AND NOT allowed"
    )
    assert [(r["actor_id"], r["target"]) for r in refused] == [(SARI, "2027Q1:pentest")]

    done = await tick(world, SATRIA, shown, 1, b"%PDF-1.4 pentest findings")
    assert "2 task(s) of the quarter still open" in done["text"], done["text"]
    done = await tick(world, SATRIA, shown, 3, "All 14 staff finished the phishing course")
    assert "1 task(s)" in done["text"], done["text"]
    done = await tick(world, ADMIN, shown, 2, "DPA reviewed with legal <ok>")
    assert "quarterly report" in done["text"], done["text"]

    report = await world.tg.wait_for_message(
        world.admin_chat_id, predicate=lambda m: "Quarterly report" in (m.get("text") or "")
    )
    text = report["text"]
    assert "Quarterly report Q1 2027: Security & Compliance" in text, text
    assert "3 of 3 tasks done, 0 slipped." in text, text
    assert "Penetration testing (Security): done by Satria on 2027-01-01 00:10" in text, text
    assert "📎 pentest-2027Q1.pdf" in text, text
    assert "“All 14 staff finished the phishing course”" in text, text
    assert (
        "GDPR audit (Management): done by Rina" in text and "“DPA reviewed with legal <ok>”" in text
    )
    assert "Nothing slipped." in text
    evidence = await world.tg.wait_for_message(
        world.admin_chat_id,
        predicate=lambda m: (
            bool(m.get("document")) and "Penetration testing" in (m.get("caption") or "")
        ),
    )
    assert evidence["document"]["file_name"] == "pentest-2027Q1.pdf"
    # /quarter now shows everything done, each with a Reopen button.
    shown = await checklist(world)
    assert "3 of 3 done" in shown["text"] and datas(shown) == [
        "qt:undo:1",
        "qt:undo:2",
        "qt:undo:3",
    ]
