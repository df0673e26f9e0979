"""A room's life: opened for an incident, its summary kept current (edited in place, pinned),
lines posted into it, and recreated when its topic was deleted."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from services import outbox
from services.escalation import store as incidents_store
from services.escalation.context import OnOpen
from services.escalation.store import Incident
from services.i18n import use_locale
from services.message import html
from services.outbox import OutboxMessage
from services.rooms import render, store
from services.rooms.config import RoomsContext
from services.rooms.store import Room
from services.storage.types import Executor
from services.tickets import briefs as tickets


def owner(ticket_id: int) -> str:
    return f"room:{ticket_id}"


def _priority(priority: str) -> int:
    return {"P0": outbox.PRIORITY_P0, "P1": outbox.PRIORITY_P1}.get(priority, outbox.PRIORITY_P2)


async def language(db: Executor, ctx: RoomsContext, chat_id: int) -> str | None:
    return await ctx.escalation.language_of(db, chat_id, None)


def next_update_due(ctx: RoomsContext, incident: Incident, room: Room) -> datetime | None:
    minutes = ctx.rules.rhythm(incident.priority)
    if minutes is None or incident.resolved_at is not None:
        return None
    base = room.last_update_at or incident.opened_at
    return base + timedelta(minutes=minutes)


async def paged_names(db: Executor, ticket_id: int) -> list[str]:
    names: list[str] = []
    for event in await tickets.events(db, ticket_id):
        if event.kind == "incident_notified":
            for name in event.details.get("names") or []:
                if name not in names:
                    names.append(str(name))
    return names


async def summary_view(
    db: Executor, ctx: RoomsContext, incident: Incident, room: Room
) -> render.SummaryView | None:
    ticket = await tickets.brief(db, incident.ticket_id)
    if ticket is None:
        return None
    status = (
        "resolved"
        if incident.resolved_at is not None
        else "acknowledged"
        if incident.acknowledged_at is not None
        else "open"
    )
    return render.SummaryView(
        number=ticket.number,
        title=ticket.title,
        priority=incident.priority,
        status=status,
        level=incident.level,
        level_role=ctx.escalation.rules.level(incident.level).role.value,
        lead=await tickets.display_name(db, room.lead_id),
        comms=await tickets.display_name(db, room.comms_id),
        paged=await paged_names(db, incident.ticket_id),
        alerts=await store.linked_alerts(db, incident.ticket_id),
        tickets=[(ticket.number, tickets.topic_url(ticket.support_chat_id, ticket.topic_id))],
        customers=await store.affected_customers(db, incident.ticket_id),
        opened_at=incident.opened_at,
        resolved_at=incident.resolved_at,
        last_update_at=room.last_update_at,
        last_update_by=await tickets.display_name(db, room.last_update_by),
        last_update_text=room.last_update_text,
        next_update_due=next_update_due(ctx, incident, room),
    )


async def render_summary(
    db: Executor, ctx: RoomsContext, incident: Incident, room: Room
) -> str | None:
    view = await summary_view(db, ctx, incident, room)
    if view is None:
        return None
    with use_locale(await language(db, ctx, room.chat_id)):
        return render.summary(view, ctx.escalation.tz, update_chars=ctx.rules.summary_update_chars)


async def open_room(
    db: Executor, ctx: RoomsContext, incident: Incident, now: datetime
) -> Room | None:
    """The incident's room (a new topic with its summary), once; None without a room chat."""
    if ctx.chat_id is None:
        return None
    room = await store.insert(db, incident.ticket_id, ctx.chat_id, now)
    if room is None:
        return await store.get(db, incident.ticket_id)
    room = await _new_topic(db, ctx, incident, room, generation=0)
    await tickets.add_event(
        db, incident.ticket_id, now, None, "room_opened", {"chat_id": room.chat_id}
    )
    return room


def opener(ctx: RoomsContext) -> OnOpen:
    """What opening an incident calls, in its transaction: the room opens with it."""

    async def open_with_incident(db: Executor, incident: Incident, at: datetime) -> None:
        await open_room(db, ctx, incident, at)

    return open_with_incident


async def _new_topic(
    db: Executor, ctx: RoomsContext, incident: Incident, room: Room, *, generation: int
) -> Room:
    """Queue the topic and, into it, the summary (pinned once it is sent: see delivery). A new
    topic is open: a resolved incident's is closed again by the rooms worker."""
    ticket = await tickets.brief(db, incident.ticket_id)
    assert ticket is not None
    name = render.topic_name(ticket.number, incident.priority, ticket.title)
    topic_row = await enqueue(
        db,
        incident.ticket_id,
        room.chat_id,
        "create_topic",
        {"name": name},
        dedup=f"topic:{generation}",
        priority=_priority(incident.priority),
    )
    await store.update(
        db, incident.ticket_id, mode="topic", topic_outbox_id=topic_row, topic_id=None,
        topic_name=name, summary_outbox_id=None, summary_message_id=None, summary_text=None,
        pinned_message_id=None, topic_closed_at=None,
    )  # fmt: skip
    fresh = await store.get(db, incident.ticket_id)
    assert fresh is not None
    return await send_summary(db, ctx, incident, fresh, generation=generation)


async def send_summary(
    db: Executor, ctx: RoomsContext, incident: Incident, room: Room, *, generation: int
) -> Room:
    """A new summary message in the room (a chat without topics: the room's card)."""
    text = await render_summary(db, ctx, incident, room)
    if text is None:
        return room
    thread_id, thread_ref, _ref = room.thread()
    row = await outbox.send_text(
        db,
        room.chat_id,
        {"text": text, "parse_mode": "HTML", "disable_notification": True},
        thread_id=thread_id,
        thread_ref=thread_ref,
        dedup_key=f"room:{incident.ticket_id}:summary:{room.mode}:{generation}",
        owner=owner(incident.ticket_id),
        priority=_priority(incident.priority),
    )
    if row is not None:
        await store.update(
            db, incident.ticket_id, summary_outbox_id=row, summary_message_id=None,
            summary_text=text, pinned_message_id=None,
        )  # fmt: skip
    fresh = await store.get(db, incident.ticket_id)
    assert fresh is not None
    return fresh


async def refresh_summary(db: Executor, ctx: RoomsContext, ticket_id: int) -> bool:
    """Edit the summary in place when what it says changed; True if an edit was queued."""
    room = await store.get(db, ticket_id)
    incident = await incidents_store.get(db, ticket_id)
    if room is None or incident is None or room.summary_outbox_id is None:
        return False
    text = await render_summary(db, ctx, incident, room)
    if text is None or text == room.summary_text:
        return False
    await outbox.edit_message(
        db,
        room.chat_id,
        room.summary_outbox_id,
        html(text),
        owner=owner(ticket_id),
        coalesce_key=f"room-sum:{room.summary_outbox_id}",
    )
    await store.update(db, ticket_id, summary_text=text)
    return True


async def rename_topic(db: Executor, ticket_id: int) -> bool:
    """The topic's name follows the incident's severity (`QC-000123 · P1 · …` once it is P1)."""
    room = await store.get(db, ticket_id)
    incident = await incidents_store.get(db, ticket_id)
    ticket = await tickets.brief(db, ticket_id)
    if room is None or incident is None or ticket is None:
        return False
    if room.mode != "topic" or room.topic_id is None:
        return False
    name = render.topic_name(ticket.number, incident.priority, ticket.title)
    if name == room.topic_name:
        return False
    await enqueue(
        db, ticket_id, room.chat_id, "edit_topic", {"name": name}, thread_id=room.topic_id
    )
    await store.update(db, ticket_id, topic_name=name)
    return True


async def post(
    db: Executor,
    room: Room,
    text: str,
    *,
    dedup: str | None = None,
    priority: int = outbox.PRIORITY_INTERACTIVE,
    kind: str = "text",
    payload: dict[str, Any] | None = None,
) -> int | None:
    """A line (or a document) in the room: in its topic, or replying to its card."""
    thread_id, thread_ref, ref_id = room.thread()
    body = payload if payload is not None else html(text)
    return await enqueue(
        db,
        room.ticket_id,
        room.chat_id,
        kind,
        body,
        dedup=dedup,
        priority=priority,
        thread_id=thread_id,
        thread_ref=thread_ref,
        ref_id=ref_id,
    )


async def enqueue(
    db: Executor,
    ticket_id: int,
    chat_id: int,
    kind: str,
    payload: dict[str, Any],
    *,
    dedup: str | None = None,
    priority: int = outbox.PRIORITY_INTERACTIVE,
    thread_id: int | None = None,
    thread_ref: int | None = None,
    ref_id: int | None = None,
) -> int | None:
    """A row of the incident's room: owned by it (its delivery comes back to
    services/rooms/delivery.py), its dedup key, if any, `room:<ticket id>:<dedup>`."""
    return await outbox.enqueue(
        db,
        OutboxMessage(
            chat_id=chat_id,
            kind=kind,  # type: ignore[arg-type]
            payload=payload,
            thread_id=thread_id,
            thread_ref=thread_ref,
            ref_id=ref_id,
            dedup_key=f"room:{ticket_id}:{dedup}" if dedup else None,
            owner=owner(ticket_id),
            priority=priority,
        ),
    )


async def recreate(db: Executor, ctx: RoomsContext, ticket_id: int, now: datetime) -> bool:
    """The room's topic is gone (deleted by hand): a new topic, a new pinned summary, a line
    saying so. At most `max_recreations` times per incident (a chat that keeps refusing)."""
    incident = await incidents_store.get(db, ticket_id, lock=True)  # incident, then room
    room = await store.get(db, ticket_id, lock=True)
    if room is None or incident is None or room.recreated >= ctx.rules.max_recreations:
        return False
    generation = room.recreated + 1
    old_topic = room.topic_id
    await store.update(db, ticket_id, recreated=generation)
    if room.mode == "topic":
        room = await _new_topic(db, ctx, incident, room, generation=generation)
    else:
        room = await send_summary(db, ctx, incident, room, generation=generation)
    await tickets.add_event(db, ticket_id, now, None, "room_recreated", {"old_topic_id": old_topic})
    ticket = await tickets.brief(db, ticket_id)
    assert ticket is not None
    with use_locale(await language(db, ctx, room.chat_id)):
        text = render.recreated_line(ticket.number)
    await post(db, room, text, dedup=f"recreated:{generation}")
    return True
