"""Everything the desk sends goes through the outbox, owned by "ticket:<id>", so the delivery
hook hears back (topic ids, message ids, a deleted topic, a customer who blocked the bot)."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from services import chats, outbox
from services.email import replies
from services.i18n import use_locale
from services.message import HTML as HTML
from services.message import html as html
from services.outbox import PRIORITY_INTERACTIVE, OutboxMessage
from services.sla import Channel, next_check
from services.storage.types import Executor
from services.tickets import render
from services.tickets.config import DeskConfig
from services.tickets.model import Incoming, Ticket
from services.tickets.store import bookkeep, card_edit_state, find, update


def staff_chat(ticket: Ticket, cfg: DeskConfig) -> int | None:
    return ticket.support_chat_id or cfg.support_chat_id


def topic_target(ticket: Ticket) -> tuple[int | None, int | None]:
    """(thread_id, thread_ref): the known topic, or the pending create_topic row."""
    return outbox.in_topic(ticket.topic_id, ticket.topic_outbox_id)


async def to_topic(
    db: Executor,
    ticket: Ticket,
    cfg: DeskConfig,
    kind: outbox.Kind,
    payload: dict[str, Any],
    *,
    not_before: datetime | None = None,
    row_id: int | None = None,
) -> int | None:
    """`row_id`: the id the row must take (history.record_relayed took it); None when no row
    goes (a linked ticket, no support chat)."""
    chat_id = staff_chat(ticket, cfg)
    if chat_id is None or ticket.kind == "linked":  # a linked ticket has no topic
        return None
    thread_id, thread_ref = topic_target(ticket)
    ref_id = None
    if thread_id is None and thread_ref is None and kind in ("text", "copy", "photo", "document"):
        ref_id = ticket.card_outbox_id  # a chat without topics: replies thread to the card
    return await outbox.enqueue(
        db,
        OutboxMessage(
            chat_id=chat_id,
            kind=kind,
            payload=payload,
            owner=ticket.owner,
            priority=PRIORITY_INTERACTIVE,
            thread_id=thread_id,
            thread_ref=thread_ref,
            ref_id=ref_id,
            not_before=not_before,
            id=row_id,
        ),
    )


async def to_customer(
    db: Executor, ticket: Ticket, kind: outbox.Kind, payload: dict[str, Any],
    *, file_id: str | None = None,
) -> int | None:  # fmt: skip
    """None for a ticket raised as an incident (`/incident`, an alert): no customer wrote it,
    so nobody is told "your ticket" or asked for a rating when it ends. A ticket that came by
    e-mail is answered by e-mail (services.email.replies; `file_id`: a file staff sent, attached
    to the mail); None then too, as no outbox row stands for it."""
    if ticket.channel is Channel.ADMIN_CHAT or ticket.customer_id <= 0:
        return None
    if ticket.channel is Channel.EMAIL:
        await replies.queue(
            db, ticket_id=ticket.id, customer_id=ticket.customer_id, language=ticket.language,
            payload=payload, file_id=file_id if kind != "text" else None,
        )  # fmt: skip
        return None
    return await outbox.enqueue(
        db,
        OutboxMessage(
            chat_id=ticket.customer_id,
            kind=kind,
            payload=payload,
            owner=ticket.owner,
            priority=PRIORITY_INTERACTIVE,
        ),
    )


async def desk_language(db: Executor, cfg: DeskConfig) -> str:
    """The support group's one language (services.chats), DEFAULT_LOCALE until an admin sets it."""
    return await chats.chat_language(db, cfg.support_chat_id, cfg.staff_locale)


async def open_topic(db: Executor, ticket: Ticket, cfg: DeskConfig, now: datetime) -> Ticket:
    """Queue a new topic and its card; remember both rows on the ticket."""
    chat_id = staff_chat(ticket, cfg)
    if chat_id is None:
        return ticket
    with use_locale(await desk_language(db, cfg)):
        title = render.topic_title(ticket)
    topic_row = await outbox.enqueue(
        db,
        OutboxMessage(
            chat_id=chat_id,
            kind="create_topic",
            payload={"name": title},
            owner=ticket.owner,
            priority=PRIORITY_INTERACTIVE,
        ),
    )
    ticket = _replace(ticket, support_chat_id=chat_id, topic_id=None, topic_outbox_id=topic_row)
    limit = cfg.support.card_description_length
    with use_locale(await desk_language(db, cfg)):
        text, markup = render.card(ticket, now, cfg.tz, cfg.escalation, description_limit=limit)
        whole = (
            render.customer_message_in_topic(ticket, ticket.description)
            if len(ticket.description) > limit
            else []
        )
    card_row = await to_topic(db, ticket, cfg, "text", html(text, markup))
    for part in whole:  # nothing a customer wrote is lost: the card quotes, the topic has it all
        await to_topic(db, ticket, cfg, "text", html(part))
    await update(
        db,
        ticket.id,
        now,
        support_chat_id=chat_id,
        topic_id=None,
        topic_outbox_id=topic_row,
        card_outbox_id=card_row,
        card_message_id=None,
        card_edit_outbox_id=None,
        card_edit_at=None,
        next_check_at=next_check(ticket.running_clocks, now),
    )
    return _replace(ticket, card_outbox_id=card_row, card_message_id=None)


async def refresh_card(
    db: Executor,
    ticket: Ticket,
    cfg: DeskConfig,
    now: datetime,
    *,
    title: bool = False,
    by_person: bool = False,
) -> None:
    """Edit the card (and the topic title when it changed) to follow the ticket, and plan when
    the scan looks at it again (the next deadline its card shows passing).

    At most one edit per card per `support.card_edit_seconds` for what the clock changes (a
    deadline passing, a level moving on): while an edit waits to leave, a newer state replaces
    its text instead of queueing a second edit, so a storm of deadlines is one edit per card.
    What a person did (`by_person`) shows at once: it pulls a waiting edit forward, pausing
    only `support.card_edit_after_action_seconds` after the last one."""
    await bookkeep(db, ticket.id, next_check_at=next_check(ticket.running_clocks, now))
    chat_id = staff_chat(ticket, cfg)
    if ticket.card_outbox_id is None or chat_id is None:
        return
    with use_locale(await desk_language(db, cfg)):
        text, markup = render.card(
            ticket, now, cfg.tz, cfg.escalation,
            description_limit=cfg.support.card_description_length,
        )  # fmt: skip
        name = render.topic_title(ticket)
    payload = html(text, markup)
    pause = timedelta(seconds=cfg.support.card_edit_seconds)
    nudge = timedelta(seconds=cfg.support.card_edit_after_action_seconds)
    waiting, edit_at = await card_edit_state(db, ticket.id)
    pull_to = None
    if by_person and edit_at is not None and edit_at - now > nudge:
        # an edit waits for the minute: the last one left a minute before it is due
        pull_to = max(now, edit_at - pause + nudge)
    if waiting is not None and await outbox.replace_pending(
        db, waiting, payload, ref_id=ticket.card_outbox_id, not_after=pull_to
    ):
        if pull_to is not None and edit_at is not None and pull_to < edit_at:
            await bookkeep(db, ticket.id, card_edit_at=pull_to)
    else:
        gap = nudge if by_person else pause
        later = edit_at + gap if edit_at is not None and edit_at + gap > now else None
        row = await outbox.enqueue(
            db,
            OutboxMessage(
                chat_id=chat_id,
                kind="edit",
                payload=payload,
                ref_id=ticket.card_outbox_id,
                owner=ticket.owner,
                priority=PRIORITY_INTERACTIVE,
                not_before=later,  # None: at once
            ),
        )
        await bookkeep(db, ticket.id, card_edit_outbox_id=row, card_edit_at=later or now)
    # a chat without topics has no title to edit (an edit_topic without a thread is refused)
    if title and (ticket.topic_id is not None or ticket.topic_outbox_id is not None):
        await retitle(db, ticket, cfg, name, now)


async def retitle(db: Executor, ticket: Ticket, cfg: DeskConfig, name: str, now: datetime) -> None:
    """Rename the ticket's topic, at most once per `support.card_edit_seconds`: each rename is a
    service line in the group. A rename still waiting takes the newest name; a name the topic
    already has (or is about to get) queues nothing."""
    last = await outbox.latest(db, ticket.owner, ("create_topic", "edit_topic"))
    if last is not None and last.payload.get("name") == name:
        return
    waiting = last is not None and last.kind == "edit_topic" and last.status == "pending"
    if waiting and last is not None and await outbox.replace_pending(db, last.id, {"name": name}):
        return
    pause = timedelta(seconds=cfg.support.card_edit_seconds)
    later = last.at + pause if last is not None and last.at + pause > now else None
    await to_topic(db, ticket, cfg, "edit_topic", {"name": name}, not_before=later)


async def refresh_card_of(
    db: Executor, ticket_id: int, cfg: DeskConfig, now: datetime, *, title: bool = False
) -> None:
    """The card of a ticket something else changed (its incident's level, acknowledgement)."""
    ticket = await find(db, ticket_id)
    if ticket is not None:
        await refresh_card(db, ticket, cfg, now, title=title)


async def notice(
    db: Executor, ticket: Ticket, cfg: DeskConfig, kind: str, **values: Any
) -> int | None:
    with use_locale(await desk_language(db, cfg)):
        text = render.topic_notice(kind, **values)
    return await to_topic(db, ticket, cfg, "text", html(text))


def relay_payload(
    incoming: Incoming, text_html: str, caption_html: str
) -> tuple[outbox.Kind, dict[str, Any]]:
    """Text is re-sent as escaped HTML (the outbox splits it); media are copied with a caption."""
    if incoming.kind == "text":
        return "text", html(text_html)
    return "copy", {
        "from_chat_id": incoming.chat_id,
        "message_id": incoming.message_id,
        "caption": caption_html,
        "parse_mode": HTML,
    }


def _replace(ticket: Ticket, **changes: Any) -> Ticket:
    return replace(ticket, **changes)
