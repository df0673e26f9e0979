"""The customer side's callback data and conversation states, and the menu built from them.

Services pre-build some of these buttons for the outbox (rating stars, ticket buttons); a unit
test keeps each factory's `.pack()` equal to the service's string.
"""

from __future__ import annotations

from typing import Literal

from aiogram.filters.callback_data import CallbackData
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup
from aiogram.utils.i18n import gettext as _

from services.classification import Category
from services.text import esc


class NewTicket(StatesGroup):
    offer = State()  # free text: open a ticket from it?
    category = State()
    description = State()
    reference = State()
    confirm = State()


class Menu(CallbackData, prefix="sm"):
    act: Literal["new", "mine", "lang"]


class Pick(CallbackData, prefix="nc"):
    cat: Category


class Step(CallbackData, prefix="nk"):
    act: Literal["send", "edit", "cancel", "skip", "yes"]


class Rate(CallbackData, prefix="tr"):
    id: int
    n: int


class Mine(CallbackData, prefix="tc"):
    id: int
    act: Literal["view", "close"]


class Which(CallbackData, prefix="tw"):
    id: int
    m: int


def menu_markup() -> InlineKeyboardMarkup:
    """The customer's menu (/start, and right after a language is chosen)."""
    rows = [
        (_("📝 New ticket"), Menu(act="new").pack()),
        (_("📋 My tickets"), Menu(act="mine").pack()),
        (_("🌐 Language"), Menu(act="lang").pack()),
    ]
    return InlineKeyboardMarkup(
        inline_keyboard=[[InlineKeyboardButton(text=t, callback_data=d)] for t, d in rows]
    )


def menu_greeting(first_name: str) -> str:
    return _("Hello, {name}! How can QuickCart support help you?").format(name=esc(first_name))
