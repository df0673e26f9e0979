"""The customer's side of the desk (private chat): the menu, My tickets and ratings, and the
helpers the desk's handlers share. The New ticket conversation is `handlers.new_ticket`; every
other message goes into a ticket in `handlers.relay`.

Parse, call services.tickets, render.
"""

from __future__ import annotations

from typing import Any

import asyncpg
from aiogram import F
from aiogram.filters import CommandStart
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import gettext as _

from handlers.buttons import Press, as_markup, chat_of, settle
from handlers.routes import Routes
from handlers.start import language_keyboard
from handlers.support_callbacks import (
    Menu,
    Step,
    menu_greeting,
    menu_markup,
)
from services.clock import Clock
from services.message import key, keyboard
from services.tickets import actions, history, store
from services.tickets import render_customer as texts
from services.tickets.config import DeskConfig
from services.tickets.model import Incoming, TicketError
from services.tickets.render import Mine, Rate
from services.users import Person

router = Routes(__name__)
router.message.filter(F.chat.type == "private")


def markup(rows: list[list[tuple[str, str]]]) -> InlineKeyboardMarkup:
    return as_markup(keyboard([[key(t, d) for t, d in row] for row in rows]))


from_dict = as_markup  # the name handlers.relay knows it by


async def show(query: CallbackQuery, page: tuple[str, dict[str, Any]]) -> None:
    """A press that opens a page (its text and keyboard): answered, the page sent below."""
    await query.answer()
    text, keyboard = page
    if query.message is not None:
        await query.message.answer(text, reply_markup=from_dict(keyboard))


def cancel_row() -> list[tuple[str, str]]:
    return [(_("✖️ Cancel"), Step(act="cancel").pack())]


def incoming_of(message: Message) -> Incoming:
    kind, file_id = "other", None
    if message.text is not None:
        kind = "text"
    elif message.photo:
        kind, file_id = "photo", message.photo[-1].file_id
    elif message.document is not None:
        kind, file_id = "document", message.document.file_id
    user = message.from_user
    return Incoming(
        chat_id=message.chat.id,
        message_id=message.message_id,
        author_id=user.id if user else 0,
        kind=kind,
        text=message.text if message.text is not None else message.caption,
        file_id=file_id,
        author_name=user.first_name if user else "",
    )


# -- menu -------------------------------------------------------------------------------------


@router.message(CommandStart())
async def cmd_start(message: Message, person: Person, state: FSMContext) -> None:
    await state.clear()
    if person.language is None:
        await message.answer(
            _("Please choose your language / Silakan pilih bahasa:"),
            reply_markup=language_keyboard(),
        )
        return
    await message.answer(menu_greeting(person.first_name), reply_markup=menu_markup())


@router.callback_query(Press(Menu, F.act == "lang"))
async def on_menu_language(query: CallbackQuery) -> None:
    await query.answer()
    if query.message is not None:
        await query.message.answer(
            _("Please choose your language / Silakan pilih bahasa:"),
            reply_markup=language_keyboard(),
        )


@router.callback_query(Press(Menu, F.act == "mine"))
async def on_my_tickets(
    query: CallbackQuery, person: Person, pool: asyncpg.Pool, clock: Clock
) -> None:
    await show(query, texts.my_tickets(await store.for_customer(pool, person.id), clock.now()))


@router.callback_query(Press(Mine))
async def on_ticket_button(
    query: CallbackQuery,
    callback_data: Mine,
    person: Person,
    pool: asyncpg.Pool,
    clock: Clock,
    desk_config: DeskConfig,
) -> None:
    chat_id = chat_of(query)
    try:  # someone else's ticket is refused and audited
        ticket = await actions.customer_ticket(
            pool, person, callback_data.id, callback_data.act, chat_id
        )
    except TicketError:
        await query.answer(_("This ticket is not yours."), show_alert=True)
        return
    cfg = desk_config
    if callback_data.act == "close":
        try:
            await actions.close(
                pool, cfg, clock, actor=person, ticket_id=ticket.id, chat_id=chat_id
            )
        except TicketError:
            await query.answer(_("This ticket is already closed."), show_alert=True)
            return
        await query.answer(_("Ticket closed."))
        return
    counts = await history.message_count(pool, ticket.id)
    await show(query, texts.ticket_card(ticket, counts, clock.now(), cfg.tz))


@router.callback_query(Press(Rate))
async def on_rate(
    query: CallbackQuery,
    callback_data: Rate,
    person: Person,
    pool: asyncpg.Pool,
    clock: Clock,
    desk_config: DeskConfig,
) -> None:
    try:
        await actions.rate(
            pool, desk_config, clock, customer=person,
            ticket_id=callback_data.id, stars=callback_data.n,
            chat_id=chat_of(query),
        )  # fmt: skip
    except TicketError:
        await query.answer(_("This rating cannot be accepted."), show_alert=True)
        return
    await settle(query, texts.rated(callback_data.n), post=texts.rated(callback_data.n))


# -- the New ticket conversation --------------------------------------------------------------
