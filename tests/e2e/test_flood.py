"""One customer floods, another writes normally: the flood is refused at the door (stored,
never handled), the flooder is told once per window, what they wrote reaches staff in one
batch, and the other customer's messages go through as usual."""

from __future__ import annotations

import asyncio
import re

import pytest

from services.rules import Rules
from tests.cast import ALICE, BUDI
from tests.e2e.conftest import World, fast_rules
from tests.e2e.test_support_story import card_of, choose_indonesian, open_ticket

pytestmark = pytest.mark.timeout(120)

LIMIT = 20
WINDOW = 4.0


@pytest.fixture
def e2e_rules() -> Rules:
    return fast_rules(
        inbox={"flood": {"updates": LIMIT, "window_seconds": WINDOW}, "poll_interval": 0.2},
        support={"limits_enabled": False},  # the door's limit alone is under test
    )


async def test_a_flood_is_refused_at_the_door_kept_and_handed_to_staff(world: World) -> None:
    await choose_indonesian(world, BUDI)
    await open_ticket(world, BUDI, "payment", "QRIS gagal", None)
    budi_card = await card_of(world, "QC-000001")
    await world.send(ALICE, "/language")  # Alice opens her ticket in English
    await choose_indonesian(world, ALICE)
    await open_ticket(world, ALICE, "order", "Order not arrived", None)
    alice_card = await card_of(world, "QC-000002")
    budi_topic, alice_topic = budi_card["message_thread_id"], alice_card["message_thread_id"]

    loop = asyncio.get_running_loop()
    started = loop.time()
    for n in range(60):  # as fast as the emulator takes them: far over 200 a minute
        await world.send(BUDI, f"flood {n:02d}")
        if n % 12 == 0:
            await world.send(ALICE, f"alice {n // 12}")
    flood_seconds = loop.time() - started

    # Alice: every message reaches her topic.
    for k in range(5):
        await world.tg.wait_for_message(
            world.support_chat_id,
            thread_id=alice_topic,
            predicate=lambda m, k=k: f"alice {k}" in (m.get("text") or ""),
            timeout=20,
        )
    # Budi: the whole flood reaches staff in one batch, a window after it began.
    batch = await world.tg.wait_for_message(
        world.support_chat_id,
        thread_id=budi_topic,
        predicate=lambda m: "terlalu cepat" in (m.get("text") or ""),
        timeout=WINDOW * 4,
    )
    states = {
        r["state"]: r["n"]
        for r in await world.pool.fetch(
            "SELECT state, count(*) AS n FROM inbox WHERE conversation = $1 "
            "AND payload->'message'->>'text' LIKE 'flood %' GROUP BY state",
            str(BUDI),
        )
    }
    refused = states.get("refused", 0)
    assert states.get("done", 0) + refused == 60  # nothing lost: every one is stored
    assert refused >= 60 - 2 * LIMIT  # at most two windows' worth were handled
    # the handled ones were copied (several to a message while they waited), each once
    relayed = [
        n
        for m in await world.tg.messages(world.support_chat_id, budi_topic)
        if (m.get("text") or "").startswith("💬")  # a copy; the batch's lines are "• …"
        for n in re.findall(r"flood (\d\d)", m["text"])
    ]
    assert len(relayed) == len(set(relayed)) == 60 - refused  # the refused cost no relay
    handed = "\n".join(
        m.get("text") or ""
        for m in await world.tg.messages(world.support_chat_id, budi_topic)
        if m["message_id"] >= batch["message_id"]
    )
    refused_texts = [
        r["t"]
        for r in await world.pool.fetch(
            "SELECT payload->'message'->>'text' AS t FROM inbox WHERE state = 'refused'"
        )
    ]
    assert all(text in handed for text in refused_texts)
    # Budi is told, once per window the flood lasted, in his language.
    notices = [
        m
        for m in await world.tg.messages(BUDI)
        if m["from"].get("is_bot") and "terlalu cepat" in (m.get("text") or "")
    ]
    assert 1 <= len(notices) <= int(flood_seconds // WINDOW) + 2
