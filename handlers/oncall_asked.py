"""What the on-call handlers (handlers/oncall.py, rotation.py, oncall_cover.py) share: one way
in for a command and for a button, and one way out for what they refuse.

`command(routes, name)` and `press(routes, family)` register an on-call handler: the dispatcher
hands the wrapper the person, the pool, the feature (`OncallContext`) and the clock, and the
handler gets them as one `Asked`; a command is checked against the permission table
(`staff.COMMANDS[name]`, its first word as typed) before its arguments are read. Inside both,
`answering` turns the expected refusals into one sentence for the person.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TypeVar

import asyncpg
from aiogram.filters import Command, CommandObject
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import gettext as _

from handlers.admin import roster_error
from handlers.buttons import Press, chat_of
from handlers.refusals import answer, refusal
from handlers.routes import Routes
from services import staff
from services.buttons import Button
from services.clock import Clock
from services.oncall.actions import OncallContext, OncallError
from services.oncall.model import SpecError
from services.roster import RosterError
from services.staff import NotAllowed
from services.text import esc
from services.users import Person

USAGE = (
    "/oncall, /oncall me, /oncall at <time>, /oncall cover <who> <from> <to> [role], "
    "/oncall cancel <number>, /oncall swap <who> <my shift> <their shift> [role], "
    "/oncall calendar [reset], /oncall notify, /oncall set <role> <user>"
)


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
async def answering(event: Message | CallbackQuery) -> AsyncIterator[None]:
    """Expected refusals become one sentence for the person (NotAllowed is already audited):
    an answer to a command, an alert on a button."""
    try:
        yield
    except NotAllowed as error:
        await answer(event, refusal(error))
    except (OncallError, SpecError) as error:
        await answer(event, oncall_error(error))
    except RosterError as error:
        await answer(event, roster_error(error))


@dataclass(frozen=True)
class Asked:
    """Who asks, where and when, and what the on-call feature works with."""

    person: Person
    pool: asyncpg.Pool
    ctx: OncallContext
    now: datetime
    chat_id: int | None


B = TypeVar("B", bound=Button)
CommandAct = Callable[[Message, list[str], Asked], Awaitable[None]]
PressAct = Callable[[CallbackQuery, B, Asked], Awaitable[None]]


def command(routes: Routes, name: str) -> Callable[[CommandAct], CommandAct]:
    """`act(message, words, asked)` answers the command `name` (`words`: what follows it), once
    the table allows its first word as typed."""

    def register(act: CommandAct) -> CommandAct:
        async def on_command(
            message: Message, command: CommandObject, person: Person, pool: asyncpg.Pool,
            oncall: OncallContext, clock: Clock,
        ) -> None:  # fmt: skip
            asked = Asked(person, pool, oncall, clock.now(), message.chat.id)
            action = staff.COMMANDS[name].action_for(command.args)
            async with answering(message):
                await staff.require(
                    pool, person, action, target=command.args, chat_id=message.chat.id
                )
                await act(message, (command.args or "").split(), asked)

        on_command.__name__ = on_command.__qualname__ = act.__name__
        routes.message(Command(name))(on_command)
        return act

    return register


def press(routes: Routes, family: type[B]) -> Callable[[PressAct[B]], PressAct[B]]:
    """`act(query, callback_data, asked)` answers a press of the button family."""

    def register(act: PressAct[B]) -> PressAct[B]:
        async def on_press(
            query: CallbackQuery, callback_data: B, person: Person, pool: asyncpg.Pool,
            oncall: OncallContext, clock: Clock,
        ) -> None:  # fmt: skip
            async with answering(query):
                await act(
                    query, callback_data, Asked(person, pool, oncall, clock.now(), chat_of(query))
                )

        on_press.__name__ = on_press.__qualname__ = act.__name__
        routes.callback_query(Press(family))(on_press)
        return act

    return register
