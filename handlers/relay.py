"""Every other message a customer sends in private: into their ticket (or, with several open,
a question which one), or offered as a new ticket. No message is ever ignored.

`router` takes the "which ticket?" presses beside the desk's other routers; `catch_all` is the
last router of all (handlers/__init__.py), so it sees only what no other handler took.
"""

from __future__ import annotations

from typing import Any

import asyncpg
from aiogram import F
from aiogram.dispatcher.event.bases import SkipHandler
from aiogram.filters import StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import gettext as _
from redis.asyncio import Redis

from handlers.buttons import Press
from handlers.routes import Routes
from handlers.support import cancel_row, from_dict, incoming_of, markup
from handlers.support_callbacks import NewTicket, Step
from services.clock import Clock
from services.tickets import actions, desk
from services.tickets import render_customer as texts
from services.tickets.config import DeskConfig
from services.tickets.model import Incoming, NotAllowed, RateLimited, TicketError
from services.tickets.render import Which
from services.users import Person

router = Routes(__name__)
router.message.filter(F.chat.type == "private")


@router.callback_query(Press(Which))
async def on_which(
    query: CallbackQuery,
    callback_data: Which,
    state: FSMContext,
    person: Person,
    pool: asyncpg.Pool,
    redis: Redis,
    clock: Clock,
    desk_config: DeskConfig,
) -> None:
    chat_id = query.message.chat.id if query.message else None
    try:  # someone else's ticket is refused and audited
        await actions.customer_ticket(pool, person, callback_data.id, "choose", chat_id)
    except TicketError:
        await query.answer(_("This ticket is not yours."), show_alert=True)
        return
    data = await state.get_data()
    pending = (data.get("pending") or {}).get(str(callback_data.m))
    picker = query.message if isinstance(query.message, Message) else None
    if pending is None:
        await query.answer(_("This message was already handled."), show_alert=True)
        if picker is not None:
            await picker.edit_reply_markup(reply_markup=None)
        return
    done = await relay(
        query.message, Incoming(**pending), person, pool, redis, clock, desk_config, state,
        ticket_id=callback_data.id,
    )  # fmt: skip
    if done is None or done.ticket is None or done.outcome not in ("relayed", "reopened"):
        await query.answer()
        if picker is not None:
            await picker.edit_reply_markup(reply_markup=None)
        return
    await state.update_data(
        pending={k: v for k, v in (data.get("pending") or {}).items() if k != str(callback_data.m)}
    )
    await query.answer(texts.chosen_toast(done.ticket))
    if picker is not None:  # the question becomes the answer, its buttons gone
        await picker.edit_text(texts.chosen(done.ticket), reply_markup=None)


# First of the free-text routers (handlers/__init__.py), before the mass-incident side: a short
# text into the customer's one open ticket in one statement (desk.text_into_sole_ticket), the
# bulk of a storm. What it does not take goes on, nothing stored (SkipHandler).
first = Routes(f"{__name__}.first")
first.message.filter(F.chat.type == "private")


@first.message(StateFilter(None), F.text, ~F.text.startswith("/"))
async def on_text_into_ticket(
    message: Message, person: Person, pool: asyncpg.Pool, redis: Redis, clock: Clock,
    desk_config: DeskConfig,
) -> None:  # fmt: skip
    taken = await desk.text_into_sole_ticket(
        pool, redis, desk_config, clock, customer=person, incoming=incoming_of(message)
    )
    if not taken:
        raise SkipHandler


# Last of all routers (see handlers/__init__.py): whatever no other handler took.
catch_all = Routes(f"{__name__}.catch_all")
catch_all.message.filter(F.chat.type == "private")


@catch_all.message()
async def on_free_message(
    message: Message,
    state: FSMContext,
    person: Person,
    pool: asyncpg.Pool,
    redis: Redis,
    clock: Clock,
    desk_config: DeskConfig,
) -> None:
    """No message is ever ignored: it goes into the customer's ticket, or becomes an offer."""
    await relay(message, incoming_of(message), person, pool, redis, clock, desk_config, state)


async def relay(
    target: Any, item: Incoming, person: Person, pool: asyncpg.Pool, redis: Redis, clock: Clock,
    desk_config: DeskConfig, state: FSMContext, ticket_id: int | None = None,
) -> desk.Delivered | None:  # fmt: skip
    """Put the message into a ticket (or ask which, or offer a new one); what became of it."""
    cfg = desk_config
    if not isinstance(target, Message):
        return None
    try:
        done = await desk.customer_message(
            pool, redis, cfg, clock, customer=person, incoming=item, ticket_id=ticket_id
        )
    except RateLimited as limited:
        await target.answer(texts.over_limit(limited.retry_at, cfg.tz))
        return None
    except NotAllowed:
        await target.answer(texts.banned())
        return None
    if done.outcome == "choose":
        pending = (await state.get_data()).get("pending") or {}
        pending = dict(list(pending.items())[-9:]) | {str(item.message_id): item.__dict__}
        await state.update_data(pending=pending)
        text, keyboard = texts.which_ticket(done.choices, item.message_id)
        await target.answer(text, reply_markup=from_dict(keyboard))
    elif done.outcome == "none":
        await state.set_state(NewTicket.offer)
        draft = {
            "text": item.text or "",
            "attachment": None if item.kind == "text" else item.__dict__,
        }
        await state.set_data({"draft": draft, "from_text": True})
        await target.answer(
            _("You have no open ticket. Shall I open one with this message?"),
            reply_markup=markup([[(_("📝 Open a ticket"), Step(act="yes").pack())], cancel_row()]),
        )
    return done
