"""A message as renderers hand it to the outbox: HTML text and its inline keyboard, in the Bot
API's shapes (the parameters of sendMessage / editMessageText, an `inline_keyboard` markup).

The renderers build their buttons with `key` (the callback data packed by the family's codec,
services.buttons), their keyboards with `keyboard` and their HTML payloads with `html`, so the
shapes Telegram reads are written here once.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

HTML = "HTML"
Keyboard = dict[str, Any]


def key(text: str, data: str) -> dict[str, str]:
    """One inline button: its label and its callback data."""
    return {"text": text, "callback_data": data}


def keyboard(rows: Sequence[Sequence[dict[str, str]]]) -> Keyboard:
    """An inline keyboard of these rows (an empty row is left out)."""
    return {"inline_keyboard": [list(row) for row in rows if row]}


def html(text: str, markup: Keyboard | None = None) -> dict[str, Any]:
    """The parameters of a message in HTML, with its keyboard when it has one."""
    payload: dict[str, Any] = {"text": text, "parse_mode": HTML}
    if markup is not None:
        payload["reply_markup"] = markup
    return payload


@dataclass(frozen=True)
class Rendered:
    """What a renderer returns: the HTML text and its keyboard (None: no keyboard)."""

    text: str
    reply_markup: Keyboard | None = None

    def payload(self) -> dict[str, Any]:
        return html(self.text, self.reply_markup)
