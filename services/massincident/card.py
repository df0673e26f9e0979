"""The incident's one card in the support group (in its topic) and in the admin chat, edited
in place: at most one edit per `card_edit_seconds` per chat, a newer state replacing the text
of an edit still waiting instead of queueing another. Follow-ups from linked customers go
into one digest message in the topic, extended in place the same way."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from services import chats, outbox
from services.i18n import use_locale
from services.massincident import render, store
from services.massincident import store_updates as updates
from services.massincident.config import MassContext
from services.massincident.model import PublicIncident
from services.message import html
from services.outbox import PRIORITY_INTERACTIVE, OutboxMessage
from services.storage.types import Executor


def day_start(now: datetime, mctx: MassContext) -> datetime:
    local = now.astimezone(mctx.escalation.tz)
    return local.replace(hour=0, minute=0, second=0, microsecond=0)


async def _post(
    db: Executor, chat_id: int, payload: dict[str, Any], owner: str, topic: PublicIncident | None
) -> int | None:
    """A new card or digest message (in the topic of `topic`, the incident, when given)."""
    thread_id, thread_ref = (
        outbox.in_topic(topic.topic_id, topic.topic_outbox_id) if topic else (None, None)
    )
    return await outbox.send_text(
        db,
        chat_id,
        payload,
        owner=owner,
        priority=PRIORITY_INTERACTIVE,
        thread_id=thread_id,
        thread_ref=thread_ref,
    )


async def staff_language(db: Executor, mctx: MassContext, chat_id: int) -> str:
    return await chats.chat_language(
        db, chat_id, mctx.escalation.default_locale or mctx.desk.staff_locale
    )


async def _edit(
    db: Executor, mctx: MassContext, owner: str, chat_id: int, ref_id: int,
    payload: dict[str, Any], now: datetime, *, at_once: bool = False,
) -> None:  # fmt: skip
    last = await outbox.latest(db, owner, ("edit",))
    if (
        last is not None
        and last.status == "pending"
        and await outbox.replace_pending(
            db, last.id, payload, ref_id=ref_id, not_after=now if at_once else None
        )
    ):
        return
    pause = timedelta(seconds=mctx.rules.card_edit_seconds)
    later = last.at + pause if last is not None and last.at + pause > now and not at_once else None
    await outbox.enqueue(
        db,
        OutboxMessage(
            chat_id=chat_id, kind="edit", payload=payload, ref_id=ref_id, owner=owner,
            priority=PRIORITY_INTERACTIVE, not_before=later,
        ),
    )  # fmt: skip


async def refresh(
    db: Executor, mctx: MassContext, ticket_id: int, now: datetime, *, at_once: bool | None = None
) -> None:
    """Post the cards the first time, edit them after (throttled). The incident's row is locked
    first: two customers linked at the same moment must not each queue an edit. The resolution
    edits at once (`at_once` None: when the incident has ended); what comes after it (the
    ratings) is throttled again."""
    incident = await store.get(db, ticket_id, lock=True)
    if incident is None:
        return
    affected = await store.affected(db, ticket_id, day_start(now, mctx), mctx.rules.card_names)
    progress = await updates.latest_update(db, ticket_id)
    final = incident.ended_at is not None
    for which, chat_id in (("s", mctx.support_chat_id), ("a", mctx.admin_chat_id)):
        if chat_id is None:
            continue
        with use_locale(await staff_language(db, mctx, chat_id)):
            text, markup = render.card(incident, affected, progress, now, mctx.escalation.tz)
        payload = html(text, markup)
        owner = f"pubcard:{ticket_id}:{which}"
        card_id = incident.support_card_id if which == "s" else incident.admin_card_id
        if card_id is None:
            row = await _post(db, chat_id, payload, owner, incident if which == "s" else None)
            field = "support_card_id" if which == "s" else "admin_card_id"
            await store.update(db, ticket_id, **{field: row})
            continue
        await _edit(
            db, mctx, owner, chat_id, card_id, payload, now,
            at_once=final if at_once is None else at_once,
        )  # fmt: skip


async def add_follow_up(
    db: Executor, mctx: MassContext, incident: PublicIncident, line: str, now: datetime
) -> None:
    """One line in the topic's digest message (a new digest after `digest_lines` lines)."""
    chat_id = mctx.support_chat_id
    if chat_id is None:
        return
    owner = f"pubdigest:{incident.ticket_id}"
    lines: list[str] = []
    if incident.digest_outbox_id is not None and incident.digest_lines < mctx.rules.digest_lines:
        last = await outbox.latest(db, owner, ("text", "edit"))
        if last is not None:
            lines = list(last.payload.get("_lines") or [])
    if lines:
        lines.append(line)
        with use_locale(await staff_language(db, mctx, chat_id)):
            payload = {**html(render.digest(lines)), "_lines": lines}
        assert incident.digest_outbox_id is not None
        await _edit(db, mctx, owner, chat_id, incident.digest_outbox_id, payload, now)
        await store.update(db, incident.ticket_id, digest_lines=len(lines))
        return
    with use_locale(await staff_language(db, mctx, chat_id)):
        payload = {**html(render.digest([line])), "_lines": [line]}
    row = await _post(db, chat_id, payload, owner, incident)
    await store.update(db, incident.ticket_id, digest_outbox_id=row, digest_lines=1)
