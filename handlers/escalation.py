"""Escalation in chat: the Acknowledge / Escalate ↑ / Resolve buttons, `/escalate`, `/incident`,
`/incidents` and `/timeline`. Parse, call services.escalation, answer."""

from __future__ import annotations

import asyncpg
from aiogram import F
from aiogram.filters import Command, CommandObject
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import gettext as _

from handlers.asked import Asked, command
from handlers.buttons import Press, chat_of
from handlers.refusals import Usage, answers, refusal
from handlers.routes import Routes
from services import staff
from services.clock import Clock
from services.escalation import incidents, queries
from services.escalation.context import EscalationContext
from services.escalation.incidents import (
    IncidentError,
    Outcome,
)
from services.escalation.render import IncidentAction, render_incident_list, render_timeline
from services.staff import Action
from services.text import esc
from services.tickets import briefs as tickets
from services.tickets.model import parse_ticket_number
from services.users import Person

router = Routes(__name__)
answers(router, IncidentError, refusal)

PRIORITY_WORDS = {"P0", "P1", "P2", "P3"}


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


@router.callback_query(Press(IncidentAction, F.act.in_({"ack", "esc", "res"})))
async def on_incident_button(
    query: CallbackQuery,
    callback_data: IncidentAction,
    person: Person,
    pool: asyncpg.Pool,
    clock: Clock,
    escalation_context: EscalationContext,
) -> None:
    ctx = escalation_context
    chat_id = chat_of(query)
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
    await query.answer(done_text(callback_data.act, outcome))


async def escalated(
    pool: asyncpg.Pool, clock: Clock, ctx: EscalationContext, ticket_id: int, person: Person,
    *, chat_id: int | None, reason: str | None = None,
) -> str:  # fmt: skip
    """One level up (`/escalate`, the ticket card's Escalate), and the sentence that says so."""
    outcome = await incidents.escalate(
        pool, clock, ctx, ticket_id, person, reason=reason, chat_id=chat_id
    )
    return done_text("esc", outcome)


async def _ticket_from(message: Message, word: str | None, pool: asyncpg.Pool) -> int | None:
    if word:
        return parse_ticket_number(word)
    if message.message_thread_id is not None and message.is_topic_message:
        return await tickets.by_topic(pool, message.chat.id, message.message_thread_id)
    return None


@command(router, "escalate", "escalation_context")
async def cmd_escalate(message: Message, asked: Asked[EscalationContext]) -> None:
    words = asked.args.split(maxsplit=1)
    first = words[0] if words else None
    ticket_id = parse_ticket_number(first) if first else None
    reason = words[1] if ticket_id is not None and len(words) > 1 else None
    if ticket_id is None:
        ticket_id = await _ticket_from(message, None, asked.pool)
        reason = asked.args or None
    if ticket_id is None:
        raise Usage(_("Usage: /escalate QC-000123 [reason], or /escalate inside a ticket's topic."))
    text = await escalated(
        asked.pool, asked.clock, asked.ctx, ticket_id, asked.person, chat_id=asked.chat_id,
        reason=reason,
    )  # fmt: skip
    await message.answer(text)


@command(router, "incident", "escalation_context")
async def cmd_incident(message: Message, asked: Asked[EscalationContext]) -> None:
    words = asked.args.split()
    priority = "P1"
    if words and words[0].upper() in PRIORITY_WORDS:
        priority = words.pop(0).upper()
    title = " ".join(words).strip()
    if not title:
        raise Usage(_("Usage: /incident [P0|P1|P2|P3] <what is wrong>"))
    outcome = await incidents.open_incident(
        asked.pool, asked.clock, asked.ctx, source="staff", title=title, priority=priority,
        actor=asked.person, chat_id=asked.chat_id,
    )  # fmt: skip
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
    escalation_context: EscalationContext,
) -> None:
    await staff.require(pool, person, Action.VIEW_INCIDENTS, chat_id=message.chat.id)
    rows = await queries.open_incident_rows(pool, escalation_context)
    await message.answer(render_incident_list(rows, clock.now()))


@router.message(Command("timeline"))
async def cmd_timeline(
    message: Message,
    command: CommandObject,
    person: Person,
    pool: asyncpg.Pool,
    escalation_context: EscalationContext,
) -> None:
    ticket_id = await _ticket_from(message, (command.args or "").strip() or None, pool)
    await staff.require(
        pool, person, Action.VIEW_INCIDENTS, target=command.args, chat_id=message.chat.id
    )
    page = await queries.timeline(pool, ticket_id) if ticket_id is not None else None
    if page is None:
        raise Usage(_("Usage: /timeline QC-000123"))
    await message.answer(render_timeline(page, escalation_context.tz, escalation_context.tz_name))
