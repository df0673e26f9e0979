"""Rooms on the escalation fixtures (a roster with one person on call per level)."""

from __future__ import annotations

import asyncpg
import pytest

from services.clock import Clock
from services.escalation.context import EscalationContext
from services.escalation.incidents import open_incident
from services.rooms import sync
from services.rooms.config import RoomsContext, RoomsRules
from tests.integration.escalation.conftest import ctx, roster  # noqa: F401  (fixtures)

INCIDENTS_CHAT = -1001000000003


@pytest.fixture
def rooms(ctx: EscalationContext) -> RoomsContext:  # noqa: F811
    return RoomsContext.build(ctx, RoomsRules(), incident_chat_id=INCIDENTS_CHAT)


async def open_room(
    db: asyncpg.Pool, clock: Clock, rooms: RoomsContext, title: str, priority: str
) -> int:
    """Staff open an incident and the rooms worker takes it up (its topic is being created);
    the incident's ticket id."""
    opened = await open_incident(
        db, clock, rooms.escalation, source="staff", title=title, priority=priority
    )
    await sync.tick(db, clock, rooms)
    return opened.incident.ticket_id
