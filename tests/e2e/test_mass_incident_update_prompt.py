"""The card's "Update customers" takes the presser's next message only for a while: Tono presses
it and is called away; eleven minutes later what he writes in the incident's topic is a note of
his, not an update to every affected customer. Pressed again, his next message is the update.
(The bot's clock is moved by hand, as in the alert story.)"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from services.clock import FrozenClock
from services.rules import Rules
from tests.e2e.conftest import BUDI, World, fast_rules
from tests.e2e.test_mass_incident_buttons import TONO, declared_by_command
from tests.e2e.test_mass_incident_story import datas, press, said

T0 = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
def e2e_clock() -> FrozenClock:
    return FrozenClock(T0)


@pytest.fixture
def e2e_rules() -> Rules:
    return fast_rules(mass_incidents={"card_edit_seconds": 0})


async def test_an_update_prompt_left_for_long_takes_nothing(
    world: World, e2e_clock: FrozenClock
) -> None:
    card = await declared_by_command(world, "mc:1:upd")
    thread = card["message_thread_id"]
    notice = await said(world, BUDI, BUDI, "Pembayaran saya gagal terus")
    assert any(d.startswith("mn:") for d in datas(notice)), notice

    await press(world, TONO, world.support_chat_id, card, "mc:1:upd")
    first = await world.tg.wait_for_message(
        world.support_chat_id, thread_id=thread, predicate=lambda m: "/cancel" in m["text"]
    )
    e2e_clock.advance(minutes=11)
    group = world.support_chat_id
    await world.send(TONO, "Catatan lama untuk tim", chat_id=group, thread_id=thread)

    await press(world, TONO, world.support_chat_id, card, "mc:1:upd")
    await world.tg.wait_for_message(
        world.support_chat_id, thread_id=thread, after_message_id=first["message_id"],
        predicate=lambda m: "/cancel" in m["text"],
    )  # fmt: skip
    await world.send(TONO, "Update baru: sudah pulih", chat_id=group, thread_id=thread)
    await world.tg.wait_for_message(BUDI, predicate=lambda m: "Update baru" in m["text"])
    assert not [m for m in await world.tg.messages(BUDI) if "Catatan lama" in m["text"]]
    sent = await world.pool.fetch("SELECT body FROM public_updates WHERE kind = 'update'")
    assert [r["body"] for r in sent] == ["Update baru: sudah pulih"]
