"""Two replicas scanning one database never escalate the same incident twice."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import asyncpg

from services.clock import FrozenClock
from services.escalation.context import EscalationContext
from services.escalation.incidents import open_incident
from services.escalation.scan import scan_once
from services.storage.db import create_pool

from .conftest import DEWI


async def test_two_pools_racing_escalate_each_due_incident_once(
    roster: asyncpg.Pool, db_url: str, ctx: EscalationContext
) -> None:
    clock = FrozenClock()
    ids = []
    for n in range(60):
        opened = await open_incident(
            roster, clock, ctx, source="alert", title=f"outage {n}", priority="P0"
        )
        ids.append(opened.incident.ticket_id)
    clock.advance(minutes=61)
    other = await create_pool(db_url, min_size=1, max_size=3)
    try:
        reports = await asyncio.gather(
            *(scan_once(p, clock, ctx, batch=7) for p in (roster, other, roster, other))
        )
    finally:
        await other.close()
    escalated = [tid for r in reports for tid, _, _ in r.escalated]
    assert sorted(escalated) == sorted(ids)  # every one, and none twice
    levels = await roster.fetch("SELECT DISTINCT level FROM incidents")
    assert [r["level"] for r in levels] == [2]
    events = await roster.fetchval(
        "SELECT count(*) FROM ticket_events WHERE kind = 'incident_escalated'"
    )
    assert events == 60
    # Dewi (level 2 on call) got exactly one page per incident
    pages = await roster.fetchval(
        "SELECT count(*) FROM outbox WHERE chat_id = $1 AND kind = 'text' "
        "AND payload->>'text' LIKE '%escalated to level 2%'",
        DEWI,
    )
    assert pages == 60
    clock.advance(timedelta(seconds=1))
    assert (await scan_once(roster, clock, ctx)).escalated == []
