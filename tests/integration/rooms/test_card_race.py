"""Two writers refresh the incident's card at once: the card ends on the newer state.

An escalation is being saved (its transaction open) when the room's topic is created and the
delivery hook puts the room's link on every copy. The hook's edit is queued after the
escalation's, so it must not render the level before the escalation (real PostgreSQL).
"""

from __future__ import annotations

import asyncio
import re

import asyncpg

from services import users
from services.clock import FrozenClock
from services.delivery.rows import COLUMNS, OutboxRow
from services.escalation import store as incidents
from services.escalation.incidents import escalate
from services.rooms import store
from services.rooms.config import RoomsContext
from services.rooms.delivery import RoomDeliveryHook
from tests.integration.escalation.conftest import ADMIN_CHAT, DEWI
from tests.integration.rooms.conftest import open_room


async def test_the_rooms_link_waits_for_an_escalation_being_saved_and_shows_its_level(
    roster: asyncpg.Pool, rooms: RoomsContext
) -> None:
    clock = FrozenClock()
    tid = await open_room(roster, clock, rooms, "Gateway down", "P1")  # its topic being created
    room = await store.get(roster, tid)
    assert room is not None and room.topic_outbox_id is not None
    created = OutboxRow.from_record(
        await roster.fetchrow(f"SELECT {COLUMNS} FROM outbox WHERE id = $1", room.topic_outbox_id)
    )
    card = next(
        c
        for c in await incidents.copies(roster, tid)
        if c.chat_id == ADMIN_CHAT and c.recipient_id is None
    )
    dewi = await users.get(roster, DEWI)
    assert dewi is not None
    hook = RoomDeliveryHook(rooms, clock)

    async with roster.acquire() as saving:
        escalation = saving.transaction()
        await escalation.start()
        await escalate(saving, clock, rooms.escalation, tid, dewi)  # level 2, not committed

        async def topic_created() -> None:
            async with roster.acquire() as conn, conn.transaction():
                await hook.on_sent(conn, created, {"message_thread_id": 77})

        linking = asyncio.create_task(topic_created())
        await asyncio.sleep(0.5)  # the hook has read the incident by now, had it not waited
        await escalation.commit()
        await linking

    last = await roster.fetchval(
        "SELECT payload->>'text' FROM outbox WHERE kind = 'edit' AND ref_id = $1"
        " ORDER BY id DESC LIMIT 1",
        card.outbox_id,
    )
    # the catalogue's default locale here is Indonesian ("Level 2 dari 5")
    assert re.search(r"Level 2 \w+ 5", last), last
    assert not re.search(r"Level 1 \w+ 5", last), last
