"""Post a postmortem draft in the incident's room: a message and two documents."""

from __future__ import annotations

import base64
from datetime import datetime

from services import outbox
from services.i18n import use_locale
from services.postmortem import build as builder
from services.postmortem import render
from services.rooms import room as rooms
from services.rooms import store as rooms_store
from services.rooms.config import RoomsContext
from services.storage.types import Executor
from services.tickets import briefs as tickets


def _document(text: str, filename: str, caption: str) -> dict[str, object]:
    return {
        "document": {"base64": base64.b64encode(text.encode()).decode(), "filename": filename},
        "caption": caption,
    }


async def post(
    db: Executor,
    ctx: RoomsContext,
    ticket_id: int,
    now: datetime,
    *,
    actor_id: int | None,
    payments_failed: int | None = None,
) -> bool:
    """False when the incident has no room (its draft then has nowhere to go)."""
    room = await rooms_store.get(db, ticket_id)
    if room is None:
        return False
    generation = int(
        await db.fetchval(
            "SELECT count(*) FROM ticket_events "
            "WHERE ticket_id = $1 AND kind = 'postmortem_drafted'",
            ticket_id,
        )
    )
    await rooms_store.update(db, ticket_id, postmortem_at=now)
    await tickets.add_event(
        db, ticket_id, now, actor_id, "postmortem_drafted", {"generation": generation}
    )
    pm = await builder.build(db, ticket_id, payments_failed=payments_failed)
    if pm is None:
        return False
    tz = ctx.escalation.tz
    with use_locale(await rooms.language(db, ctx, room.chat_id)):
        message = render.chat_message(pm, tz)
        md = render.markdown(pm, tz)
        page = render.html_document(pm, tz)
        caption = render.title(pm)[:900]
    name = f"postmortem-{pm.number}"
    key = f"postmortem:{generation}"
    await rooms.post(db, room, message, dedup=f"{key}:text", priority=outbox.PRIORITY_REPORT)
    await rooms.post(
        db, room, "", kind="document", dedup=f"{key}:md", priority=outbox.PRIORITY_REPORT,
        payload=_document(md, f"{name}.md", caption),
    )  # fmt: skip
    await rooms.post(
        db, room, "", kind="document", dedup=f"{key}:html", priority=outbox.PRIORITY_REPORT,
        payload=_document(page, f"{name}.html", caption),
    )  # fmt: skip
    return True
