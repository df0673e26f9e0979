"""The New ticket conversation (private chat): category, description, an optional order or
payment reference, confirmation, then the ticket; Cancel at any step. Its states are
`handlers.support_callbacks.NewTicket`."""

from __future__ import annotations

from typing import Any

import asyncpg
from aiogram import F
from aiogram.filters import Command, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import gettext as _
from redis.asyncio import Redis

from handlers.buttons import Press, settle
from handlers.routes import Routes
from handlers.support import cancel_row, incoming_of, markup
from handlers.support_callbacks import (
    Menu,
    NewTicket,
    Pick,
    Step,
)
from services.classification import CATEGORY_LABELS, Category
from services.clock import Clock
from services.text import esc, shorten
from services.tickets import desk
from services.tickets import render_customer as texts
from services.tickets.config import DeskConfig, check_reference
from services.tickets.model import Incoming, NotAllowed, RateLimited
from services.users import Person

router = Routes(__name__)
router.message.filter(F.chat.type == "private")


@router.message(Command("cancel"))
@router.callback_query(Press(Step, F.act == "cancel"))
async def on_cancel(event: Message | CallbackQuery, state: FSMContext) -> None:
    await state.clear()
    text = _("Cancelled. Nothing was sent. /start shows the menu.")
    if isinstance(event, CallbackQuery):
        await event.answer()
        if isinstance(event.message, Message):
            await event.message.edit_text(text)
        return
    await event.answer(text)


def category_markup() -> InlineKeyboardMarkup:
    rows = [[(_(CATEGORY_LABELS[c]), Pick(cat=c).pack())] for c in Category]
    return markup([*rows, cancel_row()])


@router.callback_query(Press(Menu, F.act == "new"))
@router.callback_query(Press(Step, F.act == "edit"))
async def on_new(query: CallbackQuery, state: FSMContext) -> None:
    await state.set_data({})
    await ask_category(query, state)


@router.callback_query(NewTicket.offer, Press(Step, F.act == "yes"))
async def on_offer_accepted(query: CallbackQuery, state: FSMContext) -> None:
    """Free text becomes the description: only the category and the reference are asked."""
    await ask_category(query, state)


async def ask_category(query: CallbackQuery, state: FSMContext) -> None:
    await query.answer()
    await state.set_state(NewTicket.category)
    if query.message is not None:
        await query.message.answer(_("What is it about?"), reply_markup=category_markup())


@router.callback_query(NewTicket.category, Press(Pick))
async def on_category(query: CallbackQuery, callback_data: Pick, state: FSMContext) -> None:
    await query.answer()
    await state.update_data(category=callback_data.cat.value)
    data = await state.get_data()
    if data.get("from_text") and isinstance(query.message, Message):
        await ask_reference(query.message, state)
        return
    await state.set_state(NewTicket.description)
    if query.message is not None:
        await query.message.answer(
            _("Please describe the problem. You may attach a photo or a document."),
            reply_markup=markup([cancel_row()]),
        )


@router.message(NewTicket.description, F.text | F.photo | F.document)
async def on_description(message: Message, state: FSMContext) -> None:
    item = incoming_of(message)
    attachment = None if item.kind == "text" else item.__dict__
    await state.update_data(draft={"text": item.text or "", "attachment": attachment})
    await ask_reference(message, state)


async def ask_reference(target: Any, state: FSMContext) -> None:
    await state.set_state(NewTicket.reference)
    if isinstance(target, Message):
        await target.answer(
            _(
                "If it concerns an order or a payment, send its reference "
                "(for example ORD-20261102-7F3K9Q or INV2026110201). Otherwise press Skip."
            ),
            reply_markup=markup([[(_("Skip"), Step(act="skip").pack())], cancel_row()]),
        )


@router.message(NewTicket.reference, F.text)
async def on_reference(message: Message, state: FSMContext, desk_config: DeskConfig) -> None:
    support = desk_config.support
    checked = check_reference(message.text or "", support)
    if not checked.ok:
        examples = ", ".join(s.example for s in support.reference_shapes)
        await message.answer(
            _(
                "“{ref}” does not look like a QuickCart order or Pakasir payment reference. "
                "They look like this: {examples}. Please send it again or press Skip."
            ).format(ref=esc(shorten(checked.normalized, 40)), examples=esc(examples)),
            reply_markup=markup([[(_("Skip"), Step(act="skip").pack())], cancel_row()]),
        )
        return
    await state.update_data(reference=checked.normalized)
    await show_confirmation(message, state)


@router.callback_query(NewTicket.reference, Press(Step, F.act == "skip"))
async def on_skip(query: CallbackQuery, state: FSMContext) -> None:
    await query.answer()
    await state.update_data(reference=None)
    if isinstance(query.message, Message):
        await show_confirmation(query.message, state)


async def show_confirmation(message: Message, state: FSMContext) -> None:
    await state.set_state(NewTicket.confirm)
    data = await state.get_data()
    draft = data.get("draft") or {}
    attached = _("yes") if draft.get("attachment") else _("no")
    text = _(
        "<b>Your new ticket</b>\nCategory: {category}\nReference: {ref}\nAttachment: {attached}"
        "\n\n<blockquote>{text}</blockquote>\n\nSend it to our team?"
    ).format(
        category=_(CATEGORY_LABELS[Category(data["category"])]),
        ref=esc(data.get("reference") or "—"),
        attached=attached,
        text=esc(shorten(draft.get("text") or "—", 1500)),
    )
    await message.answer(
        text,
        reply_markup=markup(
            [
                [(_("✅ Send"), Step(act="send").pack()), (_("✏️ Edit"), Step(act="edit").pack())],
                cancel_row(),
            ]
        ),
    )


@router.callback_query(NewTicket.confirm, Press(Step, F.act == "send"))
async def on_send(
    query: CallbackQuery,
    state: FSMContext,
    person: Person,
    pool: asyncpg.Pool,
    redis: Redis,
    clock: Clock,
    desk_config: DeskConfig,
) -> None:
    data = await state.get_data()
    draft = data.get("draft") or {}
    attachment = draft.get("attachment")
    cfg = desk_config
    try:
        await desk.open_ticket(
            pool, redis, cfg, clock, customer=person, category=Category(data["category"]),
            description=draft.get("text") or "", order_ref=data.get("reference"),
            attachments=(Incoming(**attachment),) if attachment else (),
        )  # fmt: skip
    except RateLimited as limited:
        await query.answer()
        if query.message is not None:
            await query.message.answer(texts.too_many_tickets(limited.retry_at, cfg.tz))
        return
    except NotAllowed:
        await state.clear()
        await query.answer(texts.banned(), show_alert=True)
        return
    await state.clear()
    await settle(query)


@router.message(
    StateFilter(NewTicket.category, NewTicket.description, NewTicket.reference, NewTicket.confirm)
)
async def on_unexpected(message: Message) -> None:
    """Something the current step cannot take (a sticker, a photo where a reference goes)."""
    await message.answer(
        _("I could not use that here. Please answer the question above, or press Cancel."),
        reply_markup=markup([cancel_row()]),
    )
