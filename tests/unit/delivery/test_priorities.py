"""Who goes first in a chat: pages and incident notices before any alert-group message."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from services import outbox
from services.alerts.outbound import PRIORITY as ALERT_GROUP_PRIORITY
from services.escalation import outbound as escalation
from services.escalation.store import Incident

OPENED = datetime(2026, 11, 2, 1, 0, tzinfo=UTC)
ALERT_GROUP_PRIORITIES = [*ALERT_GROUP_PRIORITY.values(), outbox.PRIORITY_ALERT_INFO]


def incident(priority: str) -> Incident:
    return Incident(
        ticket_id=1,
        priority=priority,
        source="staff",
        level=1,
        opened_at=OPENED,
        opened_by=None,
        level_entered_at=OPENED,
        next_deadline=None,
        acknowledged_by=None,
        acknowledged_at=None,
        response_breach_told_at=None,
        resolved_by=None,
        resolved_at=None,
        escalations=0,
    )


@pytest.mark.parametrize("priority", ["P0", "P1", "P2", "P3"])
def test_every_page_and_incident_notice_goes_before_every_alert_group_message(
    priority: str,
) -> None:
    # Pages and notices of one incident share its priority (escalation.outbound._send).
    page = escalation._priority(incident(priority))
    assert all(page < alert for alert in ALERT_GROUP_PRIORITIES), (priority, page)


def test_p0_and_p1_notices_go_before_answers_and_alerts_and_p0_first() -> None:
    p0 = escalation._priority(incident("P0"))
    p1 = escalation._priority(incident("P1"))
    assert p0 < p1 < outbox.PRIORITY_INTERACTIVE < min(ALERT_GROUP_PRIORITIES)
