"""`/sos <what is wrong>`: the emergency line from chat. Every level of the escalation tree is
paged at once (services/escalation/emergency.py)."""

from __future__ import annotations

from typing import Any

import asyncpg
from aiogram import Router
from aiogram.filters import Command, CommandObject
from aiogram.types import Message
from aiogram.utils.i18n import gettext as _
from aiogram.utils.i18n import ngettext

from handlers.escalation import escalation_context, refusal
from services import staff
from services.alerts.config import SECTION as ALERTS
from services.alerts.config import AlertsRules
from services.clock import Clock
from services.escalation import emergency
from services.escalation.emergency import EmergencyCall
from services.rules import Rules
from services.staff import Action, NotAllowed
from services.text import esc
from services.users import Person

router = Router(name=__name__)

MAX_MESSAGE = 4000


@router.message(Command("sos"))
async def cmd_sos(
    message: Message,
    command: CommandObject,
    person: Person,
    pool: asyncpg.Pool,
    clock: Clock,
    settings: Any,
    rules: Rules,
) -> None:
    try:  # the permission table's word before any argument is read
        await staff.require(
            pool, person, Action.SOS, target=(command.args or "")[:100] or None,
            chat_id=message.chat.id,
        )  # fmt: skip
    except NotAllowed as error:
        await message.answer(refusal(error))
        return
    text = (command.args or "").strip()
    if not text:
        await message.answer(esc(_("Usage: /sos <what is wrong> (pages every level at once)")))
        return
    ctx = escalation_context(settings, rules)
    call = EmergencyCall(
        source="sos",
        caller=person.first_name or str(person.id),
        message=text[:MAX_MESSAGE],
        caller_id=person.id,
        payload={"username": person.username} if person.username else {},
    )
    try:
        outcome = await emergency.raise_emergency(
            pool,
            clock,
            ctx,
            call,
            actor=person,
            chat_id=message.chat.id,
            channels=rules.section(ALERTS, AlertsRules).channels,
        )
    except NotAllowed as error:
        await message.answer(refusal(error))
        return
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
