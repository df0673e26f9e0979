"""On-call in chat: `/oncall` (now), `/oncall me`, `/oncall at <time>`, `/oncall set <role>
<user>` (the single slot of a role without a rotation), `/oncall cover <who> <from> <to> [role]`,
`/oncall cancel <override>`, `/oncall swap <who> <my shift> <their shift> [role]` (and its
Accept / Decline buttons), `/oncall calendar [reset]`, `/oncall notify ...`. Rotations are
edited in handlers/rotation.py."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import datetime

import asyncpg
from aiogram.filters import Command, CommandObject
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import gettext as _

from handlers.admin import roster_error, target_of
from handlers.buttons import Press
from handlers.refusals import refusal
from handlers.routes import Routes
from services import audit, roster, staff
from services.clock import Clock
from services.escalation.render import role_label
from services.oncall import actions, contacts, outbound, render, store, swaps, views
from services.oncall.actions import OncallContext, OncallError
from services.oncall.model import SpecError
from services.oncall.render import SwapAnswer
from services.oncall.when import parse_moment, parse_range
from services.roster import RosterError
from services.staff import Action, NotAllowed
from services.text import esc
from services.users import Person

router = Routes(__name__)


def oncall_error(error: OncallError | SpecError) -> str:
    detail = esc(error.detail)
    return {
        "not_on_roster": _("{who} is not on the staff roster.").format(who=detail),
        "role_not_held": _("{who} does not hold this role.").format(who=detail),
        "past": _("Past shifts are history and cannot be changed; pick a time from now on."),
        "name_role": _("You are not on call then: name the role, e.g. senior_engineer."),
        "no_rotation": _("That role has no rotation; use /oncall set for its single slot."),
        "no_override": _("There is no such override (or it was cancelled)."),
        "no_shift": _("No such shift in the next 8 weeks."),
        "same_person": _("A swap needs two different people."),
        "swap_gone": _("This swap was already answered or has expired."),
        "draft_gone": _("This preview was already saved or cancelled."),
        "bad_layer": _("That rotation is not valid: {detail}").format(detail=detail),
        "bad_moment": _(
            "I could not read that time. Examples: 18:00, tue 18:00, besok 09:00, "
            "2026-12-01 18:00, +12h."
        ),
        "bad_time": _(
            "I could not read that time. Examples: 18:00, tue 18:00, besok 09:00, "
            "2026-12-01 18:00, +12h."
        ),
        "bad_day": _("Unknown day: use mon … sun or senin … minggu."),
        "end_before_start": _("The end must come after the start."),
        "too_far": _("That is too far ahead (one year at most)."),
        "bad_phone": _("That is not a phone number (use +62…)."),
        "bad_minutes": _("Minutes are a number from 1 to 240."),
        "usage": esc(_("Usage: {usage}").format(usage=USAGE)),
    }.get(error.reason, _("That did not work."))


@contextlib.asynccontextmanager
async def answering(answer: Callable[[str], Awaitable[object]]) -> AsyncIterator[None]:
    """Expected refusals become one sentence for the person (NotAllowed is already audited)."""
    try:
        yield
    except NotAllowed as error:
        await answer(refusal(error))
    except (OncallError, SpecError) as error:
        await answer(oncall_error(error))
    except RosterError as error:
        await answer(roster_error(error))


USAGE = (
    "/oncall, /oncall me, /oncall at <time>, /oncall cover <who> <from> <to> [role], "
    "/oncall cancel <number>, /oncall swap <who> <my shift> <their shift> [role], "
    "/oncall calendar [reset], /oncall notify, /oncall set <role> <user>"
)


@router.message(Command("oncall"))
async def cmd_oncall(
    message: Message,
    command: CommandObject,
    person: Person,
    pool: asyncpg.Pool,
    oncall: OncallContext,
    clock: Clock,
) -> None:
    words = (command.args or "").split()
    sub = words.pop(0).lower() if words else ""
    rule = staff.COMMANDS["oncall"]
    ctx = oncall
    now = clock.now()
    chat_id = message.chat.id
    async with answering(message.answer):
        await staff.require(
            pool, person, rule.action_for(command.args), target=command.args, chat_id=chat_id
        )
        if sub in ("", "now", "at"):
            at = now
            if sub == "at":
                at, _used = parse_moment(words, now, ctx.tz)
            rows = await views.board(pool, ctx, at)
            names = await roster.names_of(pool, views.people_on(rows))
            title = (
                None
                if sub != "at"
                else _("<b>On call at {when}</b>").format(when=render.when(at, ctx.tz))
            )
            await message.answer(render.board(rows, names, ctx.tz, title=title))
        elif sub in ("me", "saya"):
            found = await views.shifts_of_person(pool, ctx, person.id, now, now + actions.HORIZON)
            await message.answer(
                render.my_shifts(found, ctx.tz, horizon_weeks=views.horizon_weeks())
            )
        elif sub == "set":
            await _set_slot(message, words, person, pool)
        elif sub == "cover":
            await _cover(message, words, person, pool, ctx, now)
        elif sub == "cancel":
            if not words or not words[0].isdigit() or len(words[0]) > 18:
                raise OncallError("no_override")
            found_override = await actions.cancel_override(
                pool, ctx, person, int(words[0]), now, chat_id
            )
            await message.answer(
                render.override_cancelled(
                    found_override.role, found_override.start, found_override.end, ctx.tz,
                    person.first_name,
                )
            )  # fmt: skip
        elif sub == "swap":
            await _swap(message, words, person, pool, ctx, now)
        elif sub == "calendar":
            await _calendar(message, words, person, pool, ctx)
        elif sub == "notify":
            await _notify(message, words, person, pool, ctx)
        else:
            await message.answer(esc(_("Usage: {usage}").format(usage=USAGE)))


async def _set_slot(message: Message, words: list[str], person: Person, pool: asyncpg.Pool) -> None:
    picked = roster.parse_roles(words[:1])
    if not picked:
        raise RosterError("unknown_role")
    target = await target_of(message, words[1:], pool)
    if target is None:
        await message.answer(esc(_("Usage: /oncall set <role> <user id or reply>")))
        return
    await roster.set_on_call(pool, picked[0], target[0], set_by=person.id)
    await audit.record(
        pool, actor_id=person.id, action="roster.oncall", allowed=True, target=str(target[0]),
        chat_id=message.chat.id, details={"role": picked[0].value},
    )  # fmt: skip
    await message.answer(
        _("{name} is now on call as {role}.").format(
            name=esc(target[1]), role=esc(role_label(picked[0].value))
        )
    )


def _role_word(words: list[str]) -> str | None:
    if not words:
        return None
    return roster.parse_roles(words[:1])[0].value


async def _cover(
    message: Message, words: list[str], person: Person, pool: asyncpg.Pool,
    ctx: OncallContext, now: datetime,
) -> None:  # fmt: skip
    if not words:
        from handlers.oncall_cover import ask_which_shift

        await ask_which_shift(message, person, pool, ctx, now)
        return
    if len(words) < 3:
        await message.answer(
            esc(
                _(
                    "Usage: /oncall cover <who> <from> <to> [role], e.g. /oncall cover @dimas "
                    "tue 18:00 wed 09:00"
                )
            )
        )
        return
    coverer = await actions.resolve_person(pool, words[0], person)
    start, end, rest = parse_range(words[1:], now, ctx.tz)
    role = _role_word(rest)
    made = await actions.cover(
        pool, ctx, person, coverer=coverer, start=start, end=end, role=role, now=now,
        chat_id=message.chat.id,
    )  # fmt: skip
    names = await roster.names_of(pool, [coverer, *(o.replaces for o in made)])
    lines = [
        render.cover_notice(
            o.role, o.user_id, o.replaces, o.start, o.end, names, ctx.tz, person.first_name
        )
        + " "
        + _("(override #{number}; /oncall cancel {number} undoes it)").format(number=o.id)
        for o in made
    ]
    await message.answer("\n".join(lines))


async def _swap(
    message: Message, words: list[str], person: Person, pool: asyncpg.Pool,
    ctx: OncallContext, now: datetime,
) -> None:  # fmt: skip
    if len(words) < 3:
        await message.answer(
            esc(
                _(
                    "Usage: /oncall swap <who> <my shift> <their shift> [role], e.g. "
                    "/oncall swap @citra 2026-11-09 2026-11-16"
                )
            )
        )
        return
    other = await actions.resolve_person(pool, words[0], person)
    mine, used = parse_moment(words[1:], now, ctx.tz)
    theirs, used2 = parse_moment(words[1 + used :], now, ctx.tz)
    rest = words[1 + used + used2 :]
    role = _role_word(rest)
    if role is None:
        roles = await store.rotated_roles(pool)
        held = [r for r in roles if r in person.roles]
        if len(held) != 1:
            raise OncallError("name_role")
        role = held[0]
    swap = await swaps.propose_swap(
        pool, ctx, person, role=role, a_user=person.id, a_at=mine, b_user=other, b_at=theirs,
        now=now, chat_id=message.chat.id,
    )  # fmt: skip
    names = await roster.names_of(pool, [swap.a_user, swap.b_user])
    await message.answer(
        render.swap_proposal(
            swap.role, swap.a_user, (swap.a_start, swap.a_end), swap.b_user,
            (swap.b_start, swap.b_end), names, ctx.tz,
        )
        + "\n"
        + _("Sent to {name} to accept.").format(name=esc(names.get(other, str(other))))
    )  # fmt: skip


def calendar_url(ctx: OncallContext, token: str) -> str:
    return f"{ctx.calendar_base}/oncall/{token}.ics"


async def _calendar(
    message: Message, words: list[str], person: Person, pool: asyncpg.Pool, ctx: OncallContext
) -> None:
    if words and words[0].lower() == "reset":
        revoked = await store.revoke_calendars(pool, person.id)
        await audit.record(
            pool, actor_id=person.id, action=Action.CALENDAR.value, allowed=True,
            target=str(person.id), chat_id=message.chat.id, details={"revoked": revoked},
        )  # fmt: skip
        await message.answer(
            _("Your calendar links are revoked ({count}); /oncall calendar gives new ones.").format(
                count=revoked
            )
        )
        return
    mine = await store.calendar_link(pool, person.id, "person", str(person.id))
    role_links = []
    for role in await store.rotated_roles(pool):
        if role in person.roles:
            link = await store.calendar_link(pool, person.id, "role", role)
            role_links.append((role, calendar_url(ctx, link.token)))
    await audit.record(
        pool, actor_id=person.id, action=Action.CALENDAR.value, allowed=True,
        target=str(person.id), chat_id=message.chat.id, details={"issued": True},
    )  # fmt: skip
    person_url = calendar_url(ctx, mine.token)
    if message.chat.type != "private":
        # a private link does not belong in a group: sent to the person, in their language
        await outbound.tell_person(
            pool, ctx, person.id, lambda: render.calendar_links(person_url, role_links)
        )
        await message.answer(_("I sent your calendar links to you privately."))
        return
    await message.answer(render.calendar_links(person_url, role_links))


async def _notify(
    message: Message, words: list[str], person: Person, pool: asyncpg.Pool, ctx: OncallContext
) -> None:
    if words:
        await contacts.update_from_words(pool, person.id, words, ctx.rules.notify.sms_after)
        await audit.record(
            pool, actor_id=person.id, action=Action.NOTIFY_RULES.value, allowed=True,
            target=str(person.id), chat_id=message.chat.id, details={"words": words[:8]},
        )  # fmt: skip
    found = await contacts.get(pool, person.id)
    await message.answer(contacts.describe(found, ctx.rules.notify.sms_after))


@router.callback_query(Press(SwapAnswer))
async def on_swap_button(
    query: CallbackQuery,
    callback_data: SwapAnswer,
    person: Person,
    pool: asyncpg.Pool,
    oncall: OncallContext,
    clock: Clock,
) -> None:
    ctx = oncall
    chat_id = query.message.chat.id if query.message else None

    async def tell(text: str) -> None:
        await query.answer(text, show_alert=True)

    async with answering(tell):
        swap = await swaps.answer_swap(
            pool, ctx, person, callback_data.id, callback_data.act == "yes", clock.now(), chat_id
        )
        names = await roster.names_of(pool, [swap.a_user, swap.b_user])
        if callback_data.act == "no":
            text = render.swap_declined(swap.role, person.id, names)
        elif swap.a_accepted and swap.b_accepted:
            text = render.swap_done(swap.role, swap.a_user, swap.b_user, names)
        else:
            text = _("Accepted; waiting for the other person.")
        await query.answer()
        if isinstance(query.message, Message):
            await query.message.edit_reply_markup(reply_markup=None)
            await query.message.answer(text)
