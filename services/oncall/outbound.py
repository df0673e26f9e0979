"""The one module that queues on-call messages: each person in their language, each group in its
own, all through the outbox."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from services import outbox, roster
from services.localized import send_in
from services.message import Rendered
from services.oncall import render
from services.oncall.model import Override, Swap
from services.storage.types import Executor
from services.users import Person

if TYPE_CHECKING:
    from services.oncall.actions import OncallContext


async def tell_person(
    db: Executor,
    ctx: OncallContext,
    user_id: int,
    make: Callable[[], str],
    *,
    markup: Callable[[], dict[str, Any]] | None = None,
    dedup: str | None = None,
    priority: int = outbox.PRIORITY_INTERACTIVE,
) -> int | None:
    member = await roster.member(db, user_id)
    language = member.language if member and member.language else ctx.default_locale
    return await send_in(
        db,
        user_id,
        language,
        lambda: Rendered(make(), markup() if markup else None),
        dedup_key=dedup,
        priority=priority,
    )


async def tell_admin_chat(
    db: Executor, ctx: OncallContext, make: Callable[[], str], *, dedup: str | None = None
) -> int | None:
    return await ctx.tell_admin_chat(
        db, make, dedup_key=dedup, priority=outbox.PRIORITY_INTERACTIVE
    )


async def rotation_changed(
    db: Executor, ctx: OncallContext, role: str, user_ids: Iterable[int], actor: Person
) -> None:
    for user_id in sorted(user_ids):
        await tell_person(db, ctx, user_id, lambda: render.rotation_saved(role, actor.first_name))


async def override_added(
    db: Executor,
    ctx: OncallContext,
    override: Override,
    scheduled: Iterable[int | None],
    actor: Person,
) -> None:
    people = {override.user_id, *(u for u in scheduled if u is not None)} - {actor.id}
    names = await roster.names_of(db, [override.user_id, override.replaces])

    def text() -> str:
        return render.cover_notice(
            override.role, override.user_id, override.replaces, override.start, override.end,
            names, ctx.tz, actor.first_name,
        )  # fmt: skip

    for user_id in sorted(people):
        await tell_person(db, ctx, user_id, text, dedup=f"oncall:ovr:{override.id}:{user_id}")


async def override_cancelled(
    db: Executor, ctx: OncallContext, override: Override, actor: Person
) -> None:
    people = {override.user_id, override.replaces} - {actor.id, None}
    for user_id in sorted(u for u in people if u is not None):
        await tell_person(
            db,
            ctx,
            user_id,
            lambda: render.override_cancelled(
                override.role, override.start, override.end, ctx.tz, actor.first_name
            ),
        )


async def swap_proposed(db: Executor, ctx: OncallContext, swap: Swap) -> None:
    names = await roster.names_of(db, [swap.a_user, swap.b_user])
    for user_id, accepted in ((swap.a_user, swap.a_accepted), (swap.b_user, swap.b_accepted)):
        if accepted:
            continue
        await tell_person(
            db,
            ctx,
            user_id,
            lambda: render.swap_proposal(
                swap.role,
                swap.a_user,
                (swap.a_start, swap.a_end),
                swap.b_user,
                (swap.b_start, swap.b_end),
                names,
                ctx.tz,
            ),
            markup=lambda: render.swap_keyboard(swap.id),
            dedup=f"oncall:swap:{swap.id}:{user_id}",
        )


async def swap_answered(
    db: Executor, ctx: OncallContext, swap: Swap, by: int, *, done: bool
) -> None:
    names = await roster.names_of(db, [swap.a_user, swap.b_user])
    for user_id in (swap.a_user, swap.b_user):
        if user_id == by:
            continue
        await tell_person(
            db,
            ctx,
            user_id,
            (lambda: render.swap_done(swap.role, swap.a_user, swap.b_user, names))
            if done
            else (lambda: render.swap_declined(swap.role, by, names)),
        )
