"""The escalation policy: the seed's ESCALATION_TREE and SEVERITY_LEVELS, overridable in
RULES_FILE section `escalation`, and the arithmetic of deadlines built on it.

The seed measured time from the incident's creation and read the limit of the wrong level;
here time at a level counts from when the incident *entered* that level, the limit is that
level's own, and a level whose `max_time` is None never expires.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from pydantic import BaseModel, Field, field_validator

from services.users import Role

Priority = Literal["P0", "P1", "P2", "P3"]
PRIORITIES: tuple[Priority, ...] = ("P0", "P1", "P2", "P3")
ChatRef = int | Literal["admin", "support"]


class LevelRule(BaseModel):
    role: Role
    max_time: int | None = Field(default=None, ge=1)  # minutes at this level; None: never expires


class PriorityRule(BaseModel):
    response_time: int = Field(ge=1)  # minutes until someone must acknowledge
    notification: list[str]  # notification group names
    auto_escalate: bool = False
    page_on_open: bool = False  # private messages to level 1's on-call people at once


class GroupRule(BaseModel):
    roles: list[Role] = Field(default_factory=list)
    on_call_only: bool = False  # only those of `roles` who are on call now
    chats: list[ChatRef] = Field(default_factory=lambda: list[ChatRef](["admin"]))


def _default_levels() -> list[LevelRule]:
    return [
        LevelRule(role=Role.SUPPORT_ENGINEER, max_time=60),
        LevelRule(role=Role.SENIOR_ENGINEER, max_time=120),
        LevelRule(role=Role.TECH_LEAD, max_time=240),
        LevelRule(role=Role.ENGINEERING_MANAGER, max_time=480),
        LevelRule(role=Role.CTO, max_time=None),
    ]


def _default_priorities() -> dict[Priority, PriorityRule]:
    return {
        "P0": PriorityRule(
            response_time=15,
            notification=["all_admins", "security_team", "management"],
            auto_escalate=True,
            page_on_open=True,
        ),
        "P1": PriorityRule(
            response_time=60,
            notification=["on_call_engineer", "team_lead"],
            page_on_open=True,
        ),
        "P2": PriorityRule(response_time=240, notification=["support_team"]),
        "P3": PriorityRule(response_time=1440, notification=["product_team"]),
    }


def _default_groups() -> dict[str, GroupRule]:
    return {
        "all_admins": GroupRule(roles=[Role.ADMIN]),
        "security_team": GroupRule(roles=[Role.SECURITY]),
        "management": GroupRule(roles=[Role.MANAGEMENT]),
        "on_call_engineer": GroupRule(
            roles=[Role.SENIOR_ENGINEER, Role.DEVOPS, Role.DBA], on_call_only=True
        ),
        "team_lead": GroupRule(roles=[Role.TECH_LEAD]),
        "support_team": GroupRule(roles=[Role.SUPPORT_ENGINEER]),
        "product_team": GroupRule(roles=[Role.PRODUCT]),
    }


class EscalationRules(BaseModel):
    """RULES_FILE `escalation:`; every field defaults to the seed."""

    levels: list[LevelRule] = Field(default_factory=_default_levels, min_length=1)
    priorities: dict[Priority, PriorityRule] = Field(default_factory=_default_priorities)
    groups: dict[str, GroupRule] = Field(default_factory=_default_groups)

    @field_validator("priorities")
    @classmethod
    def _every_priority(cls, value: dict[Priority, PriorityRule]) -> dict[Priority, PriorityRule]:
        defaults = _default_priorities()
        return {p: value.get(p, defaults[p]) for p in PRIORITIES}

    @field_validator("groups")
    @classmethod
    def _default_groups_stay(cls, value: dict[str, GroupRule]) -> dict[str, GroupRule]:
        return _default_groups() | value

    def level(self, number: int) -> LevelRule:
        """Level 1 is the first entry."""
        return self.levels[number - 1]

    @property
    def top_level(self) -> int:
        return len(self.levels)

    def priority(self, priority: str) -> PriorityRule:
        key: Priority = priority if priority in PRIORITIES else "P2"
        return self.priorities[key]

    def groups_of(self, priority: str) -> list[tuple[str, GroupRule]]:
        rule = self.priority(priority)
        return [(name, self.groups[name]) for name in rule.notification if name in self.groups]


class EmergencyRules(BaseModel):
    """RULES_FILE `emergency:` (the emergency line, services/escalation/emergency.py)."""

    resolution_minutes: int = Field(default=30, ge=1)  # the seed's "resolved within 30 minutes"
    repeat_minutes: int = Field(default=5, ge=1)  # page every level again until acknowledged
    max_rounds: int = Field(default=36, ge=1)  # three hours of repeats at most


@dataclass(frozen=True)
class IncidentClock:
    """What the deadline arithmetic needs to know about one incident."""

    priority: str
    level: int
    opened_at: datetime
    level_entered_at: datetime
    acknowledged: bool
    response_breach_told: bool
    resolved: bool = False


def level_deadline(rules: EscalationRules, state: IncidentClock) -> datetime | None:
    """When the incident leaves its level by itself, or None (top level, no auto-escalation,
    or a level without a time limit)."""
    if state.resolved or state.level >= rules.top_level:
        return None
    if not rules.priority(state.priority).auto_escalate:
        return None
    max_time = rules.level(state.level).max_time
    if max_time is None:
        return None
    return state.level_entered_at + timedelta(minutes=max_time)


def response_deadline(rules: EscalationRules, state: IncidentClock) -> datetime | None:
    """When an unacknowledged incident breaches its response SLA (told once)."""
    if state.resolved or state.acknowledged or state.response_breach_told:
        return None
    return state.opened_at + timedelta(minutes=rules.priority(state.priority).response_time)


def next_deadline(rules: EscalationRules, state: IncidentClock) -> datetime | None:
    """The earliest moment the scan must look at this incident again (indexed column)."""
    found = [d for d in (level_deadline(rules, state), response_deadline(rules, state)) if d]
    return min(found) if found else None


@dataclass(frozen=True)
class DueActions:
    escalate: bool  # move exactly one level up
    response_breach: bool  # remind the assignee, tell the next level


def due_actions(rules: EscalationRules, state: IncidentClock, now: datetime) -> DueActions:
    """What is due now. At most one level per scan, however long the scanner was away."""
    level_due = level_deadline(rules, state)
    response_due = response_deadline(rules, state)
    return DueActions(
        escalate=level_due is not None and level_due <= now,
        response_breach=response_due is not None and response_due <= now,
    )
