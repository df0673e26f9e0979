"""What people change from the chat: rotations (admins), overrides, swaps, calendar links.

Each change checks the person against the permission table (services.staff), is audited, and
tells the people it affects (services.oncall.outbound). Past shifts are history: nothing here
changes a moment before `now`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from pydantic import ValidationError

from services import roster, staff, users
from services.escalation.policy import EscalationRules
from services.localized import StaffAudience
from services.oncall import outbound, store
from services.oncall.model import (
    LayerSpec,
    OncallRules,
    Override,
    RotationSpec,
    Shift,
    SpecError,
)
from services.oncall.schedule import Schedule, Version, person_stretches, shifts
from services.rules import Rules
from services.staff import Action, NotAllowed
from services.storage.types import Executor
from services.users import Person, Role

PREVIEW_SHIFTS = 4
HORIZON = timedelta(weeks=8)


class OncallError(Exception):
    """A change that cannot be made; `reason` is a stable key the chat translates."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason
        self.detail = detail


@dataclass(frozen=True)
class OncallContext(StaffAudience):
    escalation: EscalationRules
    rules: OncallRules = field(default_factory=OncallRules)
    calendar_base: str = ""  # PUBLIC_URL: where GET /oncall/<token>.ics is reached

    @classmethod
    def build(
        cls, rules: Rules, *, timezone: str, admin_chat_id: int | None, default_locale: str,
        calendar_base: str = "",
    ) -> OncallContext:  # fmt: skip
        return cls(
            tz=ZoneInfo(timezone),
            escalation=rules.section("escalation", EscalationRules),
            admin_chat_id=admin_chat_id,
            default_locale=default_locale,
            rules=rules.section("oncall", OncallRules),
            calendar_base=calendar_base,
        )


# --- people as typed ----------------------------------------------------------------------------


async def resolve_person(db: Executor, word: str, actor: Person) -> int:
    """`me`, `@username` or a user id -> a user id on the roster (OncallError otherwise)."""
    word = word.strip()
    if word.lower() in ("me", "saya", "aku"):
        return actor.id
    user_id: int | None = None
    if word.startswith("@") and len(word) > 1:
        user_id = await users.id_of_username(db, word[1:64])
    elif word.isdigit() and len(word) <= 18:  # a Telegram user id, within bigint
        user_id = int(word)
    if user_id is None or await roster.member(db, user_id) is None:
        raise OncallError("not_on_roster", word[:64])
    return user_id


# --- reading the schedule -----------------------------------------------------------------------


async def schedule_of(db: Executor, ctx: OncallContext, role: str, start: datetime,
                      end: datetime) -> Schedule | None:  # fmt: skip
    return await store.schedule(db, role, ctx.tz, start, end)


async def upcoming(db: Executor, ctx: OncallContext, role: str, now: datetime) -> list[Shift]:
    found = await schedule_of(db, ctx, role, now, now + HORIZON)
    return person_stretches(shifts(found, now, now + HORIZON)) if found else []


# --- rotations ----------------------------------------------------------------------------------


def anchored(layer: LayerSpec, now: datetime, tz: ZoneInfo) -> LayerSpec:
    """A layer typed now: the first person named holds the shift running now."""
    from services.oncall.schedule import shift_index

    built = layer.model_copy(update={"start": now.astimezone(tz).date()}).build(tz)
    index = shift_index(built, now)
    if layer.shift in ("daily", "weekly"):
        start = (built.anchor + index * built.shift).date()
        return layer.model_copy(update={"start": start})
    count = len(layer.members)
    members = [layer.members[(i - index) % count] for i in range(count)]
    return layer.model_copy(update={"start": now.astimezone(tz).date(), "members": members})


async def check_members(db: Executor, role: str, spec: RotationSpec) -> None:
    for layer in spec.layers:
        for user_id in layer.members:
            member = await roster.member(db, user_id)
            if member is None:
                raise OncallError("not_on_roster", str(user_id))
            if role not in member.roles:
                raise OncallError("role_not_held", member.display_name)


async def draft_rotation(
    db: Executor, ctx: OncallContext, actor: Person, role: Role, spec: RotationSpec | None,
    now: datetime, chat_id: int | None,
) -> tuple[int, list[Shift]]:  # fmt: skip
    """Keep the typed rotation as a draft; return it and its next shifts for the preview."""
    await staff.require(
        db, actor, Action.EDIT_ROTATION, target=f"rotation:{role.value}", chat_id=chat_id
    )
    preview: list[Shift] = []
    if spec is not None:
        await check_members(db, role.value, spec)
        rotation = spec.build(role.value, ctx.tz)
        horizon = max(layer.shift for layer in rotation.layers) * (PREVIEW_SHIFTS + 1)
        horizon = max(horizon, timedelta(days=8))
        overrides = await store.overrides(db, role.value, now, now + horizon)
        trial = Schedule(role.value, (Version(now, rotation),), tuple(overrides))
        preview = person_stretches(shifts(trial, now, now + horizon))[:PREVIEW_SHIFTS]
    return await store.add_draft(db, role.value, spec, actor.id), preview


async def save_draft(
    db: Executor, ctx: OncallContext, actor: Person, draft_id: int, now: datetime,
    chat_id: int | None,
) -> tuple[str, RotationSpec | None]:  # fmt: skip
    """The admin pressed Save: the draft becomes the role's rotation from now on."""
    draft = await store.get_draft(db, draft_id)
    target = f"rotation:{draft[0]}" if draft else f"draft:{draft_id}"
    await staff.require(db, actor, Action.EDIT_ROTATION, target=target, chat_id=chat_id)
    if draft is None or not await store.use_draft(db, draft_id, now):
        raise OncallError("draft_gone")
    role, spec = draft
    if spec is not None:
        await check_members(db, role, spec)
    before = await store.current_spec(db, role, now)
    await store.save_rotation(db, role, spec, effective_from=now, by=actor.id)
    await staff.done(
        db, actor, Action.EDIT_ROTATION, target=role, chat_id=chat_id,
        spec=spec.model_dump(mode="json") if spec else None, draft=draft_id,
    )  # fmt: skip
    affected = {m for s in (before, spec) if s for layer in s.layers for m in layer.members}
    await outbound.rotation_changed(db, ctx, role, affected - {actor.id}, actor)
    return role, spec


async def drop_draft(db: Executor, actor: Person, draft_id: int, chat_id: int | None) -> None:
    await staff.require(
        db, actor, Action.EDIT_ROTATION, target=f"draft:{draft_id}", chat_id=chat_id
    )
    if await store.use_draft(db, draft_id):
        await staff.done(db, actor, Action.EDIT_ROTATION, target=f"draft:{draft_id}",
                         chat_id=chat_id, cancelled=True)  # fmt: skip


# --- overrides ----------------------------------------------------------------------------------


async def _roles_of(db: Executor, ctx: OncallContext, user_id: int, start: datetime,
                    end: datetime) -> list[str]:  # fmt: skip
    found = []
    for role in await store.rotated_roles(db):
        schedule = await schedule_of(db, ctx, role, start, end)
        if schedule and any(s.user_id == user_id for s in shifts(schedule, start, end)):
            found.append(role)
    return found


async def cover(
    db: Executor, ctx: OncallContext, actor: Person, *, coverer: int, start: datetime,
    end: datetime, role: str | None, now: datetime, chat_id: int | None,
) -> list[Override]:  # fmt: skip
    """`coverer` is on call over [start, end) for `role` (or for every role where the person
    asking is scheduled then). Only admins change someone else's shifts."""
    if start < now - timedelta(minutes=1):
        raise OncallError("past")
    start = max(start, now)
    if end <= start:
        raise OncallError("past")
    roles = [role] if role else await _roles_of(db, ctx, actor.id, start, end)
    if not roles:  # not on call then: the one rotated role the coverer holds, if only one
        member = await roster.member(db, coverer)
        held = [r for r in await store.rotated_roles(db) if member and r in member.roles]
        roles = held if len(held) == 1 else []
    if not roles:
        raise OncallError("name_role")
    admin = staff.may_person(actor, Action.OVERRIDE_OTHERS)
    if not admin:
        await staff.require(
            db, actor, Action.OVERRIDE_SELF, target=f"cover:{coverer}", chat_id=chat_id
        )
    made: list[Override] = []
    for name in roles:
        schedule = await schedule_of(db, ctx, name, start, end)
        if schedule is None:
            raise OncallError("no_rotation", name)
        member = await roster.member(db, coverer)
        if member is None:
            raise OncallError("not_on_roster", str(coverer))
        if name not in member.roles:
            raise OncallError("role_not_held", member.display_name)
        scheduled = {s.user_id for s in shifts(schedule, start, end)} - {None}
        mine_only = scheduled <= {actor.id} and (scheduled or coverer == actor.id)
        if not admin and not mine_only:
            await staff.refuse(
                db, actor, Action.OVERRIDE_OTHERS, target=f"{name}:{coverer}", chat_id=chat_id,
                start=start.isoformat(), end=end.isoformat(),
                scheduled=sorted(u for u in scheduled if u is not None),
            )  # fmt: skip
            raise NotAllowed(Action.OVERRIDE_OTHERS)
        replaced = next(iter(scheduled)) if len(scheduled) == 1 else None
        override = await store.add_override(
            db, role=name, user_id=coverer, start=start, end=end, replaces=replaced, by=actor.id
        )
        await staff.done(
            db, actor, Action.OVERRIDE_SELF if not admin or mine_only else Action.OVERRIDE_OTHERS,
            target=f"{name}:{coverer}", chat_id=chat_id, override=override.id,
            start=start.isoformat(), end=end.isoformat(),
            replaces=sorted(u for u in scheduled if u),
        )  # fmt: skip
        await outbound.override_added(db, ctx, override, scheduled, actor)
        made.append(override)
    return made


async def cancel_override(db: Executor, ctx: OncallContext, actor: Person, override_id: int,
                          now: datetime, chat_id: int | None) -> Override:  # fmt: skip
    """Cancel an override that has not started (the part already served is history)."""
    found = await store.get_override(db, override_id)
    if found is None:
        raise OncallError("no_override")
    own = actor.id in (found.user_id, found.replaces, found.created_by)
    action = Action.OVERRIDE_SELF if own else Action.OVERRIDE_OTHERS
    await staff.require(db, actor, action, target=f"override:{override_id}", chat_id=chat_id)
    if found.end <= now:
        raise OncallError("past")
    if found.start < now:  # it runs: end it now, keep what was served
        await store.end_override(db, found.id, now)
    else:
        await store.cancel_override(db, found.id, now)
    await staff.done(db, actor, action, target=f"override:{found.id}", chat_id=chat_id,
                     cancelled=True)  # fmt: skip
    await outbound.override_cancelled(db, ctx, found, actor)
    return found


def parse_layer(words: list[str]) -> LayerSpec:
    """`weekly mon 09:00 <people...> [only mon-fri 09:00-17:00 ...]` -> a layer (people are
    user ids here; the handler resolves @names first)."""
    if not words:
        raise OncallError("usage")
    shift = words[0].lower()
    rest = words[1:]
    handoff_words = 2 if rest and not _is_clock(rest[0]) else 1
    handoff = " ".join(rest[:handoff_words])
    rest = rest[handoff_words:]
    restrict: list[str] = []
    if "only" in (w.lower() for w in rest):
        at = [w.lower() for w in rest].index("only")
        tail = rest[at + 1 :]
        rest = rest[:at]
        restrict = [" ".join(tail[i : i + 2]) for i in range(0, len(tail), 2)]
    bad = [w for w in rest if not (w.isdigit() and len(w) <= 18)]
    if bad:
        raise OncallError("not_on_roster", bad[0][:64])
    try:
        members = [int(w) for w in rest]
        return LayerSpec(members=members, shift=shift, handoff=handoff, restrict=restrict)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise OncallError("bad_layer", f"{where}: {first['msg']}"[:200]) from None


def _is_clock(word: str) -> bool:
    from services.oncall.model import parse_clock

    try:
        parse_clock(word)
    except SpecError:
        return False
    return True
