"""Acknowledge, escalate and resolve by hand: state, copies edited in place, audit."""

from __future__ import annotations

from datetime import timedelta

import asyncpg
import pytest

from services import audit
from services import roster as staff_roster
from services.escalation import queries, store
from services.escalation.context import EscalationContext
from services.escalation.incidents import StaleLevel, acknowledge, escalate, resolve
from services.roster import RosterError
from services.staff import NotAllowed
from services.users import Role
from tests.cast import ADMIN, BUDI, SARI, person

from .conftest import DEWI, TONO, opened_now, private_pages


async def test_support_engineer_and_customer_may_not_resolve_and_both_are_audited(
    roster: asyncpg.Pool, ctx: EscalationContext
) -> None:
    clock, opened = await opened_now(roster, ctx, "P0")
    tid = opened.incident.ticket_id
    for who in (SARI, BUDI):
        with pytest.raises(NotAllowed):
            await resolve(roster, clock, ctx, tid, await person(roster, who), chat_id=-5)
    refused = await audit.entries_since(
        roster, clock.now() - timedelta(days=1), action_prefix="incident.resolve", allowed=False
    )
    assert sorted(e.actor_id for e in refused) == sorted([SARI, BUDI])
    incident = await store.get(roster, tid)
    assert incident is not None and incident.resolved_at is None
    done = await resolve(roster, clock, ctx, tid, await person(roster, DEWI))
    assert done.incident.resolved_by == DEWI and done.incident.next_deadline is None


async def test_acknowledging_edits_every_copy_and_stops_the_response_clock(
    roster: asyncpg.Pool, ctx: EscalationContext
) -> None:
    clock, opened = await opened_now(roster, ctx, "P0")
    tid = opened.incident.ticket_id
    clock.advance(minutes=3)
    outcome = await acknowledge(roster, clock, ctx, tid, await person(roster, SARI))
    assert outcome.incident.next_deadline == opened.incident.opened_at + timedelta(minutes=60)
    copies = await store.copies(roster, tid)
    edits = await roster.fetch("SELECT ref_id, payload FROM outbox WHERE kind = 'edit'")
    assert sorted(e["ref_id"] for e in edits) == sorted(c.outbox_id for c in copies)
    assert all(
        "Acknowledged by Sari" in e["payload"]["text"]
        for e in edits
        if "Sari" in e["payload"]["text"]
    )
    again = await acknowledge(roster, clock, ctx, tid, await person(roster, DEWI))
    assert not again.changed


async def test_a_stale_escalate_button_does_not_escalate_twice(
    roster: asyncpg.Pool, ctx: EscalationContext
) -> None:
    clock, opened = await opened_now(roster, ctx, "P1")
    tid = opened.incident.ticket_id
    first = await escalate(roster, clock, ctx, tid, await person(roster, SARI), expected_level=1)
    assert first.incident.level == 2 and first.told == (DEWI,)
    with pytest.raises(StaleLevel):
        await escalate(roster, clock, ctx, tid, await person(roster, ADMIN), expected_level=1)
    second = await escalate(
        roster, clock, ctx, tid, await person(roster, ADMIN), reason="card payments too"
    )
    assert second.incident.level == 3 and TONO in await private_pages(roster)
    page = await queries.timeline(roster, tid)
    assert page is not None
    texts = [line.text for line in page.lines]
    assert any("card payments too" in t for t in texts)


async def test_roster_on_call_slots_and_the_last_admin(roster: asyncpg.Pool) -> None:
    await staff_roster.add_member(
        roster, user_id=3001, display_name="Eko", roles=[Role.SENIOR_ENGINEER], added_by=ADMIN
    )
    assert [m.user_id for m in await staff_roster.on_call_for(roster, "senior_engineer")] == [DEWI]
    await staff_roster.set_on_call(roster, Role.SENIOR_ENGINEER, 3001, set_by=ADMIN)
    assert [m.user_id for m in await staff_roster.on_call_for(roster, "senior_engineer")] == [3001]
    dewi = await staff_roster.member(roster, DEWI)
    assert dewi is not None and not dewi.on_call  # she gave up her only slot
    with pytest.raises(RosterError, match="role_not_held"):
        await staff_roster.set_on_call(roster, Role.CTO, 3001, set_by=ADMIN)
    with pytest.raises(RosterError, match="last_admin"):
        await staff_roster.remove_member(roster, ADMIN)
    assert await staff_roster.remove_member(roster, 3001)
    assert [m.user_id for m in await staff_roster.on_call_for(roster, "senior_engineer")] == [DEWI]
