"""The one question the escalation tree asks: who answers for a level at this instant?

A role with a rotation answers from its schedule (overrides included). A role without one keeps
the single `/oncall set` slot (services.roster.on_call_for). A gap in a rotation passes the page to
the next level for as long as it lasts.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from services import roster
from services.escalation.policy import EscalationRules
from services.oncall import store
from services.oncall.schedule import who
from services.storage.types import Executor

_INSTANT = timedelta(seconds=1)


async def scheduled(db: Executor, role: str, at: datetime, tz: ZoneInfo) -> int | bool | None:
    """The user id the role's schedule names at `at`; None for a gap; False: no rotation."""
    schedule = await store.schedule(db, role, tz, at, at + _INSTANT)
    if schedule is None:
        return False
    answer = who(schedule, at)
    if not schedule.in_force(at) and answer.override_id is None:
        return False  # no rotation in force: the slot answers
    return answer.user_id


async def on_call_for(
    db: Executor, role: str, at: datetime, tz: ZoneInfo
) -> tuple[list[roster.StaffMember], bool]:
    """(the people, whether the schedule has a gap here)."""
    found = await scheduled(db, role, at, tz)
    if found is False:
        return await roster.on_call_for(db, role), False
    if found is None or found is True:
        return [], True
    person = await roster.member(db, found)
    return ([person], False) if person is not None else ([], True)


async def for_level(
    db: Executor, rules: EscalationRules, level: int, at: datetime, tz: ZoneInfo
) -> list[roster.StaffMember]:
    """Level N's on-call people now; a gap in its schedule pages the next level instead."""
    for number in range(level, rules.top_level + 1):
        people, gap = await on_call_for(db, rules.level(number).role.value, at, tz)
        if people or not gap:
            return people
    return []


async def members_on_call(
    db: Executor, roles: Iterable[str], at: datetime, tz: ZoneInfo
) -> list[roster.StaffMember]:
    """A notification group of on-call people: per role its scheduled person, or (a role
    without a rotation) its members marked on call, as before schedules existed."""
    found: dict[int, roster.StaffMember] = {}
    for role in roles:
        person = await scheduled(db, str(role), at, tz)
        if person is False:
            members = await roster.members_with(db, [str(role)], on_call_only=True)
        elif person is None or person is True:
            members = []
        else:
            member = await roster.member(db, person)
            members = [member] if member is not None else []
        for m in members:
            found.setdefault(m.user_id, m)
    return [found[k] for k in sorted(found)]
