"""The escalation policy: the seed's numbers, and deadlines counted from entering a level."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from services.escalation.policy import (
    EscalationRules,
    IncidentClock,
    due_actions,
    level_deadline,
    next_deadline,
    response_deadline,
)
from services.rules import Rules, RulesError

T0 = datetime(2026, 11, 2, 1, 0, tzinfo=UTC)
RULES = EscalationRules()


def state(**kw: object) -> IncidentClock:
    base: dict[str, object] = {
        "priority": "P0",
        "level": 1,
        "opened_at": T0,
        "level_entered_at": T0,
        "acknowledged": False,
        "response_breach_told": False,
    }
    base.update(kw)
    return IncidentClock(**base)  # type: ignore[arg-type]


def test_the_defaults_are_the_seeds_tree_and_severities() -> None:
    assert [(lv.role.value, lv.max_time) for lv in RULES.levels] == [
        ("support_engineer", 60),
        ("senior_engineer", 120),
        ("tech_lead", 240),
        ("engineering_manager", 480),
        ("cto", None),
    ]
    assert {p: r.response_time for p, r in RULES.priorities.items()} == {
        "P0": 15,
        "P1": 60,
        "P2": 240,
        "P3": 1440,
    }
    assert [p for p, r in RULES.priorities.items() if r.auto_escalate] == ["P0"]
    assert RULES.priority("P0").notification == ["all_admins", "security_team", "management"]
    assert RULES.priority("P1").notification == ["on_call_engineer", "team_lead"]
    assert RULES.priority("P2").notification == ["support_team"]
    assert RULES.priority("P3").notification == ["product_team"]


@pytest.mark.parametrize(
    ("level", "entered_after", "expected_minutes"),
    [
        (1, 0, 60),  # level 1's own limit, not level 0's or level 2's
        (2, 60, 60 + 120),
        (3, 180, 180 + 240),
        (4, 420, 420 + 480),
    ],
)
def test_time_at_a_level_counts_from_entering_it(
    level: int, entered_after: int, expected_minutes: int
) -> None:
    s = state(level=level, level_entered_at=T0 + timedelta(minutes=entered_after))
    assert level_deadline(RULES, s) == T0 + timedelta(minutes=expected_minutes)


def test_a_level_without_max_time_never_expires() -> None:
    rules = EscalationRules.model_validate(
        {"levels": [{"role": "support_engineer", "max_time": None}, {"role": "cto"}]}
    )
    assert level_deadline(rules, state(level=1)) is None
    assert level_deadline(RULES, state(level=5)) is None  # the CTO is the top


def test_only_auto_escalating_priorities_have_a_level_deadline() -> None:
    assert level_deadline(RULES, state(priority="P1")) is None
    configured = EscalationRules.model_validate(
        {"priorities": {"P1": {"response_time": 60, "notification": [], "auto_escalate": True}}}
    )
    assert level_deadline(configured, state(priority="P1")) == T0 + timedelta(minutes=60)


def test_response_deadline_until_acknowledged_or_told() -> None:
    assert response_deadline(RULES, state(priority="P2")) == T0 + timedelta(minutes=240)
    assert response_deadline(RULES, state(priority="P2", acknowledged=True)) is None
    assert response_deadline(RULES, state(priority="P2", response_breach_told=True)) is None


def test_next_deadline_is_the_earliest_of_both() -> None:
    assert next_deadline(RULES, state()) == T0 + timedelta(minutes=15)
    assert next_deadline(RULES, state(acknowledged=True)) == T0 + timedelta(minutes=60)
    assert next_deadline(RULES, state(priority="P3", acknowledged=True)) is None
    assert next_deadline(RULES, state(resolved=True)) is None


def test_after_a_long_outage_only_one_level_is_due() -> None:
    much_later = T0 + timedelta(days=3)
    due = due_actions(RULES, state(acknowledged=True), much_later)
    assert due.escalate and not due.response_breach
    # the scan then enters level 2 *now*: level 3 is a full 120 minutes away
    after = state(level=2, level_entered_at=much_later, acknowledged=True)
    assert not due_actions(RULES, after, much_later).escalate
    assert level_deadline(RULES, after) == much_later + timedelta(minutes=120)


def test_nothing_is_due_a_second_early() -> None:
    just_before = T0 + timedelta(minutes=15) - timedelta(seconds=1)
    assert due_actions(RULES, state(), just_before) == due_actions(
        RULES, state(acknowledged=True, response_breach_told=True), just_before
    )
    assert due_actions(RULES, state(), T0 + timedelta(minutes=15)).response_breach


def test_rules_file_overrides_and_rejects_nonsense() -> None:
    rules = Rules(
        {
            "escalation": {
                "groups": {
                    "support_team": {"roles": ["support_engineer"], "chats": ["support", -100]}
                }
            }
        }
    )
    section = rules.section("escalation", EscalationRules)
    assert section.groups["support_team"].chats == ["support", -100]
    assert section.groups["all_admins"].roles == ["admin"]  # unnamed groups keep defaults
    assert section.priority("P0").response_time == 15
    with pytest.raises(RulesError, match=r"escalation\.levels"):
        Rules({"escalation": {"levels": [{"role": "astronaut"}]}}).section(
            "escalation", EscalationRules
        )
