"""One refusal path: what a person reads when the permission table says no.

Every door checks the table in services (`staff.require`, which audits the refusal, then raises
`staff.NotAllowed` with the action). Handlers do not catch it: `Refusals`, an inner middleware
on every message and button handler (bot/app.py), answers it in the chat's language, as an
alert on a button and as a reply to a message. `refusal` is also the sentence for the
escalation tree's expected errors, which several features raise.

A command typed wrong is the same: the handler raises `Usage` with the sentence that says how
the command is written, and `Refusals` answers it (escaped: usages show `<placeholders>`).

A feature's own expected errors (a ticket already closed, a room that is not one) go the same
way: `answers(router, errors, say)` answers them for every command and button of its router,
so a handler calls the service and does not catch what it cannot handle better.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import asyncpg
from aiogram import BaseMiddleware
from aiogram.filters import CommandObject
from aiogram.types import CallbackQuery, Message, TelegramObject
from aiogram.utils.i18n import gettext as _

from handlers.routes import Routes
from services import staff
from services.escalation.incidents import (
    AlreadyResolved,
    AtTopLevel,
    NotAnIncident,
    StaleLevel,
    TicketNotFound,
)
from services.staff import Action, NotAllowed
from services.text import esc
from services.users import Person

Handler = Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]]

# The sentences that say more than "not allowed" (the default), by the action refused.
SAYS: dict[Action, Callable[[], str]] = {
    Action.RESOLVE: lambda: _(
        "Only engineers and above may resolve incidents. This attempt was recorded."
    ),
    Action.BAN_CUSTOMER: lambda: _("Only admins may ban customers. The attempt was recorded."),
    Action.UNBAN_CUSTOMER: lambda: _("Only admins may unban customers. The attempt was recorded."),
    Action.VIEW_HEALTH: lambda: _("Only QuickCart staff can see the health checks."),
    Action.VIEW_BACKUPS: lambda: _("Only QuickCart staff can see the backups."),
    Action.VIEW_JOBS: lambda: _("Only QuickCart staff can see the maintenance jobs."),
    Action.RUN_JOBS: lambda: _("Only admins can run maintenance jobs."),
    # a customer's own ticket: anyone else's is simply not theirs
    Action.VIEW_TICKET: lambda: _("This ticket is not yours."),
    Action.RATE_TICKET: lambda: _("This ticket is not yours."),
    Action.CHOOSE_TICKET: lambda: _("This ticket is not yours."),
    Action.LINK_CHOICE: lambda: _("This ticket is not yours."),
    # customer-facing incidents (handlers/mass_incident.py)
    Action.DECLARE_PUBLIC: lambda: _(
        "Only engineers and above may declare what customers read. This attempt was recorded."
    ),
    Action.PUBLIC_UPDATE: lambda: _(
        "Only engineers and above may send updates to customers. This attempt was recorded."
    ),
}
for _action in Action:
    if _action.value.startswith("alerts."):
        SAYS[_action] = lambda: _("Sorry, your role does not allow this.")
    elif _action.value.startswith("ticket.") and _action not in SAYS:
        SAYS[_action] = lambda: _("Only support staff may do this. The attempt was recorded.")


class Usage(Exception):
    """A command typed wrong: `text` says how it is written (plain text, not HTML). The handler
    stops where it raises it; `Refusals` answers it."""

    def __init__(self, text: str) -> None:
        super().__init__(text)
        self.text = text


def refusal(error: Exception) -> str:
    """The sentence a person reads for a refusal, a command typed wrong (`Usage`) or an expected
    error of the escalation tree."""
    if isinstance(error, Usage):
        return esc(error.text)
    if isinstance(error, NotAllowed):
        says = SAYS.get(error.action)
        return says() if says else _("You are not allowed to do that. This attempt was recorded.")
    if isinstance(error, TicketNotFound):
        return _("There is no such ticket.")
    if isinstance(error, NotAnIncident):
        return _("This ticket is not an incident.")
    if isinstance(error, AlreadyResolved):
        return _("This incident is already resolved.")
    if isinstance(error, AtTopLevel):
        return _("This incident is already at the top level.")
    if isinstance(error, StaleLevel):
        return _("Someone already moved this incident: it is at level {level} now.").format(
            level=error.level
        )
    return _("That did not work.")


async def answer(event: TelegramObject, text: str, *, alert: bool = True) -> None:
    if isinstance(event, CallbackQuery):
        await event.answer(text, show_alert=alert)
    elif isinstance(event, Message):
        await event.answer(text)


async def require_command(
    message: Message, command: CommandObject, person: Person | None, pool: asyncpg.Pool,
    action: Action,
) -> None:  # fmt: skip
    """The permission table's word on a command before any of its arguments is read: a refusal
    is audited by `staff.require` (the arguments as typed are its target) and answered by
    `Refusals`, whatever else is wrong with the command."""
    await staff.require(
        pool, person, action, target=(command.args or "")[:100] or None, chat_id=message.chat.id
    )


class Answers(BaseMiddleware):
    """Answers the expected errors (`errors`) no handler caught with the sentence `say` gives
    for each: on a button as an alert (or a passing notice, `alert=False`), as a message in
    answer to a message. The handler stops where the error was raised, as after an
    `except ...: answer; return`."""

    def __init__(
        self, errors: type[Exception] | tuple[type[Exception], ...], say: Callable[[Any], str],
        *, alert: bool = True,
    ) -> None:  # fmt: skip
        self.errors, self.say, self.alert = errors, say, alert

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        try:
            return await handler(event, data)
        except self.errors as error:
            await answer(event, self.say(error), alert=self.alert)
            return None


def answers(
    router: Routes, errors: type[Exception] | tuple[type[Exception], ...], say: Callable[[Any], str]
) -> None:
    """A feature's expected errors answered for all its commands and buttons (`Answers` on the
    router's message and button handlers, inside `Refusals`)."""
    middleware = Answers(errors, say)
    router.message.middleware(middleware)
    router.callback_query.middleware(middleware)


class Refusals(Answers):
    """Answers a `NotAllowed` (it was audited where it was raised) or a `Usage` no handler
    caught."""

    def __init__(self) -> None:
        super().__init__((NotAllowed, Usage), refusal)
