"""Rooms on the escalation fixtures (a roster with one person on call per level)."""

from __future__ import annotations

import pytest

from services.escalation.context import EscalationContext
from services.rooms.config import RoomsContext, RoomsRules
from tests.integration.escalation.conftest import ctx, roster  # noqa: F401  (fixtures)

INCIDENTS_CHAT = -1001000000003


@pytest.fixture
def rooms(ctx: EscalationContext) -> RoomsContext:  # noqa: F811
    return RoomsContext.build(ctx, RoomsRules(), incident_chat_id=INCIDENTS_CHAT)
