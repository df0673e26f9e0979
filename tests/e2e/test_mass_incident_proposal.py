"""The bot notices a mass incident before staff do: ten payment tickets within minutes and no
incident declared give exactly one proposal in the support group and one in the admin chat.
Sari (support engineer) presses Declare and is refused (the permission table says engineers
and up), politely and on the audit log; Tono (tech lead) presses it and the incident is
declared customer-facing: the ten customers with an open payment ticket are offered the link,
a new customer writing about a failed payment gets the notice at once, and `/status` shows it.
"""

from __future__ import annotations

import asyncio

import pytest

from bot.keys import REDIS
from services import users
from services.classification import Category
from services.clock import SystemClock
from services.rules import Rules
from services.tickets import desk
from services.tickets.config import DeskConfig
from tests.e2e.conftest import World, fast_rules
from tests.e2e.test_escalation_story import put_on_roster
from tests.e2e.test_mass_incident_story import datas, press, said
from tests.e2e.test_support_story import choose_indonesian, open_ticket

SARI, TONO = 2001, 2003
FIRST = 4001


@pytest.fixture
def e2e_rules() -> Rules:
    return fast_rules(mass_incidents={"scan_seconds": 0.3, "card_edit_seconds": 1})


def proposals(messages: list[dict[str, object]]) -> list[dict[str, object]]:
    return [m for m in messages if any(d.startswith("mp:") for d in datas(m))]


async def test_ten_payment_tickets_are_proposed_once_and_only_engineers_declare(
    world: World,
) -> None:
    await put_on_roster(world, SARI, "Sari", "support_engineer")
    await put_on_roster(world, TONO, "Tono", "tech_lead")
    cfg = DeskConfig.build(
        support_chat_id=world.support_chat_id, timezone="Asia/Jakarta", staff_locale="id",
        rules=world.rules,
    )  # fmt: skip
    assert world.runner is not None
    redis = world.runner.app[REDIS]
    for i in range(10):
        uid = FIRST + i
        await world.tg.create_user(uid, first_name=f"Pelanggan{i}", language_code="id")
        start = await world.send(uid, "/start")
        await world.reply_to(uid, after=start["message_id"])
        await users.set_language(world.pool, uid, "id")
        person = await users.get(world.pool, uid)
        assert person is not None
        await desk.open_ticket(
            world.pool, redis, cfg, SystemClock(), customer=person, category=Category.PAYMENT,
            description=f"Pembayaran QRIS saya gagal ({i})",
        )  # fmt: skip

    support = await world.tg.wait_for_message(
        world.support_chat_id, predicate=lambda m: "mp:1:decl" in datas(m), timeout=20
    )
    admin = await world.tg.wait_for_message(
        world.admin_chat_id, predicate=lambda m: "mp:1:decl" in datas(m), timeout=20
    )
    assert "10" in support["text"] and "Usulan pemberitahuan" in support["text"], support["text"]
    await asyncio.sleep(1.5)  # several scans later: still one proposal per chat
    assert len(proposals(await world.tg.messages(world.support_chat_id))) == 1
    assert len(proposals(await world.tg.messages(world.admin_chat_id))) == 1
    assert await world.pool.fetchval("SELECT count(*) FROM public_incidents") == 0

    refused = await press(world, SARI, world.support_chat_id, support, "mp:1:decl")
    assert refused["show_alert"] is True
    assert refused["text"].startswith("Hanya engineer ke atas"), refused
    audited = await world.pool.fetchval(
        "SELECT count(*) FROM audit_log WHERE action = 'incident.public' AND NOT allowed "
        "AND actor_id = $1",
        SARI,
    )
    assert audited == 1
    assert await world.pool.fetchval("SELECT count(*) FROM public_incidents") == 0

    declared = await press(world, TONO, world.admin_chat_id, admin, "mp:1:decl")
    assert "QC-000011" in declared["text"], declared
    row = await world.pool.fetchrow("SELECT categories, declared_by FROM public_incidents")
    assert list(row["categories"]) == ["payment"] and row["declared_by"] == TONO

    # the ten customers with an open payment ticket are offered the link
    offer = await world.tg.wait_for_message(FIRST, predicate=lambda m: "mn:1:link" in datas(m))
    answer = await press(world, FIRST, FIRST, offer, "mn:1:link")
    assert answer["text"], answer
    assert await world.pool.fetchval("SELECT kind FROM tickets WHERE id = 1") == "linked"
    offers = await world.pool.fetchval(
        "SELECT count(*) FROM outbox WHERE dedup_key LIKE 'puboffer:11:%'"
    )
    assert offers == 10

    # a new customer is answered at once; /status shows the known issue
    await world.tg.create_user(4100, first_name="Wati", language_code="id")
    notice = await said(world, 4100, 4100, "Bayar pakai VA gagal terus")
    assert datas(notice) == ["mn:12:diff", "mn:12:ok"], notice
    status = await said(world, 4100, 4100, "/status")
    assert "Kami tahu ada gangguan" in status["text"], status["text"]

    # a new ticket from the menu that matches is linked as well, with no topic of its own
    await world.tg.create_user(4200, first_name="Yogi", language_code="id")
    await choose_indonesian(world, 4200)
    answer = await open_ticket(world, 4200, "payment", "Tidak bisa bayar pesanan saya", None)
    assert any(d.startswith("mn:") for d in datas(answer)), answer
    row = await world.pool.fetchrow(
        "SELECT kind, parent_id, topic_outbox_id FROM tickets WHERE customer_id = 4200"
    )
    assert dict(row) == {"kind": "linked", "parent_id": 11, "topic_outbox_id": None}
