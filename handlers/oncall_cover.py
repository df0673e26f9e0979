"""The button flow of a cover: `/oncall cover` alone lists the person's next shifts as buttons;
a press asks who covers it (the colleagues holding that role); the second press makes the
override for that whole shift (from now, for the one running). The same rules as the typed
command apply: only one's own shifts, past shifts are history."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import gettext as _

from handlers.asked import Asked, press
from handlers.buttons import as_markup, settle
from handlers.oncall_errors import answers_oncall
from handlers.routes import Routes
from services import roster, staff
from services.escalation.render import role_label
from services.message import key, keyboard
from services.oncall import actions, render, views
from services.oncall.actions import OncallContext, OncallError
from services.oncall.model import Shift
from services.oncall.render import CoverPick
from services.staff import Action
from services.text import esc
from services.users import Role

router = Routes(__name__)
answers_oncall(router)
ROLES = list(Role)
MAX_SHIFTS = 6
MAX_PEOPLE = 12


def _label(shift: Shift, ctx: OncallContext) -> str:
    return f"{render.when(shift.start, ctx.tz)} – {render.when(shift.end, ctx.tz)} · " + role_label(
        shift.role
    )


def _keyboard(rows: list[tuple[str, str]]) -> InlineKeyboardMarkup:
    """One button a row."""
    return as_markup(keyboard([[key(text, data)] for text, data in rows]))


async def ask_which_shift(message: Message, asked: Asked[OncallContext]) -> None:
    """`/oncall cover` with nothing after it."""
    ctx, now = asked.ctx, asked.now
    mine = await views.shifts_of_person(
        asked.pool, ctx, asked.person.id, now, now + actions.HORIZON
    )
    mine = [s for s in mine if s.role in Role.__members__.values()][:MAX_SHIFTS]
    if not mine:
        await message.answer(
            _("You have no shifts to hand over. Typed: {usage}").format(
                usage=esc("/oncall cover <who> <from> <to> [role]")
            )
        )
        return
    rows = [
        (
            _label(s, ctx),
            CoverPick(act="shift", r=ROLES.index(Role(s.role)), t=int(s.end.timestamp())).pack(),
        )
        for s in mine
    ]
    await message.answer(_("Which of your shifts needs cover?"), reply_markup=_keyboard(rows))


async def _my_shift(asked: Asked[OncallContext], data: CoverPick) -> Shift:
    if not 0 <= data.r < len(ROLES):
        raise OncallError("no_shift")
    role = ROLES[data.r].value
    end = datetime.fromtimestamp(data.t, UTC)
    now = asked.now
    horizon = now + actions.HORIZON
    for shift in await views.shifts_of_person(asked.pool, asked.ctx, asked.person.id, now, horizon):
        if shift.role == role and shift.end == end:
            return shift
    raise OncallError("no_shift")  # over, changed, or not this person's


@press(router, CoverPick, "oncall")
async def on_cover_button(
    query: CallbackQuery, callback_data: CoverPick, asked: Asked[OncallContext]
) -> None:
    person, pool, ctx, now, chat_id = asked.person, asked.pool, asked.ctx, asked.now, asked.chat_id
    await staff.require(pool, person, Action.OVERRIDE_SELF, target="cover", chat_id=chat_id)
    shift = await _my_shift(asked, callback_data)
    message = query.message if isinstance(query.message, Message) else None
    if callback_data.act == "shift":
        colleagues = [
            m for m in await roster.members_with(pool, [shift.role]) if m.user_id != person.id
        ][:MAX_PEOPLE]
        await query.answer()
        if message is None:
            return
        if not colleagues:
            await message.answer(_("Nobody else holds this role."))
            return
        rows = [
            (
                m.display_name,
                replace(callback_data, act="who", u=m.user_id).pack(),
            )
            for m in colleagues
        ]
        await message.answer(
            _("Who covers {shift}?").format(shift=esc(_label(shift, ctx))),
            reply_markup=_keyboard(rows),
        )
        return
    made = await actions.cover(
        pool, ctx, person, coverer=callback_data.u, start=max(shift.start, now),
        end=shift.end, role=shift.role, now=now, chat_id=chat_id,
    )  # fmt: skip
    names = await roster.names_of(pool, [callback_data.u, person.id])
    notices = [
        render.cover_notice(
            o.role, o.user_id, o.replaces, o.start, o.end, names, ctx.tz, person.first_name
        )
        for o in made
    ]
    await settle(query, post="\n".join(notices))
