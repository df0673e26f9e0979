"""/help and /language (the /start menu belongs to the support desk, handlers/support.py).

In a private chat /language sets the person's language; in a group it sets the chat's one
language (admins only, audited), which every message the bot posts there then uses.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import asyncpg
from aiogram.filters import Command
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _

from handlers.buttons import Press
from handlers.routes import Routes
from handlers.support_callbacks import menu_greeting, menu_markup
from services import chats, staff, users
from services import i18n as service_i18n
from services.buttons import Button, button
from services.staff import Action
from services.storage.db import transaction
from services.users import Person

router = Routes(__name__)


@button("lang")
@dataclass(frozen=True)
class LanguageChoice(Button):
    code: Literal["id", "en"]


def language_keyboard() -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        inline_keyboard=[
            [
                InlineKeyboardButton(
                    text="🇮🇩 Bahasa Indonesia", callback_data=LanguageChoice(code="id").pack()
                ),
                InlineKeyboardButton(
                    text="🇬🇧 English", callback_data=LanguageChoice(code="en").pack()
                ),
            ]
        ]
    )


@router.message(Command("language"))
async def cmd_language(message: Message, person: Person, pool: asyncpg.Pool) -> None:
    if message.chat.type != "private" and not staff.may_person(person, Action.SET_CHAT_LANGUAGE):
        await staff.refuse(pool, person, Action.SET_CHAT_LANGUAGE, chat_id=message.chat.id)
        await message.answer(
            _("Only admins may change this chat's language. This attempt was recorded.")
        )
        return
    await message.answer(
        _("Please choose your language / Silakan pilih bahasa:"), reply_markup=language_keyboard()
    )


@router.callback_query(Press(LanguageChoice))
async def on_language(
    query: CallbackQuery,
    callback_data: LanguageChoice,
    person: Person,
    pool: asyncpg.Pool,
    i18n: I18n,
) -> None:
    chat = query.message.chat if query.message is not None else None
    if chat is not None and chat.type != "private":
        await _set_chat_language(query, callback_data.code, person, pool, i18n, chat.id)
        return
    await users.set_language(pool, person.id, callback_data.code)
    with i18n.use_locale(callback_data.code), service_i18n.use_locale(callback_data.code):
        await query.answer(_("Language saved."))
        if query.message is None:
            return
        saved = _("From now on I will write to you in English.")
        # and what they came for, in the same message, without a second /start
        await query.message.answer(
            f"{saved}\n\n{menu_greeting(person.first_name)}", reply_markup=menu_markup()
        )


async def _set_chat_language(
    query: CallbackQuery, code: str, person: Person, pool: asyncpg.Pool, i18n: I18n, chat_id: int
) -> None:
    if not staff.may_person(person, Action.SET_CHAT_LANGUAGE):
        await staff.refuse(pool, person, Action.SET_CHAT_LANGUAGE, chat_id=chat_id, language=code)
        await query.answer(
            _("Only admins may change this chat's language. This attempt was recorded."),
            show_alert=True,
        )
        return
    async with transaction(pool) as conn:
        await chats.set_chat_language(conn, chat_id, code, by=person.id)
    with i18n.use_locale(code), service_i18n.use_locale(code):
        await query.answer(_("Language saved."))
        if query.message is not None:
            await query.message.answer(_("From now on I will write in this chat in English."))


@router.message(Command("help"))
async def cmd_help(message: Message, person: Person) -> None:
    if person.is_staff:
        text = _(
            "Staff commands: /health, /backupstatus, /alerts, /incidents, /escalate, /timeline, "
            "/silence, /silences, /maintenance, /jobs, /runjob, /report, /staff, /oncall. "
            "In the support group: /tickets, /assign, /priority, /close, /ban, /unban."
        )
    else:
        text = _(
            "Write to me about any problem with QuickCart: I open a support ticket and our team "
            "answers here. /start shows the menu, /language changes the language."
        )
    await message.answer(text)
