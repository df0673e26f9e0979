"""An escalated ticket's card offers "📢 Customer-facing" (services/massincident) while its
incident is open and not customer-facing yet: the same press as the incident card's."""

from __future__ import annotations

from datetime import timedelta

import pytest

from services.escalation.render import IncidentAction
from services.i18n import use_locale
from services.tickets import render
from services.tickets.model import TicketStatus
from tests.unit.tickets.test_render import OPENED, ticket


def datas(markup: dict[str, list[list[dict[str, str]]]]) -> list[str]:
    return [b["callback_data"] for row in markup["inline_keyboard"] for b in row]


@pytest.mark.parametrize(
    ("changes", "offered"),
    [
        ({}, False),  # not an incident
        ({"incident_level": 2}, True),
        ({"incident_level": 2, "incident_public": True}, False),  # declared already
        ({"incident_level": 2, "incident_resolved_at": OPENED + timedelta(hours=1)}, False),
        ({"incident_level": 3, "status": TicketStatus.RESOLVED}, False),  # no buttons at all
    ],
)
def test_the_card_offers_customer_facing_only_for_an_open_incident(
    changes: dict[str, object], offered: bool
) -> None:
    with use_locale("en"):
        markup = render.card_keyboard(ticket(**changes))
    pub = IncidentAction(123, "pub", int(changes.get("incident_level", 0) or 0)).pack()
    assert (pub in datas(markup)) is offered, datas(markup)
    if offered:
        assert markup["inline_keyboard"][-1] == [
            {"text": "📢 Customer-facing", "callback_data": pub}
        ]
        assert datas(markup)[:4] == ["tk:123:ack", "tk:123:pri", "tk:123:esc", "tk:123:res"]
