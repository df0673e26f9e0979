"""The room's topic follows its incident (real PostgreSQL): closed once it is resolved, after the
postmortem draft's rows; reopened if it opens again; a refused close told to the operator."""

from __future__ import annotations

from datetime import timedelta

import asyncpg

from services import users
from services.clock import FrozenClock
from services.delivery.errors import BAD_REQUEST, THREAD_NOT_FOUND, PermanentError
from services.delivery.rows import OutboxRow
from services.escalation.incidents import resolve
from services.rooms import room as room_module
from services.rooms import store, sync
from services.rooms.config import RoomsContext
from services.rooms.delivery import RoomDeliveryHook
from tests.integration.escalation.conftest import ADMIN_CHAT, DEWI
from tests.integration.rooms.conftest import open_room

from .conftest import INCIDENTS_CHAT

TOPIC = 100  # the room of incident n is in topic 100 + n


async def opened(db: asyncpg.Pool, rooms: RoomsContext, clock: FrozenClock, priority: str) -> int:
    tid = await open_room(db, clock, rooms, "Checkout down", priority)
    await store.update(db, tid, topic_id=TOPIC + tid)  # what the delivery hook does once it exists
    return tid


async def resolve_as_dewi(
    db: asyncpg.Pool, clock: FrozenClock, rooms: RoomsContext, tid: int
) -> None:
    dewi = await users.get(db, DEWI)
    assert dewi is not None
    await resolve(db, clock, rooms.escalation, tid, dewi)


async def closed_by_the_scan(db: asyncpg.Pool, rooms: RoomsContext, clock: FrozenClock) -> int:
    """A P2 room whose incident Dewi resolved, after the scan that queued its topic's close."""
    tid = await opened(db, rooms, clock, "P2")
    await resolve_as_dewi(db, clock, rooms, tid)
    await sync.tick(db, clock, rooms)
    return tid


async def topic_rows(db: asyncpg.Pool) -> list[asyncpg.Record]:
    return list(
        await db.fetch(
            "SELECT * FROM outbox WHERE kind IN ('close_topic', 'reopen_topic') ORDER BY id"
        )
    )


async def test_the_topic_closes_after_the_postmortem_and_reopens_with_the_incident(
    roster: asyncpg.Pool, rooms: RoomsContext
) -> None:
    db, clock = roster, FrozenClock()
    tid = await opened(db, rooms, clock, "P1")
    await sync.tick(db, clock, rooms)
    assert await topic_rows(db) == []  # open: nothing to close
    await resolve_as_dewi(db, clock, rooms, tid)
    clock.advance(timedelta(seconds=5))
    report = await sync.tick(db, clock, rooms)
    assert report.postmortems == [tid] and report.closed == [tid]
    [close] = await topic_rows(db)
    assert (close["kind"], close["chat_id"], close["thread_id"]) == (
        "close_topic", INCIDENTS_CHAT, TOPIC + tid
    )  # fmt: skip
    # ...behind the draft and its two documents, in the topic's own order
    draft = await db.fetch(
        "SELECT id, priority FROM outbox WHERE owner = $1 AND dedup_key LIKE 'room:%:postmortem:%'",
        f"room:{tid}",
    )
    assert len(draft) == 3
    assert all(r["id"] < close["id"] and r["priority"] <= close["priority"] for r in draft)
    line = await db.fetchval(
        "SELECT payload->>'text' FROM outbox WHERE dedup_key LIKE $1", f"room:{tid}:closed:%"
    )
    assert "QC-" in line and "ditutup" in line, line
    # Once: later ticks queue nothing more.
    for _ in range(3):
        clock.advance(timedelta(seconds=5))
        await sync.tick(db, clock, rooms)
    assert len(await topic_rows(db)) == 1
    room = await store.get(db, tid)
    assert room is not None and room.topic_closed_at is not None

    # The incident opens again (its resolution undone): the topic is reopened, once.
    await db.execute(
        "UPDATE incidents SET resolved_at = NULL, resolved_by = NULL WHERE ticket_id = $1", tid
    )
    for _ in range(2):
        clock.advance(timedelta(seconds=5))
        await sync.tick(db, clock, rooms)
    rows = await topic_rows(db)
    assert [r["kind"] for r in rows] == ["close_topic", "reopen_topic"]
    assert rows[1]["thread_id"] == TOPIC + tid
    room = await store.get(db, tid)
    assert room is not None and room.topic_closed_at is None


async def test_without_a_postmortem_due_the_topic_closes_at_once_and_a_thread_room_never(
    roster: asyncpg.Pool, rooms: RoomsContext
) -> None:
    db, clock = roster, FrozenClock()
    p2 = await opened(db, rooms, clock, "P2")
    await resolve_as_dewi(db, clock, rooms, p2)
    report = await sync.tick(db, clock, rooms)
    assert report.postmortems == [] and report.closed == [p2]
    # a room in a chat without topics (one card): there is no topic to close
    thread = await opened(db, rooms, clock, "P2")
    await store.update(db, thread, mode="thread", topic_id=None, topic_outbox_id=None)
    await resolve_as_dewi(db, clock, rooms, thread)
    report = await sync.tick(db, clock, rooms)
    assert report.closed == []
    assert [r["owner"] for r in await topic_rows(db)] == [f"room:{p2}"]


async def test_a_refused_close_is_told_to_the_operator_and_an_already_closed_topic_is_not(
    roster: asyncpg.Pool, rooms: RoomsContext
) -> None:
    db, clock = roster, FrozenClock()
    tid = await closed_by_the_scan(db, rooms, clock)
    [close] = await topic_rows(db)
    hook = RoomDeliveryHook(rooms, clock)
    row = OutboxRow.from_record(close)

    async def told() -> list[asyncpg.Record]:
        return await db.fetch(
            "SELECT payload->>'text' AS text FROM outbox WHERE chat_id = $1 "
            "AND dedup_key LIKE 'room:%:refused:%'",
            ADMIN_CHAT,
        )

    # closed by hand before the bot got to it: what was wanted, nothing to say
    await hook.on_failed(db, row, PermanentError(BAD_REQUEST, "Bad Request: TOPIC_NOT_MODIFIED"))
    # deleted by hand: nothing to close (and the resolved incident's room is not recreated)
    await hook.on_failed(db, row, PermanentError(THREAD_NOT_FOUND, "Bad Request: TOPIC_ID_INVALID"))
    assert await told() == []
    await hook.on_failed(
        db, row, PermanentError(BAD_REQUEST, "Bad Request: not enough rights to manage topics")
    )
    [message] = await told()
    assert "QC-" in message["text"] and "not enough rights" in message["text"], message["text"]
    # the incident stays resolved; the room is not recreated over it
    room = await store.get(db, tid)
    assert room is not None and room.recreated == 0 and room.topic_id == TOPIC + tid


async def test_a_closed_topic_deleted_by_hand_and_recreated_is_closed_again(
    roster: asyncpg.Pool, rooms: RoomsContext
) -> None:
    db, clock = roster, FrozenClock()
    tid = await closed_by_the_scan(db, rooms, clock)
    assert await room_module.recreate(db, rooms, tid, clock.now())  # a late line found it gone
    await store.update(db, tid, topic_id=TOPIC + 50 + tid)  # the new topic exists
    clock.advance(timedelta(seconds=5))
    report = await sync.tick(db, clock, rooms)
    assert report.closed == [tid]
    assert [r["thread_id"] for r in await topic_rows(db)] == [TOPIC + tid, TOPIC + 50 + tid]
