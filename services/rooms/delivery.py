"""The outbox hook for rows owned by "room:<ticket id>".

- the topic was created: its id goes on the room;
- the summary was sent: its message id goes on the room and it is pinned;
- the chat has no topics (createForumTopic refused): the room becomes one card in the chat,
  its lines replying to it;
- closing (or reopening) the topic was refused: the operator is told (services/rooms/closing);
- the topic was deleted by hand (a message into it: "message thread not found"; an edit of
  the summary: "message to edit not found"): a new topic and summary, the failed line again.

Registered by the assembly: `hooks.register("room", RoomDeliveryHook(ctx, clock))`.
"""

from __future__ import annotations

from typing import Any

from services.clock import Clock
from services.delivery.errors import (
    MESSAGE_NOT_FOUND,
    THREAD_NOT_FOUND,
    TOPIC_MISSING,
    PermanentError,
)
from services.delivery.hooks import DeliveryHook, owner_id
from services.delivery.outbound import tell_operator
from services.delivery.rows import OutboxRow
from services.escalation import outbound as escalation_outbound
from services.escalation import store as incidents_store
from services.rooms import closing, store
from services.rooms import room as rooms
from services.rooms.config import RoomsContext
from services.rooms.store import Room
from services.storage.types import Executor
from services.tickets import briefs as tickets

_NOT_RESENT = frozenset(
    {"edit", "edit_markup", "create_topic", "edit_topic", "close_topic", "reopen_topic", "pin"}
)


async def _locked_room(db: Executor, row: OutboxRow) -> Room | None:
    """The room a row of ours belongs to (None: not a room's row, or the room is gone), its
    incident locked first: the order every writer of both takes, so that a card refreshed here
    waits for an escalation being saved and shows it (not the level before)."""
    ticket_id = owner_id(row.owner, "room")
    if ticket_id is None:
        return None
    await incidents_store.get(db, ticket_id, lock=True)
    return await store.get(db, ticket_id, lock=True)


class RoomDeliveryHook(DeliveryHook):
    def __init__(self, ctx: RoomsContext, clock: Clock) -> None:
        self.ctx = ctx
        self.clock = clock

    async def on_sent(self, db: Executor, row: OutboxRow, result: dict[str, Any]) -> None:
        room = await _locked_room(db, row)
        if room is None:
            return
        ticket_id = room.ticket_id
        if row.kind == "create_topic":
            topic_id = result.get("message_thread_id")
            if topic_id is not None and row.id == room.topic_outbox_id:
                await store.update(db, ticket_id, topic_id=int(topic_id))
                await self._link_in_pages(db, ticket_id)
            return
        if row.kind == "pin":
            if row.ref_id == room.summary_outbox_id:
                await store.update(db, ticket_id, pinned_message_id=room.summary_message_id)
            return
        if row.kind != "text" or row.id != room.summary_outbox_id:
            return
        message_id = result.get("message_id") or (result.get("message_ids") or [None])[0]
        if message_id is None:
            return
        await store.update(db, ticket_id, summary_message_id=int(message_id))
        if room.mode == "thread":
            await self._link_in_pages(db, ticket_id)
        await rooms.enqueue(
            db,
            ticket_id,
            room.chat_id,
            "pin",
            {"disable_notification": True},
            ref_id=row.id,
            dedup=f"pin:{row.id}",
        )

    async def on_failed(self, db: Executor, row: OutboxRow, error: PermanentError) -> None:
        room = await _locked_room(db, row)
        if room is None:
            return
        ticket_id = room.ticket_id
        if row.kind == "create_topic":
            if row.id == room.topic_outbox_id and error.reason not in (
                THREAD_NOT_FOUND,
                TOPIC_MISSING,
            ):
                await self._without_topics(db, ticket_id)
            return
        if row.kind == "pin":
            await tell_operator(db, row, error, self.ctx.escalation.admin_chat_id)
            return
        if row.kind in ("close_topic", "reopen_topic"):  # the incident is resolved all the same
            await closing.refused(db, self.ctx, ticket_id, row.kind, error, row.id)
            return
        gone = error.reason in (THREAD_NOT_FOUND, TOPIC_MISSING) or (
            row.kind == "edit"
            and error.reason == MESSAGE_NOT_FOUND
            and row.ref_id == room.summary_outbox_id
            and room.summary_message_id is not None
        )
        if not gone:
            await tell_operator(db, row, error, self.ctx.escalation.admin_chat_id)
            return
        old_summary = (row.dedup_key or "").startswith(f"room:{ticket_id}:summary:")
        if error.reason == TOPIC_MISSING and room.mode == "thread":
            # a line queued for the topic before the chat turned out to have none
            if not old_summary:
                await self._again(db, ticket_id, row)
            return
        current = (
            (row.thread_id is not None and row.thread_id == room.topic_id)
            or (row.thread_ref is not None and row.thread_ref == room.topic_outbox_id)
            or (row.ref_id is not None and row.ref_id == room.summary_outbox_id)
        )
        if current:
            await rooms.recreate(db, self.ctx, ticket_id, self.clock.now())
        if row.kind not in _NOT_RESENT and not old_summary:
            await self._again(db, ticket_id, row)

    async def _link_in_pages(self, db: Executor, ticket_id: int) -> None:
        """The room exists now: every page and card of the incident gets its link (the people
        paged are invited to it from their page)."""
        incident = await incidents_store.get(db, ticket_id)
        ticket = await tickets.brief(db, ticket_id)
        if incident is not None and ticket is not None:
            await escalation_outbound.refresh_copies(db, self.ctx.escalation, incident, ticket)

    async def _without_topics(self, db: Executor, ticket_id: int) -> None:
        """One card in the chat, replies threaded to it (the topic's summary never went)."""
        incident = await incidents_store.get(db, ticket_id)
        if incident is None:
            return
        await store.update(db, ticket_id, mode="thread", topic_outbox_id=None, topic_id=None)
        room = await store.get(db, ticket_id)
        assert room is not None
        await rooms.send_summary(db, self.ctx, incident, room, generation=room.recreated)

    async def _again(self, db: Executor, ticket_id: int, row: OutboxRow) -> None:
        room = await store.get(db, ticket_id)
        if room is None:
            return
        await rooms.post(db, room, "", kind=row.kind, payload=dict(row.payload))
