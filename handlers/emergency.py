"""`/sos <what is wrong>`: the emergency line from chat. Every level of the escalation tree is
paged at once (services/escalation/emergency.py)."""

from __future__ import annotations

import asyncpg
from aiogram.filters import Command, CommandObject
from aiogram.types import Message
from aiogram.utils.i18n import gettext as _
from aiogram.utils.i18n import ngettext

from handlers.refusals import Usage, require_command
from handlers.routes import Routes
from services.alerts.config import AlertsRules
from services.clock import Clock
from services.escalation import emergency
from services.escalation.context import EscalationContext
from services.escalation.store_emergency import EmergencyCall
from services.staff import Action
from services.text import esc
from services.users import Person

router = Routes(__name__)

MAX_MESSAGE = 4000


@router.message(Command("sos"))
async def cmd_sos(
    message: Message,
    command: CommandObject,
    person: Person,
    pool: asyncpg.Pool,
    clock: Clock,
    escalation_context: EscalationContext,
    alerts_rules: AlertsRules,
) -> None:
    await require_command(message, command, person, pool, Action.SOS)
    text = (command.args or "").strip()
    if not text:
        raise Usage(_("Usage: /sos <what is wrong> (pages every level at once)"))
    ctx = escalation_context
    call = EmergencyCall(
        source="sos",
        caller=person.first_name or str(person.id),
        message=text[:MAX_MESSAGE],
        caller_id=person.id,
        payload={"username": person.username} if person.username else {},
    )
    outcome = await emergency.raise_emergency(
        pool,
        clock,
        ctx,
        call,
        actor=person,
        chat_id=message.chat.id,
        channels=alerts_rules.channels,
    )
    paged = len(outcome.paged)
    await message.answer(
        ngettext(
            "🆘 Emergency {number} is open: {levels} levels paged at once, {count} person. "
            "They are paged again every {minutes} min until someone acknowledges; "
            "it must be resolved within {target} min.",
            "🆘 Emergency {number} is open: {levels} levels paged at once, {count} people. "
            "They are paged again every {minutes} min until someone acknowledges; "
            "it must be resolved within {target} min.",
            paged,
        ).format(
            number=esc(outcome.number),
            levels=outcome.levels,
            count=paged,
            minutes=ctx.emergency.repeat_minutes,
            target=ctx.emergency.resolution_minutes,
        )
    )
