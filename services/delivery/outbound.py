"""Telling the operator (ADMIN_CHAT_ID) once when a message could not be delivered."""

from __future__ import annotations

from services.delivery.errors import PermanentError
from services.delivery.rows import OutboxRow
from services.i18n import gettext as _
from services.message import html
from services.outbox import PRIORITY_P1, send_text
from services.storage.types import Executor
from services.text import esc, shorten

OWNER = "delivery"


async def tell_operator(
    db: Executor, row: OutboxRow, error: PermanentError, admin_chat_id: int | None
) -> int | None:
    """One message per failed row (dedup_key), folded into a digest in an outage."""
    if admin_chat_id is None or (row.owner or "").startswith(OWNER):
        return None
    text = _(
        "Outbox message {id} to chat {chat_id} was not delivered after {attempts} attempts "
        "({reason}): {error}"
    ).format(
        id=row.id,
        chat_id=row.chat_id,
        attempts=row.attempts,
        reason=esc(error.reason),
        error=esc(shorten(str(error), 300)),
    )
    return await send_text(
        db,
        admin_chat_id,
        html(text),
        dedup_key=f"delivery-failed:{row.id}",
        owner=f"{OWNER}:{row.id}",
        coalesce_key="delivery-failed",
        priority=PRIORITY_P1,
    )
