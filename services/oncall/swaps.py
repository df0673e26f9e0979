"""Swaps of two whole future shifts between two people: proposed by one of them (or an admin),
done when both pressed Accept, as two overrides; declined or expired, nothing changes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from services import audit, staff
from services.oncall import outbound, store
from services.oncall.actions import HORIZON, OncallContext, OncallError, schedule_of
from services.oncall.model import Shift
from services.oncall.schedule import person_stretches, shifts
from services.staff import Action, NotAllowed
from services.storage.types import Executor
from services.users import Person


@dataclass(frozen=True)
class Swap:
    id: int
    role: str
    a_user: int
    a_start: datetime
    a_end: datetime
    b_user: int
    b_start: datetime
    b_end: datetime
    status: str
    a_accepted: bool
    b_accepted: bool


def _swap(row: object) -> Swap:
    r = row  # asyncpg Record
    return Swap(
        r["id"], r["role"], r["a_user"], r["a_start"], r["a_end"], r["b_user"],  # type: ignore[index]
        r["b_start"], r["b_end"], r["status"], r["a_accepted_at"] is not None,  # type: ignore[index]
        r["b_accepted_at"] is not None,  # type: ignore[index]
    )  # fmt: skip


async def _whole_shift(db: Executor, ctx: OncallContext, role: str, user_id: int,
                       at: datetime, now: datetime) -> Shift:  # fmt: skip
    """The person's whole shift of `role` that is running or starts at/after `at`."""
    schedule = await schedule_of(db, ctx, role, now - HORIZON, now + HORIZON)
    if schedule is None:
        raise OncallError("no_rotation", role)
    for shift in person_stretches(shifts(schedule, now - HORIZON, now + HORIZON)):
        if shift.user_id == user_id and shift.end > at:
            return shift
    raise OncallError("no_shift")


async def propose_swap(
    db: Executor, ctx: OncallContext, actor: Person, *, role: str, a_user: int, a_at: datetime,
    b_user: int, b_at: datetime, now: datetime, chat_id: int | None,
) -> Swap:  # fmt: skip
    """Swap `a_user`'s next shift (from a_at) with `b_user`'s (from b_at); both accept."""
    party = actor.id in (a_user, b_user)
    action = Action.SWAP_SHIFTS if party else Action.OVERRIDE_OTHERS
    await staff.require(db, actor, action, target=f"swap:{a_user}:{b_user}", chat_id=chat_id)
    if a_user == b_user:
        raise OncallError("same_person")
    a = await _whole_shift(db, ctx, role, a_user, a_at, now)
    b = await _whole_shift(db, ctx, role, b_user, b_at, now)
    if a.start < now or b.start < now:
        raise OncallError("past")
    row = await db.fetchrow(
        """
        INSERT INTO oncall_swaps (role, a_user, a_start, a_end, b_user, b_start, b_end,
                                  proposed_by, a_accepted_at, b_accepted_at)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING *
        """,
        role, a_user, a.start, a.end, b_user, b.start, b.end, actor.id,
        now if actor.id == a_user else None, now if actor.id == b_user else None,
    )  # fmt: skip
    swap = _swap(row)
    await audit.record(
        db, actor_id=actor.id, action=Action.SWAP_SHIFTS.value, allowed=True,
        target=f"swap:{swap.id}", chat_id=chat_id, details={"proposed": True, "role": role},
    )  # fmt: skip
    await outbound.swap_proposed(db, ctx, swap)
    return swap


async def answer_swap(
    db: Executor, ctx: OncallContext, actor: Person, swap_id: int, accept: bool, now: datetime,
    chat_id: int | None,
) -> Swap:  # fmt: skip
    await staff.require(db, actor, Action.SWAP_SHIFTS, target=f"swap:{swap_id}", chat_id=chat_id)
    row = await db.fetchrow("SELECT * FROM oncall_swaps WHERE id = $1 FOR UPDATE", swap_id)
    if row is None or row["status"] != "pending":
        raise OncallError("swap_gone")
    swap = _swap(row)
    if actor.id not in (swap.a_user, swap.b_user):
        await staff.refuse(db, actor, Action.SWAP_SHIFTS, target=f"swap:{swap_id}", chat_id=chat_id,
                           reason="not_a_party")  # fmt: skip
        raise NotAllowed(Action.SWAP_SHIFTS)
    if min(swap.a_start, swap.b_start) < now:
        await db.execute("UPDATE oncall_swaps SET status = 'expired' WHERE id = $1", swap_id)
        raise OncallError("past")
    if not accept:
        await db.execute("UPDATE oncall_swaps SET status = 'declined' WHERE id = $1", swap_id)
        await audit.record(
            db, actor_id=actor.id, action=Action.SWAP_SHIFTS.value, allowed=True,
            target=f"swap:{swap_id}", chat_id=chat_id, details={"declined": True},
        )  # fmt: skip
        await outbound.swap_answered(db, ctx, swap, actor.id, done=False)
        return swap
    row = await db.fetchrow(
        """
        UPDATE oncall_swaps
        SET a_accepted_at = CASE WHEN $3 THEN coalesce(a_accepted_at, $2) ELSE a_accepted_at END,
            b_accepted_at = CASE WHEN $3 THEN b_accepted_at ELSE coalesce(b_accepted_at, $2) END
        WHERE id = $1 RETURNING *
        """,
        swap_id,
        now,
        actor.id == swap.a_user,
    )
    swap = _swap(row)
    if not (swap.a_accepted and swap.b_accepted):
        await audit.record(
            db, actor_id=actor.id, action=Action.SWAP_SHIFTS.value, allowed=True,
            target=f"swap:{swap_id}", chat_id=chat_id, details={"accepted": True},
        )  # fmt: skip
        return swap
    await db.execute("UPDATE oncall_swaps SET status = 'done' WHERE id = $1", swap_id)
    await store.add_override(
        db, role=swap.role, user_id=swap.b_user, start=swap.a_start, end=swap.a_end,
        replaces=swap.a_user, by=actor.id, kind="swap", swap_id=swap.id,
    )  # fmt: skip
    await store.add_override(
        db, role=swap.role, user_id=swap.a_user, start=swap.b_start, end=swap.b_end,
        replaces=swap.b_user, by=actor.id, kind="swap", swap_id=swap.id,
    )  # fmt: skip
    await audit.record(
        db, actor_id=actor.id, action=Action.SWAP_SHIFTS.value, allowed=True,
        target=f"swap:{swap_id}", chat_id=chat_id, details={"accepted": True, "done": True},
    )  # fmt: skip
    await outbound.swap_answered(db, ctx, swap, actor.id, done=True)
    return swap
