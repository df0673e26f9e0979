"""Whom a missed response deadline is told, for a plain ticket (services/tickets/deadlines.py)
and an incident at any level (scan.py) alike."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from services import roster
from services.escalation.policy import EscalationRules
from services.oncall import lookup as oncall
from services.storage.types import Executor


async def told_of_breach(
    db: Executor,
    rules: EscalationRules,
    tz: ZoneInfo,
    assignee_id: int | None,
    level: int,
    now: datetime,
) -> list[roster.StaffMember]:
    """The assignee (or, without one, the level's on-call people), then the next level's
    on-call people; each person once."""
    first: list[roster.StaffMember] = []
    if assignee_id is not None:
        assignee = await roster.member(db, assignee_id)
        if assignee is not None:
            first = [assignee]
    if not first:
        first = await oncall.for_level(db, rules, level, now, tz)
    people = {p.user_id: p for p in first}
    if level < rules.top_level:
        for person in await oncall.for_level(db, rules, level + 1, now, tz):
            people.setdefault(person.user_id, person)
    return list(people.values())
