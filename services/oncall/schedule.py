"""The arithmetic of schedules, pure: who is on call for a role at an instant, and the shifts
over a range. No clock and no database: callers pass the instant.

A role's schedule is a list of rotation versions (each effective from its instant, so an edit
never rewrites the past) plus overrides. At an instant the newest override covering it wins;
else the last layer of the version in effect that is active there; else nobody (a gap).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from services.oncall.model import Layer, Override, Rotation, Shift


@dataclass(frozen=True)
class Version:
    effective_from: datetime
    rotation: Rotation


@dataclass(frozen=True)
class Schedule:
    role: str
    versions: tuple[Version, ...]  # ordered by effective_from
    overrides: tuple[Override, ...] = field(default_factory=tuple)  # ordered by id (newest last)

    def version_at(self, at: datetime) -> Rotation | None:
        found = None
        for version in self.versions:
            if version.effective_from <= at:
                found = version.rotation
        return found

    def in_force(self, at: datetime) -> bool:
        """A rotation with layers answers at `at` (not before the first version, not after
        `/rotation off`): otherwise the role's `/oncall set` slot does, overrides aside."""
        rotation = self.version_at(at)
        return rotation is not None and bool(rotation.layers)


# --- one layer --------------------------------------------------------------------------------


def shift_start(layer: Layer, index: int) -> datetime:
    """When shift number `index` (0 = the anchor's) starts."""
    if layer.by_days:
        tz = layer.anchor.tzinfo
        wall = layer.anchor.replace(tzinfo=None) + index * layer.shift
        return wall.replace(tzinfo=tz)
    return layer.anchor + index * layer.shift


def shift_index(layer: Layer, at: datetime) -> int:
    """The number of the shift running at `at` (negative before the anchor: rotations run
    backwards too, so a rotation written today answers for yesterday)."""
    if layer.by_days:
        local = at.astimezone(layer.anchor.tzinfo).replace(tzinfo=None)
        guess = (local - layer.anchor.replace(tzinfo=None)) // layer.shift
    else:
        guess = (at - layer.anchor) // layer.shift
    while shift_start(layer, guess + 1) <= at:
        guess += 1
    while shift_start(layer, guess) > at:
        guess -= 1
    return guess


def layer_active(layer: Layer, at: datetime) -> bool:
    if not layer.windows:
        return True
    local = at.astimezone(layer.anchor.tzinfo)
    return any(w.contains(local) for w in layer.windows)


def layer_member(layer: Layer, at: datetime) -> int | None:
    if not layer_active(layer, at):
        return None
    return layer.members[shift_index(layer, at) % len(layer.members)]


def layer_edges(layer: Layer, start: datetime, end: datetime) -> list[datetime]:
    """Every instant in (start, end) where this layer's answer may change."""
    edges: list[datetime] = []
    index = shift_index(layer, start) + 1
    while (moment := shift_start(layer, index)) < end:
        edges.append(moment)
        index += 1
    if layer.windows:
        tz = layer.anchor.tzinfo
        assert tz is not None
        day = start.astimezone(tz).date() - timedelta(days=1)
        last = end.astimezone(tz).date()
        while day <= last:
            for window in layer.windows:
                edges.extend(e for e in window.edges(day, tz) if start < e < end)  # type: ignore[arg-type]
            day += timedelta(days=1)
    return edges


# --- the whole schedule -----------------------------------------------------------------------


@dataclass(frozen=True)
class Answer:
    user_id: int | None
    layer: str | None = None
    override_id: int | None = None


def who(schedule: Schedule, at: datetime) -> Answer:
    for override in reversed(schedule.overrides):
        if override.start <= at < override.end:
            return Answer(override.user_id, override_id=override.id)
    rotation = schedule.version_at(at)
    if rotation is None:
        return Answer(None)
    for layer in reversed(rotation.layers):
        member = layer_member(layer, at)
        if member is not None:
            return Answer(member, layer=layer.name)
    return Answer(None)


def _edges(schedule: Schedule, start: datetime, end: datetime) -> list[datetime]:
    edges = {start, end}
    versions = schedule.versions
    for number, version in enumerate(versions):
        until = versions[number + 1].effective_from if number + 1 < len(versions) else end
        lo, hi = max(start, version.effective_from), min(end, until)
        if lo >= hi:
            continue
        edges.add(lo)
        for layer in version.rotation.layers:
            edges.update(layer_edges(layer, lo, hi))
    for override in schedule.overrides:
        edges.update(e for e in (override.start, override.end) if start < e < end)
    return sorted(edges)


def shifts(schedule: Schedule, start: datetime, end: datetime) -> list[Shift]:
    """The final schedule over [start, end): consecutive stretches with one answer each,
    merged where the same person carries on from the same source. Gaps are included."""
    found: list[Shift] = []
    edges = _edges(schedule, start, end)
    for lo, hi in itertools.pairwise(edges):
        answer = who(schedule, lo)
        last = found[-1] if found else None
        if (
            last is not None
            and last.user_id == answer.user_id
            and last.layer == answer.layer
            and last.override_id == answer.override_id
        ):
            found[-1] = Shift(
                schedule.role, last.user_id, last.start, hi, last.layer, last.override_id
            )
        else:
            found.append(
                Shift(schedule.role, answer.user_id, lo, hi, answer.layer, answer.override_id)
            )
    return found


def person_stretches(shifts_: Iterable[Shift]) -> list[Shift]:
    """Shifts merged by person only (an override in the middle of someone's own week is not a
    handoff when it names the same person)."""
    merged: list[Shift] = []
    for shift in shifts_:
        if merged and merged[-1].user_id == shift.user_id and merged[-1].end == shift.start:
            last = merged[-1]
            merged[-1] = Shift(last.role, last.user_id, last.start, shift.end, last.layer)
        else:
            merged.append(shift)
    return merged


@dataclass(frozen=True)
class Now:
    """`/oncall` for one role: who now, until when, who next."""

    current: Shift
    following: Shift | None


def now_and_next(schedule: Schedule, at: datetime, horizon: timedelta) -> Now:
    stretches = person_stretches(shifts(schedule, at, at + horizon))
    return Now(stretches[0], stretches[1] if len(stretches) > 1 else None)


def handoffs(schedule: Schedule, start: datetime, end: datetime) -> list[tuple[Shift, Shift]]:
    """(outgoing, incoming) pairs whose handoff instant lies in (start, end]."""
    stretches = person_stretches(shifts(schedule, start - timedelta(seconds=1), end + _TICK))
    return [
        (before, after)
        for before, after in itertools.pairwise(stretches)
        if start < after.start <= end
    ]


_TICK = timedelta(seconds=1)


def shifts_of(
    schedules: Sequence[Schedule], user_id: int, start: datetime, end: datetime
) -> list[Shift]:
    """A person's shifts across roles over [start, end), in time order."""
    mine = [
        s
        for schedule in schedules
        for s in person_stretches(shifts(schedule, start, end))
        if s.user_id == user_id
    ]
    return sorted(mine, key=lambda s: (s.start, s.role))
