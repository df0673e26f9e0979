"""What staff must hear about the e-mail side of a ticket: an answer that never reached the
customer (the SMTP server refused it, or a bounce came back for it), posted in its topic."""

from __future__ import annotations

from services.i18n import gettext as _
from services.i18n import use_locale
from services.storage.types import Executor
from services.text import esc, shorten
from services.tickets import outbound as desk_outbound
from services.tickets import store
from services.tickets.config import DeskConfig


async def undelivered(
    db: Executor, cfg: DeskConfig, ticket_id: int, recipient: str, reason: str
) -> int | None:
    ticket = await store.find(db, ticket_id)
    if ticket is None:
        return None
    with use_locale(await desk_outbound.desk_language(db, cfg)):
        text = _(
            "⚠️ The e-mail answer to {address} was not delivered: {reason}. The customer has "
            "not read it; answer again or reach them another way."
        ).format(address=esc(recipient), reason=esc(shorten(reason, 300)))
    return await desk_outbound.to_topic(db, ticket, cfg, "text", desk_outbound.html(text))
