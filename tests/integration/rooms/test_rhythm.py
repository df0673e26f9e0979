"""The rhythm of updates, follow-ups in the weekly report, and refusals (real PostgreSQL)."""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

import asyncpg
import pytest

from services import audit
from services.clock import FrozenClock
from services.escalation import follow
from services.reports.build import build as build_report
from services.rooms import actions, store, sync
from services.rooms.config import RoomsContext
from services.staff import NotAllowed
from services.users import Role
from tests.cast import person
from tests.integration.escalation.conftest import BUDI, DEWI, MANAGER, TONO
from tests.integration.rooms.conftest import open_room

from .conftest import INCIDENTS_CHAT


async def reminders(db: asyncpg.Pool) -> list[tuple[int, str]]:
    rows = await db.fetch(
        "SELECT chat_id, dedup_key FROM outbox WHERE dedup_key LIKE 'room:%:remind:%' "
        "AND chat_id > 0 ORDER BY id"
    )
    return [(r["chat_id"], r["dedup_key"]) for r in rows]


async def test_the_lead_is_reminded_once_then_the_next_level_and_an_update_starts_again(
    roster: asyncpg.Pool, rooms: RoomsContext
) -> None:
    clock = FrozenClock()
    t0 = clock.now()
    tid = await open_room(roster, clock, rooms, "Checkout slow", "P1")
    room = await store.get(roster, tid)
    assert room is not None and room.chat_id == INCIDENTS_CHAT
    await actions.set_role(
        roster, clock, rooms, tid, await person(roster, TONO), role="lead", who=None, chat_id=1
    )
    clock.set(t0 + timedelta(minutes=59))
    await sync.tick(roster, clock, rooms)
    assert await reminders(roster) == []
    clock.set(t0 + timedelta(minutes=60))
    await sync.tick(roster, clock, rooms)
    assert [chat for chat, _key in await reminders(roster)] == [TONO]  # the lead, once
    clock.set(t0 + timedelta(minutes=90))
    await sync.tick(roster, clock, rooms)
    assert [chat for chat, _key in await reminders(roster)] == [TONO]
    clock.set(t0 + timedelta(minutes=120))
    await sync.tick(roster, clock, rooms)
    # then the next level (level 2: Dewi, on call as senior engineer), once
    assert [chat for chat, _key in await reminders(roster)] == [TONO, DEWI]
    clock.set(t0 + timedelta(minutes=500))
    await sync.tick(roster, clock, rooms)
    assert len(await reminders(roster)) == 2
    # An update starts the rhythm again: the lead hears of the next missed one.
    clock.set(t0 + timedelta(minutes=501))
    await actions.post_update(
        roster, clock, rooms, tid, await person(roster, TONO), "Cache warmed", chat_id=1
    )
    clock.set(t0 + timedelta(minutes=561))
    await sync.tick(roster, clock, rooms)
    assert [chat for chat, _key in await reminders(roster)] == [TONO, DEWI, TONO]
    kinds = await roster.fetch(
        "SELECT details FROM ticket_events WHERE kind = 'room_reminder' ORDER BY id"
    )
    assert [k["details"]["stage"] for k in kinds] == [1, 2, 1]


async def test_a_p2_has_no_rhythm(roster: asyncpg.Pool, rooms: RoomsContext) -> None:
    clock = FrozenClock()
    await open_room(roster, clock, rooms, "Typo", "P2")
    clock.advance(hours=10)
    await sync.tick(roster, clock, rooms)
    assert await reminders(roster) == []


async def test_followups_are_listed_and_counted_in_the_weekly_report(
    roster: asyncpg.Pool, rooms: RoomsContext
) -> None:
    clock = FrozenClock()
    tid = await open_room(roster, clock, rooms, "Refunds stuck", "P1")
    dewi = await person(roster, DEWI)
    await roster.execute("UPDATE users SET username = 'tono' WHERE id = $1", TONO)
    first = await actions.add_followup(
        roster, clock, rooms, tid, dewi, "Alert on refund queue age", "@tono", chat_id=1
    )
    assert first.followup is not None and first.followup.owner_id == TONO
    second = await actions.add_followup(
        roster, clock, rooms, tid, dewi, "Runbook <refunds> & retries", "@nobody_here", chat_id=1
    )
    assert second.followup is not None and second.followup.owner_name == "@nobody_here"
    listed = await store.open_followups(roster)
    assert [f.text for f in listed] == ["Alert on refund queue age", "Runbook <refunds> & retries"]
    done = await actions.close_followup(roster, clock, dewi, first.followup.id, chat_id=1)
    assert done.number == "QC-000001"
    with pytest.raises(actions.NoSuchFollowup):  # done already
        await actions.close_followup(roster, clock, dewi, first.followup.id, chat_id=1)
    assert [f.text for f in await store.open_followups(roster)] == ["Runbook <refunds> & retries"]
    clock.advance(days=1)
    data, rendered = await build_report(
        roster, "weekly", clock.now(), ZoneInfo("Asia/Jakarta"), language="en", to_now=True
    )
    assert data.insights is not None
    assert (data.insights.followups_recorded, data.insights.followups_open) == (2, 1)
    assert "Follow-ups: 2 recorded in the period, 1 open now" in rendered.headline
    assert "Pages per person" in rendered.html


@pytest.mark.parametrize("who", [BUDI, MANAGER])
async def test_who_may_not_is_refused_and_audited(
    roster: asyncpg.Pool, rooms: RoomsContext, who: int
) -> None:
    """A customer may do nothing in a room; product (Mega, made product here) may neither
    lead nor post updates (services/staff.py)."""
    clock = FrozenClock()
    tid = await open_room(roster, clock, rooms, "x", "P0")
    if who == MANAGER:
        await roster.execute(
            "UPDATE staff SET roles = $2 WHERE user_id = $1", who, [Role.PRODUCT.value]
        )
    actor = await person(roster, who)
    with pytest.raises(NotAllowed):
        await actions.set_role(roster, clock, rooms, tid, actor, role="lead", who=None, chat_id=9)
    with pytest.raises(NotAllowed):
        await actions.post_update(roster, clock, rooms, tid, actor, "hi", chat_id=9)
    refused = await audit.entries_since(
        roster, clock.now() - timedelta(days=1), action_prefix="room.", allowed=False
    )
    assert {e.actor_id for e in refused} == {who}
    room = await store.get(roster, tid)
    assert room is not None and room.lead_id is None and room.last_update_at is None


async def test_the_topic_is_renamed_when_the_severity_changes(
    roster: asyncpg.Pool, rooms: RoomsContext
) -> None:
    clock = FrozenClock()
    tid = await open_room(roster, clock, rooms, "Payments failing", "P1")
    room = await store.get(roster, tid)
    assert room is not None and room.topic_name == "QC-000001 · P1 · Payments failing"
    await store.update(roster, tid, topic_id=77)  # as the delivery hook records it
    async with roster.acquire() as conn, conn.transaction():
        await follow.ticket_priority(
            conn, rooms.escalation.desk_config(), clock.now(), tid, priority="P0", actor_id=DEWI
        )
    await sync.tick(roster, clock, rooms)
    renamed = await roster.fetch(
        "SELECT thread_id, payload FROM outbox WHERE kind = 'edit_topic' AND owner = $1",
        f"room:{tid}",
    )
    assert [(r["thread_id"], r["payload"]["name"]) for r in renamed] == [
        (77, "QC-000001 · P0 · Payments failing")
    ]
    await sync.tick(roster, clock, rooms)  # once
    assert await roster.fetchval("SELECT count(*) FROM outbox WHERE kind = 'edit_topic'") == 1
    kinds = [r["kind"] for r in await roster.fetch("SELECT kind FROM ticket_events ORDER BY id")]
    assert "incident_priority_changed" in kinds
