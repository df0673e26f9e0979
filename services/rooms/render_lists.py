"""`/followups`: the open action items across incidents (pure)."""

from __future__ import annotations

from services.i18n import gettext as _
from services.rooms.store import Followup
from services.text import TELEGRAM_TEXT_LIMIT, esc, shorten
from services.tickets.model import ticket_number


def followups_list(items: list[Followup]) -> str:
    if not items:
        return _("No open follow-ups.")
    lines = [_("<b>Open follow-ups</b> ({n})").format(n=len(items))]
    size = len(lines[0])
    for index, item in enumerate(items):
        owner = f" — {esc(item.owner_name)}" if item.owner_name else ""
        number = esc(ticket_number(item.ticket_id))
        line = f"• #{item.id} {number}: {esc(shorten(item.text, 200))}{owner}"
        if size + len(line) + 1 > TELEGRAM_TEXT_LIMIT - 100:
            lines.append(_("… and {n} more.").format(n=len(items) - index))
            break
        lines.append(line)
        size += len(line) + 1
    return "\n".join(lines)
