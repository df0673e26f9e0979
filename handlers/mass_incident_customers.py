"""Customer-facing incidents, the customer's side (services/massincident): the notice's "My
problem is different" / "OK", the offer of a link, after the fix "is the problem still
there?" (Yes reopens, No opens nothing), the rating after the resolution (counted on the
card), `/status` (and the menu button), a new ticket from the menu that matches, and their
free messages while an incident matches (`catch`, just before the desk's catch-all). The
button families are defined once, in services/massincident/buttons.py.
"""

from __future__ import annotations

from typing import Protocol

import asyncpg
from aiogram import F
from aiogram.dispatcher.event.bases import SkipHandler
from aiogram.filters import Command, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import gettext as _

from handlers.asked import Asked, press
from handlers.buttons import Press, settle
from handlers.routes import Routes
from handlers.support import incoming_of
from handlers.support_callbacks import Menu, NewTicket, Step
from services import staff
from services.clock import Clock
from services.massincident import aftercare, intake, store
from services.massincident import render as texts
from services.massincident.buttons import NoticeAnswer, PublicRate
from services.massincident.config import MassContext
from services.massincident.links import NotYours
from services.staff import Action
from services.tickets import store as tickets_store
from services.tickets.model import Incoming, TicketError
from services.users import Person

# -- customers --------------------------------------------------------------------------------

customer = Routes(f"{__name__}.customer")
customer.message.filter(F.chat.type == "private")


async def _status(pool: asyncpg.Pool, person: Person, mass: MassContext) -> str:
    return texts.status(await store.open_incidents(pool), person.language, mass.escalation.tz)


@customer.message(Command("status"))
async def cmd_status(
    message: Message, person: Person, pool: asyncpg.Pool, mass: MassContext
) -> None:
    await message.answer(await _status(pool, person, mass))


@customer.callback_query(Press(Menu, F.act == "status"))
async def on_menu_status(
    query: CallbackQuery, person: Person, pool: asyncpg.Pool, mass: MassContext
) -> None:
    await query.answer()
    if query.message is not None:
        await query.message.answer(await _status(pool, person, mass))


class _Numbered(Protocol):
    @property
    def number(self) -> str: ...


def _numbered(ticket: _Numbered | None, text: str) -> str | None:
    """`text` about the ticket a press opened, or None: nothing was left for it to do."""
    return None if ticket is None else text.format(number=ticket.number)


@press(customer, NoticeAnswer, "mass")
async def on_notice(
    query: CallbackQuery, callback_data: NoticeAnswer, asked: Asked[MassContext]
) -> None:
    person, pool, clock, mass, chat_id = (
        asked.person, asked.pool, asked.clock, asked.ctx, asked.chat_id
    )  # fmt: skip
    picker = query.message if isinstance(query.message, Message) else None
    try:
        if await _owner(pool, callback_data.id) != person.id:
            raise NotYours(callback_data.id)
        # what the press did, or None: another press or message already handled it
        said: str | None
        if callback_data.act == "diff":
            said = _numbered(
                await intake.different(pool, mass, clock, callback_data.id, person),
                _("A ticket of its own is open: {number}."),
            )
        elif callback_data.act == "again":
            said = _numbered(
                await aftercare.still_broken(pool, mass, clock, callback_data.id, person),
                _("Ticket {number} is open again."),
            )
        elif callback_data.act == "fine":
            works = await aftercare.works_now(pool, clock, callback_data.id, person)
            glad = _(
                "Glad it works now. Thank you! Nothing was opened. Something else? /start "
                "opens a new ticket."
            )
            said = glad if works else None
        elif callback_data.act == "link":
            joined = await intake.accept_offer(pool, mass, clock, callback_data.id, person)
            said = None if joined is None else _("Done: we will tell you here when it is fixed.")
        else:
            link = await store.link(pool, callback_data.id)
            owner = link.customer_id if link else await _owner(pool, callback_data.id)
            if owner != person.id:
                raise NotYours(callback_data.id)
            said = (
                _("OK. We will tell you here when it is fixed.")
                if callback_data.act == "ok"
                else _("OK.")
            )
        if said is None:
            await query.answer(_("This message was already handled."), show_alert=True)
        else:
            await query.answer(said)
    except NotYours:
        await staff.refuse(
            pool, person, Action.LINK_CHOICE, target=f"ticket:{callback_data.id}", chat_id=chat_id
        )
        await query.answer(_("This ticket is not yours."), show_alert=True)
        return
    if picker is not None:
        await picker.edit_reply_markup(reply_markup=None)


async def _owner(pool: asyncpg.Pool, ticket_id: int) -> int | None:
    ticket = await tickets_store.find(pool, ticket_id)
    return ticket.customer_id if ticket is not None else None


@press(customer, PublicRate, "mass")
async def on_rate(
    query: CallbackQuery, callback_data: PublicRate, asked: Asked[MassContext]
) -> None:
    person, pool, chat_id = asked.person, asked.pool, asked.chat_id
    try:
        rated = await aftercare.rate(
            pool, asked.ctx, asked.clock, person, callback_data.id, callback_data.n, chat_id=chat_id
        )
    except TicketError:
        await query.answer(_("This rating cannot be accepted."), show_alert=True)
        return
    if rated is None:  # not linked to this incident: nothing of theirs to rate
        await staff.refuse(
            pool, person, Action.RATE_TICKET, target=f"incident:{callback_data.id}",
            chat_id=chat_id,
        )  # fmt: skip
        await query.answer(_("This ticket is not yours."), show_alert=True)
        return
    await settle(query, _("Thank you for your rating ({stars}/5)!").format(stars=callback_data.n))


# A new ticket from the menu that matches an open customer-facing incident is linked instead.
@customer.callback_query(NewTicket.confirm, Press(Step, F.act == "send"))
async def on_new_ticket(
    query: CallbackQuery, state: FSMContext, person: Person, pool: asyncpg.Pool, clock: Clock,
    mass: MassContext,
) -> None:  # fmt: skip
    data = await state.get_data()
    draft = data.get("draft") or {}
    if draft.get("attachment") or not isinstance(query.message, Message):
        raise SkipHandler  # a ticket with a file goes the desk's way (its topic shows the file)
    item = Incoming(
        chat_id=query.message.chat.id, message_id=query.message.message_id, author_id=person.id,
        kind="text", text=draft.get("text") or "", author_name=person.first_name,
    )  # fmt: skip
    taken = await intake.customer_wrote(
        pool, mass, clock, customer=person, incoming=item, category=data.get("category"),
        new_ticket=True,
    )  # fmt: skip
    if taken is None or taken.outcome != "linked":
        raise SkipHandler
    await state.clear()
    await settle(query)


# Last but one router (handlers/__init__.py): a customer's free message, before the desk's
# catch-all takes it. What the mass-incident side does not take goes on (SkipHandler).
catch = Routes(f"{__name__}.catch")
catch.message.filter(F.chat.type == "private")


@catch.message(StateFilter(None, NewTicket.offer), ~F.text.startswith("/"))
async def on_customer_message(
    message: Message, state: FSMContext, person: Person, pool: asyncpg.Pool, clock: Clock,
    mass: MassContext,
) -> None:  # fmt: skip
    if person.is_staff:
        raise SkipHandler
    taken = await intake.customer_wrote(
        pool, mass, clock, customer=person, incoming=incoming_of(message)
    )
    if taken is None:
        raise SkipHandler
    if await state.get_state() is not None:
        await state.clear()
