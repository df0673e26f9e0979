"""A P0 incident nobody resolves climbs the whole tree on the seed's times; a P2 nobody
acknowledges breaches its response SLA and the next level hears of it once."""

from __future__ import annotations

from datetime import timedelta

import asyncpg

from services.escalation import store
from services.escalation.context import EscalationContext
from services.escalation.scan import scan_once
from tests.cast import ADMIN, SARI

from .conftest import (
    ADMIN_CHAT,
    AGUS,
    DEWI,
    MAYA,
    TONO,
    last_outbox_id,
    opened_now,
    payment_down,
    private_pages,
)


async def test_a_p0_climbs_all_five_levels_on_the_seeds_times(
    roster: asyncpg.Pool, ctx: EscalationContext
) -> None:
    clock, tid = await payment_down(roster, ctx)
    t0 = clock.now()
    # level 1's support engineer is paged; the admin chat hears it with the P0 groups
    assert await private_pages(roster) == [SARI]
    notice = await roster.fetchrow(
        "SELECT payload FROM outbox WHERE chat_id = $1 AND kind = 'text'", ADMIN_CHAT
    )
    assert "all admins, security team, management" in notice["payload"]["text"]
    assert f"tg://user?id={ADMIN}" in notice["payload"]["text"]

    # 15 minutes: nobody acknowledged. Sari is reminded, Dewi (level 2) is told, once.
    mark = await last_outbox_id(roster)
    clock.set(t0 + timedelta(minutes=15))
    report = await scan_once(roster, clock, ctx)
    assert report.breaches == [tid] and report.escalated == []
    assert sorted(await private_pages(roster, mark)) == [SARI, DEWI]
    assert (await scan_once(roster, clock, ctx)).breaches == []

    steps = [  # (minutes since opening, new level, who is paged)
        (60, 2, DEWI),
        (60 + 120, 3, TONO),
        (60 + 120 + 240, 4, MAYA),
        (60 + 120 + 240 + 480, 5, AGUS),
    ]
    for minutes, level, person in steps:
        clock.set(t0 + timedelta(minutes=minutes) - timedelta(seconds=1))
        assert (await scan_once(roster, clock, ctx)).escalated == []  # not a second early
        mark = await last_outbox_id(roster)
        clock.set(t0 + timedelta(minutes=minutes))
        report = await scan_once(roster, clock, ctx)
        assert report.escalated == [(tid, level - 1, level)]
        assert await private_pages(roster, mark) == [person]
        incident = await store.get(roster, tid)
        assert incident is not None and incident.level == level
        assert incident.level_entered_at == clock.now()

    # the CTO's level has no time limit: nothing is ever due again
    incident = await store.get(roster, tid)
    assert incident is not None and incident.next_deadline is None
    clock.advance(days=30)
    assert (await scan_once(roster, clock, ctx)).escalated == []
    kinds = await roster.fetch(
        "SELECT kind FROM ticket_events WHERE ticket_id = $1 AND kind = 'incident_escalated'", tid
    )
    assert len(kinds) == 4
    # the admin chat's one card is edited to show the current level; every earlier page keeps
    # what it said and adds that the incident moved on (test_history.py tells it in detail)
    copies = await roster.fetchval(
        "SELECT count(*) FROM incident_messages WHERE ticket_id = $1", tid
    )
    edits = await roster.fetch(
        "SELECT DISTINCT ref_id, chat_id FROM outbox WHERE kind = 'edit' AND"
        " (payload->>'text' LIKE '%Level 5 of 5%' OR payload->>'text' LIKE '%Moved on to level 5%')"
    )
    assert len(edits) == copies - 1  # the level-5 page is new, not an edit
    assert [e["chat_id"] for e in edits].count(ADMIN_CHAT) == 1


async def test_a_p2_never_acknowledged_tells_the_next_level_once_after_240_minutes(
    roster: asyncpg.Pool, ctx: EscalationContext
) -> None:
    clock, opened = await opened_now(roster, ctx, "P2", "Checkout slow for some users", "staff")
    t0 = clock.now()
    assert await private_pages(roster) == []  # P2 pages nobody at once: support team in chat
    clock.set(t0 + timedelta(minutes=239))
    assert (await scan_once(roster, clock, ctx)).breaches == []
    mark = await last_outbox_id(roster)
    clock.set(t0 + timedelta(minutes=240))
    report = await scan_once(roster, clock, ctx)
    assert report.breaches == [opened.incident.ticket_id]
    assert report.escalated == []  # P2 does not auto-escalate by default
    assert sorted(await private_pages(roster, mark)) == [SARI, DEWI]
    for _ in range(3):
        clock.advance(hours=5)
        assert (await scan_once(roster, clock, ctx)).breaches == []
    assert sorted(await private_pages(roster, mark)) == [SARI, DEWI]
    incident = await store.get(roster, opened.incident.ticket_id)
    assert incident is not None and incident.level == 1 and incident.next_deadline is None


async def test_after_a_long_outage_each_scan_moves_one_level(
    roster: asyncpg.Pool, ctx: EscalationContext
) -> None:
    clock, opened = await opened_now(roster, ctx, "P0", "DB down")
    clock.advance(days=2)
    first = await scan_once(roster, clock, ctx)
    assert [(f, t) for _, f, t in first.escalated] == [(1, 2)]
    assert first.lateness == [timedelta(days=2, minutes=-60).total_seconds()]
    assert (await scan_once(roster, clock, ctx)).escalated == []
    incident = await store.get(roster, opened.incident.ticket_id)
    assert incident is not None and incident.level == 2
