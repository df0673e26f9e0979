"""How handlers read a press: `Press(family)` wraps the family's codec (services.buttons).

Data of another family, stale or forged (an unknown word, a number no PostgreSQL id can have,
the wrong number of parts) does not match any handler's `Press`, and the last router
(`handlers.fallback`) answers it as the stale button it is.
"""

from __future__ import annotations

from typing import Any, overload

from aiogram.exceptions import TelegramBadRequest
from aiogram.filters import Filter
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from magic_filter import MagicFilter

from services.buttons import Button
from services.message import Keyboard


class Press(Filter):
    """A press of one button family, handed to the handler as `callback_data`; `rule` (a magic
    filter such as `F.act == "skip"`) narrows it."""

    def __init__(self, family: type[Button], rule: MagicFilter | None = None) -> None:
        self.family, self.rule = family, rule

    async def __call__(self, query: CallbackQuery) -> bool | dict[str, Any]:
        press = self.family.parse(query.data)
        if press is None or (self.rule is not None and not self.rule.resolve(press)):
            return False
        return {"callback_data": press}


@overload
def as_markup(keyboard: Keyboard) -> InlineKeyboardMarkup: ...
@overload
def as_markup(keyboard: Keyboard | None) -> InlineKeyboardMarkup | None: ...
def as_markup(keyboard: Keyboard | None) -> InlineKeyboardMarkup | None:
    """A keyboard as a renderer draws it (services.message) in aiogram's type (None: none)."""
    return InlineKeyboardMarkup.model_validate(keyboard) if keyboard is not None else None


def chat_of(query: CallbackQuery) -> int | None:
    """The chat a press came from (None when Telegram no longer says: a message too old)."""
    return query.message.chat.id if query.message else None


async def settle(
    query: CallbackQuery, notice: str | None = None, *, post: str | None = None
) -> None:
    """A press that decided what its message offered: the press answered (a passing `notice`,
    or nothing), the buttons taken off the message, and `post` (what was done) posted under it."""
    await query.answer(notice)
    if isinstance(query.message, Message):
        await query.message.edit_reply_markup(reply_markup=None)
        if post is not None:
            await query.message.answer(post)


async def redraw(query: CallbackQuery, text: str, markup: InlineKeyboardMarkup | None) -> None:
    """A press that redraws the message it is on (a refresh, another view of the same card):
    answered, then the message edited in place; unchanged content is no error."""
    await query.answer()
    if not isinstance(query.message, Message):
        return
    try:
        await query.message.edit_text(text, reply_markup=markup)
    except TelegramBadRequest as exc:
        if "message is not modified" not in str(exc):
            raise
