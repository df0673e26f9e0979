"""Read side: `/oncall` (now or at any moment), `/oncall me`, and the rotations list."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from services import roster
from services.oncall import store
from services.oncall.actions import HORIZON, OncallContext
from services.oncall.model import RotationSpec, Shift
from services.oncall.render import BoardRow
from services.oncall.schedule import now_and_next, shifts_of
from services.storage.types import Executor


async def _roles(db: Executor, ctx: OncallContext) -> list[tuple[int, str]]:
    """(level, role) for the escalation levels, then other roles with a rotation (level 0)."""
    levels = [(n, lv.role.value) for n, lv in enumerate(ctx.escalation.levels, start=1)]
    known = {role for _n, role in levels}
    extra = [(0, role) for role in await store.rotated_roles(db) if role not in known]
    return levels + extra


async def board(db: Executor, ctx: OncallContext, at: datetime) -> list[BoardRow]:
    rows: list[BoardRow] = []
    for level, role in await _roles(db, ctx):
        schedule = await store.schedule(db, role, ctx.tz, at, at + HORIZON)
        if schedule is None or not schedule.in_force(at):
            people = await roster.on_call_for(db, role)
            rows.append(BoardRow(level, role, False, None, None, tuple(p.user_id for p in people)))
            continue
        found = now_and_next(schedule, at, HORIZON)
        rows.append(BoardRow(level, role, True, found.current, found.following))
    return rows


def people_on(rows: list[BoardRow]) -> set[int]:
    found: set[int] = set()
    for row in rows:
        found.update(row.slot_people)
        for shift in (row.current, row.following):
            if shift is not None and shift.user_id is not None:
                found.add(shift.user_id)
    return found


async def shifts_of_person(
    db: Executor, ctx: OncallContext, user_id: int, start: datetime, end: datetime
) -> list[Shift]:
    schedules = []
    for role in await store.rotated_roles(db):
        schedule = await store.schedule(db, role, ctx.tz, start, end)
        if schedule is not None:
            schedules.append(schedule)
    return shifts_of(schedules, user_id, start, end)


async def shifts_of_role(
    db: Executor, ctx: OncallContext, role: str, start: datetime, end: datetime
) -> list[Shift]:
    from services.oncall.schedule import person_stretches, shifts

    schedule = await store.schedule(db, role, ctx.tz, start, end)
    if schedule is None:
        return []
    return [s for s in person_stretches(shifts(schedule, start, end)) if s.user_id is not None]


async def rotations(db: Executor, at: datetime) -> list[tuple[str, RotationSpec | None]]:
    return [
        (role, await store.current_spec(db, role, at)) for role in await store.rotated_roles(db)
    ]


def horizon_weeks() -> int:
    return HORIZON // timedelta(weeks=1)


async def next_handoff(db: Executor, tz: ZoneInfo, after: datetime) -> datetime | None:
    """The first moment after `after` when someone hands on-call over, any role."""
    from services.oncall.schedule import handoffs

    found: list[datetime] = []
    for role in await store.rotated_roles(db):
        schedule = await store.schedule(db, role, tz, after, after + HORIZON)
        if schedule is not None:
            pairs = handoffs(schedule, after, after + HORIZON)
            if pairs:
                found.append(pairs[0][1].start)
    return min(found) if found else None
