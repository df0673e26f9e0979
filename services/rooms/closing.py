"""A room's forum topic follows its incident: closed when the incident is resolved (after the
postmortem draft, when one is due), reopened if the incident is open again. Through the outbox
(closeForumTopic / reopenForumTopic), queued after what the room was still to receive; a close
Telegram refuses is told to the operator (services/rooms/delivery), never blocks anything.
"""

from __future__ import annotations

from datetime import datetime

from services import outbox
from services.delivery.errors import THREAD_NOT_FOUND, PermanentError
from services.escalation import store as incidents_store
from services.i18n import gettext as _
from services.i18n import use_locale
from services.message import html
from services.rooms import room as rooms
from services.rooms import store
from services.rooms.config import RoomsContext
from services.storage.types import Executor
from services.text import esc, shorten
from services.tickets.model import ticket_number


def closed_line(number: str) -> str:
    return _(
        "🔒 {number} is resolved: this topic is closed. Its history stays here; "
        "/postmortem {number} in the admin chat regenerates the draft."
    ).format(number=esc(number))


def reopened_line(number: str) -> str:
    return _("🔓 {number} is open again: this topic is reopened.").format(number=esc(number))


def not_changed(number: str, closing: bool, error: str) -> str:
    text = (
        _("⚠️ The topic of {number} could not be closed ({error}). Close it by hand, or let the "
          "bot manage topics in the incidents chat.")
        if closing
        else _("⚠️ The topic of {number} could not be reopened ({error}). Reopen it by hand, or "
               "let the bot manage topics in the incidents chat.")
    )  # fmt: skip
    return text.format(number=esc(number), error=esc(shorten(error, 200)))


async def follow(conn: Executor, ctx: RoomsContext, ticket_id: int, now: datetime) -> str | None:
    """Queue the close or the reopen the incident's state asks for, once: "closed",
    "reopened", or None (nothing to do: no topic, already so, or the postmortem still due)."""
    room = await store.get(conn, ticket_id)
    incident = await incidents_store.get(conn, ticket_id)
    if room is None or incident is None or room.mode != "topic" or room.topic_id is None:
        return None
    number = ticket_number(ticket_id)
    stamp = int(now.timestamp())
    if incident.resolved_at is not None:
        if room.topic_closed_at is not None:
            return None
        draft_due = incident.priority in ctx.rules.postmortem_priorities
        if draft_due and room.postmortem_at is None:
            return None  # the draft first, then the close (queued behind it)
        with use_locale(await rooms.language(conn, ctx, room.chat_id)):
            line = closed_line(number)
        # the postmortem's rows are reports: these go after them, in the topic's own order
        await rooms.post(conn, room, line, dedup=f"closed:{stamp}", priority=outbox.PRIORITY_REPORT)
        await _topic(conn, room.chat_id, room.topic_id, ticket_id, "close_topic", stamp)
        await store.update(conn, ticket_id, topic_closed_at=now)
        return "closed"
    if room.topic_closed_at is None:
        return None
    await _topic(conn, room.chat_id, room.topic_id, ticket_id, "reopen_topic", stamp)
    await store.update(conn, ticket_id, topic_closed_at=None)
    with use_locale(await rooms.language(conn, ctx, room.chat_id)):
        line = reopened_line(number)
    await rooms.post(conn, room, line, dedup=f"reopened:{stamp}")
    return "reopened"


async def _topic(
    conn: Executor, chat_id: int, topic_id: int, ticket_id: int, kind: str, stamp: int
) -> None:
    reopen = kind == "reopen_topic"
    await rooms.enqueue(
        conn,
        ticket_id,
        chat_id,
        "reopen_topic" if reopen else "close_topic",
        {},
        thread_id=topic_id,
        dedup=f"{kind}:{stamp}",
        # a reopen goes before what is said in the topic next; a close after it all
        priority=outbox.PRIORITY_INTERACTIVE if reopen else outbox.PRIORITY_REPORT,
    )


async def refused(
    conn: Executor, ctx: RoomsContext, ticket_id: int, kind: str, error: PermanentError,
    row_id: int,
) -> None:  # fmt: skip
    """Telegram refused the close (or reopen): the operator is told in the admin chat, in its
    language. Already closed (by hand) is what was wanted, and a topic deleted by hand has
    nothing to close (an incident open again gets a new one with its next line): nothing to say."""
    if "TOPIC_NOT_MODIFIED" in str(error).upper() or error.reason == THREAD_NOT_FOUND:
        return
    admin = ctx.escalation.admin_chat_id
    if admin is None:
        return
    with use_locale(await ctx.escalation.language_of(conn, admin, None)):
        text = not_changed(ticket_number(ticket_id), kind == "close_topic", str(error))
    await outbox.send_text(
        conn,
        admin,
        html(text),
        dedup_key=f"room:{ticket_id}:refused:{row_id}",
        owner=f"delivery:room:{ticket_id}",
        priority=outbox.PRIORITY_P1,
    )
