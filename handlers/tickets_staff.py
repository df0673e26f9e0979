"""The staff side of the desk, in the support supergroup (SUPPORT_CHAT_ID): messages in a
ticket's topic go to the customer (`//` lines are notes), the card's buttons, and /tickets,
/assign, /priority, /close, /ban, /unban. Parse, call services.tickets, answer."""

from __future__ import annotations

import asyncpg
from aiogram import F
from aiogram.filters import BaseFilter, Command, CommandObject
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import gettext as _

from handlers import refusals
from handlers.asked import Asked, command, press
from handlers.buttons import Press, as_markup, chat_of
from handlers.escalation import escalated
from handlers.refusals import Usage, answers
from handlers.routes import Routes
from handlers.support import incoming_of
from services import audit, users
from services.chats import StaffChats
from services.classification import Priority
from services.clock import Clock
from services.escalation import incidents
from services.escalation.context import EscalationContext
from services.i18n import use_locale
from services.staff import NotAllowed as StaffNotAllowed
from services.text import esc
from services.tickets import actions, desk, outbound, render, store
from services.tickets.config import DeskConfig
from services.tickets.model import (
    AlreadyClosed,
    AlreadyResolved,
    NotAllowed,
    Ticket,
    TicketError,
    parse_ticket_number,
)
from services.tickets.render import TicketAction, TicketPriority
from services.users import Person

router = Routes(__name__)


class InSupportChat(BaseFilter):
    """SUPPORT_CHAT_ID, or the supergroup it became (its tickets followed the migration)."""

    async def __call__(
        self, event: Message | CallbackQuery, chats: StaffChats, pool: asyncpg.Pool
    ) -> bool:
        message = event.message if isinstance(event, CallbackQuery) else event
        if message is None or message.chat.type not in ("group", "supergroup"):
            return False
        if message.chat.id == chats.support:
            return True
        return await store.is_support_chat(pool, message.chat.id)


router.message.filter(InSupportChat())


def refusal(error: Exception) -> str:
    """The sentence for a ticket error of any command or button here (`answers` below)."""
    if isinstance(error, NotAllowed) and str(error) == "incident":
        return _(
            "This ticket is an open incident: only engineers and above may resolve or close it. "
            "The attempt was recorded."
        )
    if isinstance(error, StaffNotAllowed):
        return refusals.refusal(error)
    if isinstance(error, AlreadyResolved):
        return _("This ticket is already resolved.")
    if isinstance(error, AlreadyClosed):
        return _("This ticket is closed.")
    return _("That did not work: the ticket does not allow it now.")


answers(router, TicketError, refusal)
answers(router, incidents.IncidentError, refusals.refusal)


async def ticket_here(
    message: Message, pool: asyncpg.Pool, word: str | None = None
) -> Ticket | None:
    """The ticket a command is about: named (QC-000123), or this topic's, or the card replied to."""
    if word and (number := parse_ticket_number(word)) is not None:
        return await store.find(pool, number)
    if message.message_thread_id is not None and message.is_topic_message:
        return await store.by_topic(pool, message.chat.id, message.message_thread_id)
    if message.reply_to_message is not None:
        replied = message.reply_to_message.message_id
        return await store.by_card_message(
            pool, message.chat.id, replied
        ) or await store.by_bot_message(pool, message.chat.id, replied)
    return None


async def authorize(
    message: Message, person: Person, pool: asyncpg.Pool, action: str,
    ticket: Ticket | None = None, *, target: str | None = None,
) -> None:  # fmt: skip
    """The permission table's word on `ticket.<action>`, before any argument is read: a
    refusal is audited, and answered (as every ticket error here) whatever else is wrong with
    the command."""
    await actions.authorize(
        pool, person, action, ticket.id if ticket else None, message.chat.id,
        owner_id=ticket.customer_id if ticket else None, target=target,
    )  # fmt: skip


async def ticket_for(
    message: Message, asked: Asked[DeskConfig], action: str, word: str | None = None
) -> Ticket | None:
    """The ticket a command is about (`ticket_here`), once the table allows `action` on it."""
    ticket = await ticket_here(message, asked.pool, word)
    await authorize(message, asked.person, asked.pool, action, ticket)
    return ticket


# -- the card's buttons -----------------------------------------------------------------------


@router.callback_query(Press(TicketAction))
async def on_card_button(
    query: CallbackQuery, callback_data: TicketAction, person: Person, pool: asyncpg.Pool,
    clock: Clock, desk_config: DeskConfig, escalation_context: EscalationContext,
) -> None:  # fmt: skip
    cfg = desk_config
    chat_id = chat_of(query)
    ticket_id = callback_data.id
    if callback_data.act == "ack":
        await actions.acknowledge(
            pool, cfg, clock, actor=person, ticket_id=ticket_id, chat_id=chat_id
        )
        await query.answer(_("Acknowledged."))
    elif callback_data.act == "res":
        await actions.resolve(pool, cfg, clock, actor=person, ticket_id=ticket_id, chat_id=chat_id)
        await query.answer(_("Resolved. The customer was asked for a rating."))
    elif callback_data.act in ("pri", "back"):
        await actions.authorize(pool, person, "priority", ticket_id, chat_id)
        ticket = await store.get(pool, ticket_id)
        with use_locale(await outbound.desk_language(pool, cfg)):
            keyboard = (
                render.priority_keyboard(ticket)
                if callback_data.act == "pri"
                else render.card_keyboard(ticket)
            )
        await query.answer()
        if isinstance(query.message, Message):
            await query.message.edit_reply_markup(reply_markup=as_markup(keyboard))
    else:  # handed to the escalation feature (one level up)
        await query.answer(
            await escalated(pool, clock, escalation_context, ticket_id, person, chat_id=chat_id)
        )


@press(router, TicketPriority, "desk_config")
async def on_priority_button(
    query: CallbackQuery, callback_data: TicketPriority, asked: Asked[DeskConfig]
) -> None:
    await actions.set_priority(
        asked.pool, asked.ctx, asked.clock, actor=asked.person, ticket_id=callback_data.id,
        priority=callback_data.p, chat_id=asked.chat_id,
    )  # fmt: skip
    await query.answer(_("Priority set to {priority}.").format(priority=callback_data.p.value))


# -- commands ---------------------------------------------------------------------------------


@router.message(Command("tickets"))
async def cmd_tickets(
    message: Message, command: CommandObject, person: Person, pool: asyncpg.Pool, clock: Clock
) -> None:
    await authorize(message, person, pool, "list")
    which = (command.args or "").strip().lower()
    now = clock.now()
    if which == "breached":
        found, title = await store.active(pool, breached_at=now), _("Tickets past a deadline")
    elif which == "mine":
        found, title = await store.active(pool, assignee_id=person.id), _("My open tickets")
    else:
        found, title = await store.active(pool), _("Open tickets")
    await message.answer(render.ticket_list(found, now, title=title))


@command(router, "priority", "desk_config", table=False)
async def cmd_priority(message: Message, asked: Asked[DeskConfig]) -> None:
    words = asked.args.split()
    ticket = await ticket_for(message, asked, "priority", words[1] if len(words) > 1 else None)
    try:
        priority = Priority.parse(words[0]) if words else None
    except ValueError:
        priority = None
    if ticket is None or priority is None:
        raise Usage(_("Usage: /priority P0..P3 inside a ticket's topic."))
    await actions.set_priority(
        asked.pool, asked.ctx, asked.clock, actor=asked.person, ticket_id=ticket.id,
        priority=priority, chat_id=asked.chat_id,
    )  # fmt: skip


@command(router, "assign", "desk_config", table=False)
async def cmd_assign(message: Message, asked: Asked[DeskConfig]) -> None:
    ticket = await ticket_for(message, asked, "assign")
    who = asked.args.strip().lstrip("@")
    assignee = await users.find(asked.pool, who) if who else asked.person
    if ticket is None or assignee is None:
        raise Usage(_("Usage: /assign @username inside a ticket's topic."))
    await actions.assign(
        asked.pool, asked.ctx, asked.clock, actor=asked.person, ticket_id=ticket.id,
        assignee=assignee, chat_id=asked.chat_id,
    )  # fmt: skip


@command(router, "close", "desk_config", table=False)
async def cmd_close(message: Message, asked: Asked[DeskConfig]) -> None:
    ticket = await ticket_for(message, asked, "close", asked.args or None)
    if ticket is None:
        raise Usage(_("Usage: /close inside a ticket's topic, or /close QC-000123."))
    await actions.close(
        asked.pool, asked.ctx, asked.clock, actor=asked.person, ticket_id=ticket.id,
        chat_id=asked.chat_id,
    )  # fmt: skip


@router.message(Command("ban"))
async def cmd_ban(
    message: Message, command: CommandObject, person: Person, pool: asyncpg.Pool, clock: Clock,
    desk_config: DeskConfig,
) -> None:  # fmt: skip
    ticket = await ticket_here(message, pool)
    target = f"user:{ticket.customer_id}" if ticket else None
    await authorize(message, person, pool, "ban", target=target)
    days_word = (command.args or "").strip().removesuffix("d")
    days = int(days_word) if days_word.isdigit() else None
    if ticket is None:
        raise Usage(_("Usage: /ban [days] inside the customer's ticket topic."))
    until = await actions.ban(
        pool, clock, actor=person, customer_id=ticket.customer_id, days=days,
        chat_id=message.chat.id,
    )  # fmt: skip
    when = render.local_time(until, desk_config.tz)
    await message.answer(
        _("{name} is banned until {until}.").format(name=esc(ticket.customer_name), until=when)
    )


@router.message(Command("unban"))
async def cmd_unban(
    message: Message, command: CommandObject, person: Person, pool: asyncpg.Pool
) -> None:
    await authorize(message, person, pool, "unban", target=(command.args or "")[:100] or None)
    who = (command.args or "").strip().lstrip("@")
    target = await users.find(pool, who) if who else None
    if target is None and (ticket := await ticket_here(message, pool)) is not None:
        target = await users.get(pool, ticket.customer_id)
    if target is None:
        raise Usage(_("Usage: /unban @username or user id, or inside the ticket topic."))
    await actions.unban(pool, actor=person, customer_id=target.id, chat_id=message.chat.id)
    await message.answer(
        _("{name} may write to support again.").format(name=esc(target.first_name))
    )


# -- messages in a ticket's topic -------------------------------------------------------------


def is_command(message: Message) -> bool:
    """`/tickets` is a command; `// note` is an internal note, not a command."""
    text = message.text or ""
    return text.startswith("/") and not text.startswith("//")


@router.message(F.message_thread_id | F.reply_to_message, ~F.func(is_command))
async def on_topic_message(
    message: Message, person: Person, pool: asyncpg.Pool, clock: Clock,
    desk_config: DeskConfig,
) -> None:  # fmt: skip
    if message.from_user is None:
        return
    thread = message.message_thread_id if message.is_topic_message else None
    ticket_id = None
    if thread is None:  # a chat without topics: a reply to the ticket's card
        ticket = await ticket_here(message, pool)
        if ticket is None or ticket.topic_id is not None:
            return
        ticket_id = ticket.id
    if not person.is_staff:
        await audit.record(
            pool, actor_id=person.id, action="ticket.reply", allowed=False,
            chat_id=message.chat.id, details={"thread": thread},
        )  # fmt: skip
        return
    try:
        await desk.staff_message(
            pool, desk_config, clock, staff=person,
            incoming=incoming_of(message), topic_id=thread, ticket_id=ticket_id,
        )  # fmt: skip
    except TicketError as error:
        await message.reply(refusal(error))
