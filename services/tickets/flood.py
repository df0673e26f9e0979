"""A customer who writes faster than anyone can read: refused at the door, told once per
window, and what they wrote handed to staff in one batch (the inbox keeps every update).

The inbox (services/inbox) refuses over-limit updates at intake, before they cost a handler;
this is what the desk does with them.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import asyncpg

from services import outbox, users
from services.clock import Clock
from services.i18n import gettext as _
from services.i18n import ngettext, use_locale
from services.inbox.store import Refused
from services.outbox import PRIORITY_INTERACTIVE
from services.text import esc
from services.tickets import outbound, store
from services.tickets.config import DeskConfig

HTML = "HTML"


def _private_chat(conversation: str) -> int | None:
    return int(conversation) if conversation.isdigit() else None


def _said(update: dict[str, Any]) -> str:
    """What a refused update carried, as one line of text for staff."""
    message = update.get("message") or update.get("edited_message") or {}
    if "text" in message:
        return str(message["text"])
    if "caption" in message:
        return str(message["caption"])
    if "callback_query" in update:
        return _("(pressed a button)")
    kinds = [k for k in ("photo", "document", "sticker", "voice", "video") if k in message]
    return "(" + ", ".join(kinds) + ")" if kinds else _("(something without text)")


class DeskFlood:
    def __init__(self, pool: asyncpg.Pool, cfg: DeskConfig, clock: Clock, window: float):
        self.pool = pool
        self.cfg = cfg
        self.clock = clock
        self.window = window

    async def tell_sender(self, conversation: str) -> None:
        chat_id = _private_chat(conversation)
        if chat_id is None:
            return
        person = await users.get(self.pool, chat_id)
        bucket = int(self.clock.now().timestamp() // self.window)
        with use_locale(person.language if person else None):
            text = _(
                "You are writing faster than we can read. I have kept your messages and the "
                "team will see them; please wait a minute before you write again."
            )
        await outbox.send_text(
            self.pool,
            chat_id,
            {"text": esc(text), "parse_mode": HTML},
            dedup_key=f"flood:{chat_id}:{bucket}",
            priority=PRIORITY_INTERACTIVE,
        )

    async def hand_to_staff(self, refused: Refused) -> None:
        chat_id = _private_chat(refused.conversation)
        if chat_id is None or not refused.updates:
            return
        person = await users.get(self.pool, chat_id)
        name = person.first_name if person else str(chat_id)
        since = self.clock.now() - timedelta(days=self.cfg.support.reopen_days)
        tickets = await store.reachable_for_customer(self.pool, chat_id, since)
        with use_locale(await outbound.desk_language(self.pool, self.cfg)):
            head = ngettext(
                "{name} wrote {n} message too fast; it was not handled, here it is:",
                "{name} wrote {n} messages too fast; they were not handled, here they are:",
                len(refused.updates),
            ).format(name=esc(name), n=len(refused.updates))
            lines = [head, *(f"• {esc(_said(u))}" for u in refused.updates)]
        payload = outbound.html("\n".join(lines))
        if tickets:
            await outbound.to_topic(self.pool, tickets[0], self.cfg, "text", payload)
        elif self.cfg.support_chat_id is not None:
            await outbox.send_text(
                self.pool, self.cfg.support_chat_id, payload, priority=PRIORITY_INTERACTIVE
            )
