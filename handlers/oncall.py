"""On-call in chat: `/oncall` (now), `/oncall me`, `/oncall at <time>`, `/oncall set <role>
<user>` (the single slot of a role without a rotation), `/oncall cover <who> <from> <to> [role]`,
`/oncall cancel <override>`, `/oncall swap <who> <my shift> <their shift> [role]` (and its
Accept / Decline buttons), `/oncall calendar [reset]`, `/oncall notify ...`. Rotations are
edited in handlers/rotation.py; the errors the three expect are answered by
handlers/oncall_errors.py."""

from __future__ import annotations

from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import gettext as _

from handlers.admin import target_of
from handlers.asked import Asked, command, press
from handlers.buttons import settle
from handlers.oncall_errors import USAGE, answers_oncall
from handlers.refusals import Usage
from handlers.routes import Routes
from services import roster, staff
from services.escalation.render import role_label
from services.oncall import actions, contacts, outbound, render, store, swaps, views
from services.oncall.actions import OncallContext, OncallError
from services.oncall.render import SwapAnswer
from services.oncall.when import parse_moment, parse_range
from services.roster import RosterError
from services.staff import Action
from services.text import esc

router = Routes(__name__)
answers_oncall(router)


@command(router, "oncall", "oncall")
async def cmd_oncall(message: Message, asked: Asked[OncallContext]) -> None:
    words = asked.args.split()
    sub = words.pop(0).lower() if words else ""
    pool, ctx, now = asked.pool, asked.ctx, asked.now
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
        found = await views.shifts_of_person(pool, ctx, asked.person.id, now, now + actions.HORIZON)
        await message.answer(render.my_shifts(found, ctx.tz, horizon_weeks=views.horizon_weeks()))
    elif sub == "set":
        await _set_slot(message, words, asked)
    elif sub == "cover":
        await _cover(message, words, asked)
    elif sub == "cancel":
        if not words or not words[0].isdigit() or len(words[0]) > 18:
            raise OncallError("no_override")
        found_override = await actions.cancel_override(
            pool, ctx, asked.person, int(words[0]), now, asked.chat_id
        )
        await message.answer(
            render.override_cancelled(
                found_override.role, found_override.start, found_override.end, ctx.tz,
                asked.person.first_name,
            )
        )  # fmt: skip
    elif sub == "swap":
        await _swap(message, words, asked)
    elif sub == "calendar":
        await _calendar(message, words, asked)
    elif sub == "notify":
        await _notify(message, words, asked)
    else:
        raise Usage(_("Usage: {usage}").format(usage=USAGE))


async def _set_slot(message: Message, words: list[str], asked: Asked[OncallContext]) -> None:
    person, pool = asked.person, asked.pool
    picked = roster.parse_roles(words[:1])
    if not picked:
        raise RosterError("unknown_role")
    target = await target_of(message, words[1:], pool)
    if target is None:
        raise Usage(_("Usage: /oncall set <role> <user id or reply>"))
    await roster.set_on_call(pool, picked[0], target[0], set_by=person.id)
    await staff.done(
        pool, person, "roster.oncall", target=str(target[0]), chat_id=message.chat.id,
        role=picked[0].value,
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


async def _colleague(words: list[str], asked: Asked[OncallContext], usage: str) -> int:
    """The person a cover or a swap names first, before two times (`usage`: fewer words)."""
    if len(words) < 3:
        raise Usage(usage)
    return await actions.resolve_person(asked.pool, words[0], asked.person)


async def _cover(message: Message, words: list[str], asked: Asked[OncallContext]) -> None:
    if not words:
        from handlers.oncall_cover import ask_which_shift

        await ask_which_shift(message, asked)
        return
    usage = _(
        "Usage: /oncall cover <who> <from> <to> [role], e.g. /oncall cover @dimas "
        "tue 18:00 wed 09:00"
    )
    coverer = await _colleague(words, asked, usage)
    person, pool, ctx, now = asked.person, asked.pool, asked.ctx, asked.now
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


async def _swap(message: Message, words: list[str], asked: Asked[OncallContext]) -> None:
    usage = _(
        "Usage: /oncall swap <who> <my shift> <their shift> [role], e.g. "
        "/oncall swap @citra 2026-11-09 2026-11-16"
    )
    other = await _colleague(words, asked, usage)
    person, pool, ctx, now = asked.person, asked.pool, asked.ctx, asked.now
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


async def _calendar(message: Message, words: list[str], asked: Asked[OncallContext]) -> None:
    person, pool, ctx = asked.person, asked.pool, asked.ctx
    if words and words[0].lower() == "reset":
        revoked = await store.revoke_calendars(pool, person.id)
        await staff.done(
            pool, person, Action.CALENDAR, target=str(person.id), chat_id=message.chat.id,
            revoked=revoked,
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
    await staff.done(
        pool, person, Action.CALENDAR, target=str(person.id), chat_id=message.chat.id,
        issued=True,
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


async def _notify(message: Message, words: list[str], asked: Asked[OncallContext]) -> None:
    person, pool, ctx = asked.person, asked.pool, asked.ctx
    if words:
        await contacts.update_from_words(pool, person.id, words, ctx.rules.notify.sms_after)
        await staff.done(
            pool, person, Action.NOTIFY_RULES, target=str(person.id), chat_id=message.chat.id,
            words=words[:8],
        )  # fmt: skip
    found = await contacts.get(pool, person.id)
    await message.answer(contacts.describe(found, ctx.rules.notify.sms_after))


@press(router, SwapAnswer, "oncall")
async def on_swap_button(
    query: CallbackQuery, callback_data: SwapAnswer, asked: Asked[OncallContext]
) -> None:
    swap = await swaps.answer_swap(
        asked.pool, asked.ctx, asked.person, callback_data.id, callback_data.act == "yes",
        asked.now, asked.chat_id,
    )  # fmt: skip
    names = await roster.names_of(asked.pool, [swap.a_user, swap.b_user])
    if callback_data.act == "no":
        text = render.swap_declined(swap.role, asked.person.id, names)
    elif swap.a_accepted and swap.b_accepted:
        text = render.swap_done(swap.role, swap.a_user, swap.b_user, names)
    else:
        text = _("Accepted; waiting for the other person.")
    await settle(query, post=text)
