"""A room update offered to the affected customers (a customer-facing incident): the offer with
its two buttons, and what it says once someone decided. Pure; callers choose the language.

- `ro:<offer>:<act>`: send (to the linked customers) or int (keep it internal)
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal
from zoneinfo import ZoneInfo

from services.buttons import Button, button
from services.escalation.render import when
from services.i18n import gettext as _
from services.i18n import ngettext
from services.message import Keyboard, key, keyboard
from services.text import esc


@button("ro")
@dataclass(frozen=True)
class RoomOffer(Button):
    id: int
    act: Literal["send", "int"]


def _quoted(number: str, text: str) -> str:
    head = _("📨 <b>Send this update of {number} to the affected customers?</b>").format(
        number=esc(number)
    )
    return f"{head}\n<blockquote>{esc(text)}</blockquote>"


def offer(number: str, text: str, customers: int, offer_id: int) -> tuple[str, Keyboard]:
    """The question under a room update, with "Send to N customers" / "Internal only"."""
    body = _quoted(number, text) + "\n" + _(
        "Customers get it in their own chat with the bot. To write it in both languages: "
        "id: … en: …"
    )  # fmt: skip
    send = ngettext("Send to {n} customer", "Send to {n} customers", customers).format(n=customers)
    markup = keyboard(
        [[key(send, RoomOffer(offer_id, "send").pack()),
          key(_("Internal only"), RoomOffer(offer_id, "int").pack())]]
    )  # fmt: skip
    return body, markup


def sent(
    number: str, text: str, who: str, count: int, blocked: int, tz: ZoneInfo, at: datetime
) -> str:
    line = ngettext(
        "✅ Sent to {n} customer by {who} ({at}).",
        "✅ Sent to {n} customers by {who} ({at}).",
        count,
    ).format(n=count, who=esc(who), at=when(at, tz))
    if blocked:
        line += " " + ngettext(
            "{n} linked customer blocked the bot and was not sent it.",
            "{n} linked customers blocked the bot and were not sent it.",
            blocked,
        ).format(n=blocked)
    return _quoted(number, text) + "\n" + line


def kept_internal(number: str, text: str, who: str, tz: ZoneInfo, at: datetime) -> str:
    return (
        _quoted(number, text)
        + "\n"
        + _("🔒 Kept internal by {who} ({at}).").format(who=esc(who), at=when(at, tz))
    )
