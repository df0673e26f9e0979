"""Two quick messages in the new-ticket conversation: the description, then at once the
reference. Each is handled in its own step; neither overwrites the other."""

from __future__ import annotations

import asyncio

import pytest

from tests.e2e.conftest import World
from tests.e2e.test_support_story import choose_indonesian, new_ticket_in

pytestmark = pytest.mark.timeout(120)

TRIALS = 20
FIRST = 4001


async def _one_trial(world: World, uid: int) -> str:
    await world.tg.create_user(uid, first_name=f"Cust{uid}", language_code="id")
    await choose_indonesian(world, uid)
    await new_ticket_in(world, uid, "payment")
    # Back to back, without waiting for the bot between them.
    await world.send(uid, f"QRIS gagal dibayar nomor {uid}")
    sent = await world.send(uid, f"ORD-20261102-{uid}AB")
    confirm = await world.tg.wait_for_message(
        uid,
        after_message_id=sent["message_id"],
        predicate=lambda m: bool(m["from"].get("is_bot")) and "nk:send" in str(m),
        timeout=30,
    )
    return str(confirm["text"])


async def test_description_and_reference_sent_back_to_back_both_survive(world: World) -> None:
    uids = range(FIRST, FIRST + TRIALS)
    confirmations = await asyncio.gather(*(_one_trial(world, uid) for uid in uids))
    overwritten = [
        uid
        for uid, text in zip(uids, confirmations, strict=True)
        if f"QRIS gagal dibayar nomor {uid}" not in text or f"ORD-20261102-{uid}AB" not in text
    ]
    assert overwritten == [], f"{len(overwritten)} of {TRIALS} overwritten"
