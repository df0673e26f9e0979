"""A missed response deadline with the demo clock (issue 13, items 1 and 2): Budi's P1 payment
ticket is left unanswered past its hour. Sari (the on-call support engineer: nobody took the
ticket) and Dimas (the on-call senior engineer, the next level) each get exactly one notice, the
timeline says so once, and the card in the topic is edited to say how late the answer is. The
card keeps Telegram's pace on the scan's clock (one edit a minute at most, the newest state in
it), while what a person does shows at once."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from bot.keys import FEATURES
from sandbox.telegram.client import Json
from services import roster, users
from services.clock import Clock, FrozenClock
from services.escalation.scan import scan_once
from services.rules import Rules
from services.tickets import history
from services.users import Role
from tests.cast import ADMIN, BUDI
from tests.e2e.conftest import FAST_DELIVERY, World, fast_rules
from tests.e2e.test_support_story import card_of, choose_indonesian, open_ticket, press

SARI = 2001  # support engineer, on call
DIMAS = 2002  # senior engineer, on call: the next level
T0 = datetime(2026, 11, 2, 3, 0, tzinfo=UTC)  # Monday 10:00 in Jakarta


@pytest.fixture
def e2e_clock() -> Clock:
    return FrozenClock(T0)


@pytest.fixture
def e2e_rules() -> Rules:
    # Telegram's pacing is open as in every story, except the card's: one edit a minute.
    return fast_rules(
        delivery={**FAST_DELIVERY, "poll_interval": 0.2}, support={"card_edit_seconds": 60}
    )


async def on_roster(world: World, user_id: int, name: str, role: Role) -> None:
    """A staff member who has started the bot, on the roster and on call for `role`."""
    await world.tg.create_user(user_id, first_name=name, language_code="id")
    await users.touch(world.pool, user_id, first_name=name)
    await users.set_language(world.pool, user_id, "id")
    await roster.add_member(
        world.pool, user_id=user_id, display_name=name, roles=[role], added_by=ADMIN
    )
    await roster.set_on_call(world.pool, role, user_id, set_by=ADMIN)
    sent = await world.send(user_id, "/start")
    await world.reply_to(user_id, after=sent["message_id"])


async def notices(world: World, user_id: int) -> list[Json]:
    return [m for m in await world.tg.messages(user_id) if "⏰" in (m.get("text") or "")]


async def scan(world: World) -> None:
    """The escalation worker's scan, now (the worker itself wakes up to 15 s later). The
    worker's own scan may hold a ticket (SKIP LOCKED) with the time it read before the clock
    moved; then this scan passes it by, and the next one takes it, as the worker's next tick
    would."""
    assert world.runner is not None
    context = world.runner.app[FEATURES].escalation_context
    for _ in range(50):
        await scan_once(world.pool, world.clock, context)
        due = "SELECT count(*) FROM tickets WHERE next_check_at <= $1"
        if not await world.pool.fetchval(due, world.clock.now()):
            return
        await asyncio.sleep(0.1)


async def test_an_unanswered_p1_is_told_once_to_support_and_the_next_level(world: World) -> None:
    clock = world.frozen_clock
    await on_roster(world, SARI, "Sari", Role.SUPPORT_ENGINEER)
    await on_roster(world, DIMAS, "Dimas", Role.SENIOR_ENGINEER)
    await choose_indonesian(world, BUDI)
    await open_ticket(world, BUDI, "payment", "Pembayaran QRIS gagal, saldo terpotong", None)
    card = await card_of(world, "QC-000001")
    assert "Batas respons: 2026-11-02 11:00 WIB · sisa 1 j 00 mnt" in card["text"]

    clock.set(T0 + timedelta(hours=2, minutes=30))  # 1 h 30 min past the response deadline
    await scan(world)
    for person in (SARI, DIMAS):
        told = await world.tg.wait_for_message(person, predicate=lambda m: "⏰" in m["text"])
        assert told["text"].startswith("⏰ QC-000001 belum dibalas sampai lewat batas waktu")
        assert "⚠️ terlambat 1 j 30 mnt" in told["text"]
    edited = await world.tg.wait_for_edit(
        world.support_chat_id,
        card["message_id"],
        predicate=lambda m: "terlambat" in m["text"],
    )
    assert "Batas respons: 2026-11-02 11:00 WIB · ⚠️ terlambat 1 j 30 mnt" in edited["text"]

    clock.advance(minutes=20)
    await scan(world)  # again: nobody is told twice, the card has nothing new to say
    await asyncio.sleep(0.5)
    assert [len(await notices(world, p)) for p in (SARI, DIMAS)] == [1, 1]
    assert await notices(world, world.admin_chat_id) == []
    breaches = [e for e in await history.timeline(world.pool, 1) if e.kind == "response_breached"]
    assert [e.details["told"] for e in breaches] == [[SARI, DIMAS]]

    # Sari takes it within the minute of the scan's edit: what she did shows at once
    clock.set(T0 + timedelta(hours=2, minutes=30, seconds=20))
    await press(world, SARI, world.support_chat_id, edited, "tk:1:ack")
    followed = await world.tg.wait_for_edit(
        world.support_chat_id, card["message_id"], after_edit_count=1
    )
    assert "👀 ditangani" in followed["text"].split("\n")[0]
    assert "Penanggung jawab: Sari" in followed["text"]
    assert "terpenuhi" not in followed["text"]  # answered late: the line says it was missed
