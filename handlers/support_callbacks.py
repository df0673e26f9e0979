"""The customer side's callback data and conversation states, and the menu built from them.

The buttons services pre-build for the outbox (rating stars, a customer's ticket buttons, "which
ticket?") are defined with them, in services/tickets/render.py; the conversation's own are here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from aiogram.fsm.state import State, StatesGroup
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup
from aiogram.utils.i18n import gettext as _

from services.buttons import Button, button
from services.classification import Category
from services.text import esc


class NewTicket(StatesGroup):
    offer = State()  # free text: open a ticket from it?
    category = State()
    description = State()
    reference = State()
    confirm = State()


@button("sm")
@dataclass(frozen=True)
class Menu(Button):
    act: Literal["new", "mine", "lang", "status"]


@button("nc")
@dataclass(frozen=True)
class Pick(Button):
    cat: Category


@button("nk")
@dataclass(frozen=True)
class Step(Button):
    act: Literal["send", "edit", "cancel", "skip", "yes"]


def menu_markup() -> InlineKeyboardMarkup:
    """The customer's menu (/start, and right after a language is chosen)."""
    rows = [
        (_("📝 New ticket"), Menu(act="new").pack()),
        (_("📋 My tickets"), Menu(act="mine").pack()),
        (_("🚦 Known issues"), Menu(act="status").pack()),
        (_("🌐 Language"), Menu(act="lang").pack()),
    ]
    return InlineKeyboardMarkup(
        inline_keyboard=[[InlineKeyboardButton(text=t, callback_data=d)] for t, d in rows]
    )


def menu_greeting(first_name: str) -> str:
    return _("Hello, {name}! How can QuickCart support help you?").format(name=esc(first_name))
