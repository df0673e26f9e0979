"""The service's pre-built buttons and the handler's factory agree; the permission table."""

from __future__ import annotations

import pytest

from services.escalation.render import IncidentAction, callback_data
from services.roster import RosterError, parse_roles
from services.staff import Action, may
from services.users import Role


@pytest.mark.parametrize("act", ["ack", "esc", "res"])
def test_an_incident_button_already_sent_still_means_the_same(act: str) -> None:
    packed = f"inc:123456:{act}:3"  # what aiogram's IncidentAction factory packed before
    assert callback_data(123456, act, 3) == packed  # type: ignore[arg-type]
    assert IncidentAction.parse(packed) == IncidentAction(123456, act, 3)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("roles", "action", "allowed"),
    [
        ({Role.SUPPORT_ENGINEER}, Action.ANSWER_TICKET, True),
        ({Role.SUPPORT_ENGINEER}, Action.ESCALATE, True),
        ({Role.SUPPORT_ENGINEER}, Action.RESOLVE, False),
        ({Role.SENIOR_ENGINEER}, Action.RESOLVE, True),
        ({Role.CTO}, Action.RESOLVE, True),
        ({Role.PRODUCT}, Action.RESOLVE, False),
        ({Role.PRODUCT}, Action.ANSWER_TICKET, False),
        ({Role.TECH_LEAD}, Action.CHANGE_ROSTER, False),
        ({Role.ADMIN}, Action.CHANGE_ROSTER, True),
        (set(), Action.ACKNOWLEDGE, False),  # a customer
        (set(), Action.VIEW_INCIDENTS, False),
    ],
)
def test_who_may_do_what(roles: set[str], action: Action, allowed: bool) -> None:
    assert may(roles, action) is allowed


def test_roles_are_parsed_as_typed_in_chat() -> None:
    assert parse_roles(["Tech-Lead", "cto", "cto"]) == [Role.TECH_LEAD, Role.CTO]
    with pytest.raises(RosterError):
        parse_roles(["astronaut"])
