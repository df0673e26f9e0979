"""A text made in its reader's language and queued through the outbox: the locale is set only
while the text (and its keyboard) is made, never while SQL runs.

`make` returns the HTML text, or what a render module returns (text and keyboard, with its
`payload()`: sendMessage's parameters).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol, Unpack
from zoneinfo import ZoneInfo

from services import chats, outbox
from services.i18n import use_locale
from services.message import html
from services.storage.types import Executor


class Made(Protocol):
    def payload(self) -> dict[str, Any]: ...


Make = Callable[[], str | Made]


async def send_in(
    db: Executor, chat_id: int, language: str | None, make: Make, **row: Unpack[outbox.Row]
) -> int | None:
    """`make()` in `language`, sent to `chat_id`; the outbox row's id (None: dedup_key seen)."""
    with use_locale(language):
        made = make()
    payload = html(made) if isinstance(made, str) else made.payload()
    return await outbox.send_text(db, chat_id, payload, **row)


async def send_to_chat(
    db: Executor, chat_id: int, default_locale: str, make: Make, **row: Unpack[outbox.Row]
) -> int | None:
    """`make()` in the language of `chat_id` itself (a group's setting, a person's own, else
    `default_locale`), sent there."""
    language = await chats.chat_language(db, chat_id, default_locale)
    return await send_in(db, chat_id, language, make, **row)


@dataclass(frozen=True)
class StaffAudience:
    """Who a feature's messages to staff are for: the admin chat (None: none set), the language
    of people who chose none, and the display time zone."""

    tz: ZoneInfo
    admin_chat_id: int | None
    default_locale: str

    async def tell_admin_chat(
        self, db: Executor, make: Make, **row: Unpack[outbox.Row]
    ) -> int | None:
        """`make()` in the admin chat's language, sent there (None: no admin chat, or seen)."""
        if self.admin_chat_id is None:
            return None
        return await send_to_chat(db, self.admin_chat_id, self.default_locale, make, **row)
