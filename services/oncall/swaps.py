"""Swaps of two whole future shifts between two people: proposed by one of them (or an admin),
done when both pressed Accept, as two overrides; declined or expired, nothing changes."""

from __future__ import annotations

from datetime import datetime

from services import staff
from services.oncall import outbound, store
from services.oncall.actions import HORIZON, OncallContext, OncallError, schedule_of
from services.oncall.model import Shift, Swap
from services.oncall.schedule import person_stretches, shifts
from services.staff import Action, NotAllowed
from services.storage.types import Executor
from services.users import Person


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
    swap = await store.add_swap(db, role, a_user, a, b_user, b, by=actor.id, now=now)
    await staff.done(db, actor, Action.SWAP_SHIFTS, target=f"swap:{swap.id}", chat_id=chat_id,
                     proposed=True, role=role)  # fmt: skip
    await outbound.swap_proposed(db, ctx, swap)
    return swap


async def answer_swap(
    db: Executor, ctx: OncallContext, actor: Person, swap_id: int, accept: bool, now: datetime,
    chat_id: int | None,
) -> Swap:  # fmt: skip
    await staff.require(db, actor, Action.SWAP_SHIFTS, target=f"swap:{swap_id}", chat_id=chat_id)
    found = await store.get_swap(db, swap_id, lock=True)
    if found is None or found.status != "pending":
        raise OncallError("swap_gone")
    swap = found
    if actor.id not in (swap.a_user, swap.b_user):
        await staff.refuse(db, actor, Action.SWAP_SHIFTS, target=f"swap:{swap_id}", chat_id=chat_id,
                           reason="not_a_party")  # fmt: skip
        raise NotAllowed(Action.SWAP_SHIFTS)
    if min(swap.a_start, swap.b_start) < now:
        await store.set_swap_status(db, swap_id, "expired")
        raise OncallError("past")
    if not accept:
        await store.set_swap_status(db, swap_id, "declined")
        await staff.done(db, actor, Action.SWAP_SHIFTS, target=f"swap:{swap_id}", chat_id=chat_id,
                         declined=True)  # fmt: skip
        await outbound.swap_answered(db, ctx, swap, actor.id, done=False)
        return swap
    swap = await store.accept_swap(db, swap_id, now, by_a=actor.id == swap.a_user)
    if not (swap.a_accepted and swap.b_accepted):
        await staff.done(db, actor, Action.SWAP_SHIFTS, target=f"swap:{swap_id}", chat_id=chat_id,
                         accepted=True)  # fmt: skip
        return swap
    await store.set_swap_status(db, swap_id, "done")
    await store.add_override(
        db, role=swap.role, user_id=swap.b_user, start=swap.a_start, end=swap.a_end,
        replaces=swap.a_user, by=actor.id, kind="swap", swap_id=swap.id,
    )  # fmt: skip
    await store.add_override(
        db, role=swap.role, user_id=swap.a_user, start=swap.b_start, end=swap.b_end,
        replaces=swap.b_user, by=actor.id, kind="swap", swap_id=swap.id,
    )  # fmt: skip
    await staff.done(db, actor, Action.SWAP_SHIFTS, target=f"swap:{swap_id}", chat_id=chat_id,
                     accepted=True, done=True)  # fmt: skip
    await outbound.swap_answered(db, ctx, swap, actor.id, done=True)
    return swap
