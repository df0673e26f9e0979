"""What the desk tells an e-mail customer goes out as mail: `services.tickets.outbound`
hands every customer message of a ticket on the e-mail channel here instead of to Telegram.

The desk's texts are the same as in Telegram (the staff answer signed, "your ticket is open",
"resolved"...), made plain text, in the ticket's language, with a footer that keeps the thread.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from services.email import compose, store
from services.i18n import use_locale
from services.storage.types import Executor


async def queue(
    db: Executor, *, ticket_id: int, customer_id: int, language: str, payload: dict[str, Any],
    now: datetime | None = None, file_id: str | None = None,
) -> int | None:  # fmt: skip
    """Queue one reply in the caller's transaction; None when the ticket has no address to
    answer (an e-mail ticket always has one: the address it came from)."""
    thread = await store.thread(db, ticket_id)
    recipient = thread.recipient
    if recipient is None:
        known = await store.addresses_of(db, customer_id)
        recipient = known[0] if known else None
    if recipient is None:
        return None
    text = compose.telegram_html_to_text(str(payload.get("text") or payload.get("caption") or ""))
    with use_locale(language):
        if asks_rating(payload):  # the stars are buttons in Telegram; by e-mail, a number
            text += "\n\n" + compose.rate_by_reply()
        body = compose.body(text, ticket_id, compose.signature_name(), "")
    return await store.queue_out(
        db, ticket_id=ticket_id, recipient=recipient, body=body, now=now, tg_file_id=file_id
    )


def asks_rating(payload: dict[str, Any]) -> bool:
    rows = (payload.get("reply_markup") or {}).get("inline_keyboard") or []
    return any(str(b.get("callback_data", "")).startswith("tr:") for row in rows for b in row)


async def notice(
    db: Executor, *, recipient: str, subject: str, text: str, now: datetime | None = None,
    ticket_id: int | None = None,
) -> int:  # fmt: skip
    """A notice about a message that made no ticket (too large, too many): plain text."""
    return await store.queue_out(
        db, ticket_id=ticket_id, recipient=recipient, body=f"{text}\n", now=now,
        subject=subject,
    )  # fmt: skip
