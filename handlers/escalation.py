"""Escalation in chat: the Acknowledge / Escalate ↑ / Resolve buttons, `/escalate`, `/incident`,
`/incidents` and `/timeline`. Parse, call services.escalation, answer."""

from __future__ import annotations

from typing import Literal
from zoneinfo import ZoneInfo

import asyncpg
from aiogram import Router
from aiogram.filters import Command, CommandObject
from aiogram.filters.callback_data import CallbackData
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import gettext as _

from bot.settings import Settings
from services import staff
from services.clock import Clock
from services.escalation import incidents, queries
from services.escalation import tickets_port as tickets
from services.escalation.incidents import (
    AlreadyResolved,
    AtTopLevel,
    IncidentError,
    NotAnIncident,
    Outcome,
    StaleLevel,
    TicketNotFound,
)
from services.escalation.notify import EscalationContext, make_context
from services.escalation.render import render_incident_list, render_timeline
from services.rules import Rules
from services.staff import Action, NotAllowed
from services.text import esc
from services.users import Person

router = Router(name=__name__)

PRIORITY_WORDS = {"P0", "P1", "P2", "P3"}


class IncidentAction(CallbackData, prefix="inc"):
    ticket_id: int
    act: Literal["ack", "esc", "res"]
    level: int


def escalation_context(settings: Settings, rules: Rules) -> EscalationContext:
    """The escalation feature's context from the settings and RULES_FILE (one builder)."""
    return make_context(
        rules,
        timezone=settings.TIMEZONE,
        admin_chat_id=settings.ADMIN_CHAT_ID,
        support_chat_id=settings.SUPPORT_CHAT_ID,
        default_locale=settings.DEFAULT_LOCALE,
    )


def refusal(error: Exception) -> str:
    """The sentence a person reads for an expected refusal."""
    if isinstance(error, NotAllowed):
        if error.action is Action.RESOLVE:
            return _("Only engineers and above may resolve incidents. This attempt was recorded.")
        return _("You are not allowed to do that. This attempt was recorded.")
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


def done_text(act: str, outcome: Outcome) -> str:
    number = esc(outcome.number)
    if act == "ack":
        if not outcome.changed:
            return _("{number} was already acknowledged.").format(number=number)
        return _("You acknowledged {number}.").format(number=number)
    if act == "res":
        return _("{number} is resolved.").format(number=number)
    return _("{number} is now at level {level}.").format(
        number=number, level=outcome.incident.level
    )


@router.callback_query(IncidentAction.filter())
async def on_incident_button(
    query: CallbackQuery,
    callback_data: IncidentAction,
    person: Person,
    pool: asyncpg.Pool,
    clock: Clock,
    settings: Settings,
    rules: Rules,
) -> None:
    ctx = escalation_context(settings, rules)
    chat_id = query.message.chat.id if query.message else None
    try:
        if callback_data.act == "ack":
            outcome = await incidents.acknowledge(
                pool, clock, ctx, callback_data.ticket_id, person, chat_id=chat_id
            )
        elif callback_data.act == "esc":
            outcome = await incidents.escalate(
                pool,
                clock,
                ctx,
                callback_data.ticket_id,
                person,
                expected_level=callback_data.level,
                chat_id=chat_id,
            )
        else:
            outcome = await incidents.resolve(
                pool, clock, ctx, callback_data.ticket_id, person, chat_id=chat_id
            )
    except (NotAllowed, IncidentError) as error:
        await query.answer(refusal(error), show_alert=True)
        return
    await query.answer(done_text(callback_data.act, outcome))


async def _allowed(
    message: Message, command: CommandObject, person: Person, pool: asyncpg.Pool, action: Action
) -> bool:
    """The permission table's word before any argument is read: refused, answered, audited."""
    try:
        await staff.require(
            pool, person, action, target=(command.args or "")[:100] or None, chat_id=message.chat.id
        )
    except NotAllowed as error:
        await message.answer(refusal(error))
        return False
    return True


async def _ticket_from(message: Message, word: str | None, pool: asyncpg.Pool) -> int | None:
    if word:
        return tickets.parse_number(word)
    if message.message_thread_id is not None and message.is_topic_message:
        return await tickets.by_topic(pool, message.chat.id, message.message_thread_id)
    return None


@router.message(Command("escalate"))
async def cmd_escalate(
    message: Message,
    command: CommandObject,
    person: Person,
    pool: asyncpg.Pool,
    clock: Clock,
    settings: Settings,
    rules: Rules,
) -> None:
    if not await _allowed(message, command, person, pool, Action.ESCALATE):
        return
    words = (command.args or "").split(maxsplit=1)
    first = words[0] if words else None
    ticket_id = tickets.parse_number(first) if first else None
    reason = words[1] if ticket_id is not None and len(words) > 1 else None
    if ticket_id is None:
        ticket_id = await _ticket_from(message, None, pool)
        reason = command.args or None
    if ticket_id is None:
        await message.answer(
            _("Usage: /escalate QC-000123 [reason], or /escalate inside a ticket's topic.")
        )
        return
    try:
        outcome = await incidents.escalate(
            pool,
            clock,
            escalation_context(settings, rules),
            ticket_id,
            person,
            reason=reason,
            chat_id=message.chat.id,
        )
    except (NotAllowed, IncidentError) as error:
        await message.answer(refusal(error))
        return
    await message.answer(done_text("esc", outcome))


@router.message(Command("incident"))
async def cmd_incident(
    message: Message,
    command: CommandObject,
    person: Person,
    pool: asyncpg.Pool,
    clock: Clock,
    settings: Settings,
    rules: Rules,
) -> None:
    if not await _allowed(message, command, person, pool, Action.RAISE_INCIDENT):
        return
    words = (command.args or "").split()
    priority = "P1"
    if words and words[0].upper() in PRIORITY_WORDS:
        priority = words.pop(0).upper()
    title = " ".join(words).strip()
    if not title:
        await message.answer(esc(_("Usage: /incident [P0|P1|P2|P3] <what is wrong>")))
        return
    try:
        outcome = await incidents.open_incident(
            pool,
            clock,
            escalation_context(settings, rules),
            source="staff",
            title=title,
            priority=priority,
            actor=person,
            chat_id=message.chat.id,
        )
    except (NotAllowed, IncidentError) as error:
        await message.answer(refusal(error))
        return
    await message.answer(
        _("Incident {number} ({priority}) is open; level 1 has been told.").format(
            number=esc(outcome.number), priority=priority
        )
    )


@router.message(Command("incidents"))
async def cmd_incidents(
    message: Message,
    person: Person,
    pool: asyncpg.Pool,
    clock: Clock,
    settings: Settings,
    rules: Rules,
) -> None:
    try:
        await staff.require(pool, person, Action.VIEW_INCIDENTS, chat_id=message.chat.id)
    except NotAllowed as error:
        await message.answer(refusal(error))
        return
    rows = await queries.open_incident_rows(pool, escalation_context(settings, rules))
    await message.answer(render_incident_list(rows, clock.now()))


@router.message(Command("timeline"))
async def cmd_timeline(
    message: Message,
    command: CommandObject,
    person: Person,
    pool: asyncpg.Pool,
    settings: Settings,
) -> None:
    ticket_id = await _ticket_from(message, (command.args or "").strip() or None, pool)
    try:
        await staff.require(
            pool, person, Action.VIEW_INCIDENTS, target=command.args, chat_id=message.chat.id
        )
    except NotAllowed as error:
        await message.answer(refusal(error))
        return
    page = await queries.timeline(pool, ticket_id) if ticket_id is not None else None
    if page is None:
        await message.answer(_("Usage: /timeline QC-000123"))
        return
    await message.answer(render_timeline(page, ZoneInfo(settings.TIMEZONE), settings.TIMEZONE))
