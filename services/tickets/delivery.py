"""The outbox hook for rows owned by "ticket:<id>".

- a created topic: its id goes on the ticket; the card's message id too (a relayed message
  needs nothing: the Telegram id of its copy is its outbox row's, `history.messages`);
- a topic deleted by hand ("message thread not found"): a new topic and card are queued and the
  message that failed is queued again into it;
- a customer who blocked the bot (403): the ticket is marked and staff are told in the topic;
- a supergroup migration: the tickets follow the chat.

Registered by the assembly: `hooks.register("ticket", TicketDeliveryHook(cfg, clock))`.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from typing import Any

from services import outbox
from services.clock import Clock
from services.delivery.errors import FORBIDDEN, THREAD_NOT_FOUND, TOPIC_MISSING, PermanentError
from services.delivery.hooks import DeliveryHook, owner_id
from services.delivery.rows import OutboxRow
from services.i18n import use_locale
from services.outbox import PRIORITY_INTERACTIVE, OutboxMessage
from services.storage.types import Executor
from services.tickets import history, outbound, render, store
from services.tickets.config import DeskConfig
from services.tickets.model import EventKind, TicketNotFound

# Rows that belong to the old topic and make no sense to send again in a new one.
_NOT_RESENT = frozenset({"edit", "edit_markup", "create_topic", "edit_topic", "close_topic"})
MAX_RECREATIONS_PER_HOUR = 3


class TicketDeliveryHook(DeliveryHook):
    def __init__(self, cfg: DeskConfig, clock: Clock) -> None:
        self.cfg = cfg
        self.clock = clock

    def wants_sent(self, row: OutboxRow) -> bool:
        # only the card carries a keyboard in the topic
        return row.kind == "create_topic" or "reply_markup" in row.payload

    async def on_sent(self, db: Executor, row: OutboxRow, result: dict[str, Any]) -> None:
        ticket_id = owner_id(row.owner, "ticket")
        if ticket_id is None:
            return
        now = self.clock.now()
        if row.kind == "create_topic":
            topic_id = result.get("message_thread_id")
            if topic_id is None:
                return
            await store.topic_created(db, ticket_id, int(topic_id), row.id, now)
            await history.add_event(
                db, ticket_id, EventKind.TOPIC_CREATED, at=now, details={"topic_id": topic_id}
            )
            return
        message_id = result.get("message_id")
        if message_id is None:
            ids = result.get("message_ids") or []
            message_id = ids[0] if ids else None
        if message_id is None:
            return
        if "reply_markup" in row.payload:
            await store.card_sent(db, ticket_id, int(message_id), row.id)

    async def on_failed(self, db: Executor, row: OutboxRow, error: PermanentError) -> None:
        ticket_id = owner_id(row.owner, "ticket")
        if ticket_id is None:
            return
        try:
            ticket = await store.get(db, ticket_id, for_update=True)
        except TicketNotFound:
            return
        now = self.clock.now()
        if error.reason == FORBIDDEN and row.chat_id == ticket.customer_id:
            if ticket.customer_blocked_at is None:
                await store.update(db, ticket.id, now, customer_blocked_at=now)
                await history.add_event(
                    db, ticket.id, EventKind.CUSTOMER_BLOCKED, at=now,
                    details={"outbox_id": row.id, "error": error.description},
                )  # fmt: skip
                ticket = replace(ticket, customer_blocked_at=now)
                await outbound.refresh_card(db, ticket, self.cfg, now)
            await outbound.notice(db, ticket, self.cfg, "blocked")
            return
        if row.kind == "create_topic":
            if error.reason not in (THREAD_NOT_FOUND, TOPIC_MISSING):
                await self._without_topics(db, row, ticket_id)
            return
        if error.reason in (THREAD_NOT_FOUND, TOPIC_MISSING):
            await self._recreate_topic(db, row, ticket_id)

    async def _without_topics(self, db: Executor, row: OutboxRow, ticket_id: int) -> None:
        """The support chat has no topics: one card message per ticket, replies threaded to it."""
        ticket = await store.get(db, ticket_id, for_update=True)
        if row.id != ticket.topic_outbox_id:
            return
        now = self.clock.now()
        ticket = replace(ticket, topic_id=None, topic_outbox_id=None)
        with use_locale(await outbound.desk_language(db, self.cfg)):
            text, markup = render.card(
                ticket, now, self.cfg.tz, self.cfg.escalation,
                description_limit=self.cfg.support.card_description_length,
            )  # fmt: skip
        card_row = await outbound.to_topic(
            db, ticket, self.cfg, "text", outbound.html(text, markup)
        )
        await store.update(
            db, ticket.id, now, topic_id=None, topic_outbox_id=None, card_outbox_id=card_row,
            card_message_id=None, card_edit_outbox_id=None, card_edit_at=None,
        )  # fmt: skip

    async def _recreate_topic(self, db: Executor, row: OutboxRow, ticket_id: int) -> None:
        ticket = await store.get(db, ticket_id, for_update=True)
        now = self.clock.now()
        current = (row.thread_id is not None and row.thread_id == ticket.topic_id) or (
            row.thread_ref is not None and row.thread_ref == ticket.topic_outbox_id
        )
        # the card of an abandoned topic (only the card carries a keyboard): the no-topics
        # fallback already queued a new card, so it must not be sent a second time
        was_card = row.id == ticket.card_outbox_id or "reply_markup" in row.payload
        if current:
            recent = await history.events_since(
                db, ticket.id, EventKind.TOPIC_RECREATED, now - timedelta(hours=1)
            )
            if recent >= MAX_RECREATIONS_PER_HOUR:
                return  # the chat keeps refusing: stop rather than loop
            old_topic = ticket.topic_id
            ticket = await outbound.open_topic(db, ticket, self.cfg, now)
            await history.add_event(
                db, ticket.id, EventKind.TOPIC_RECREATED, at=now,
                details={"old_topic_id": old_topic, "outbox_id": row.id},
            )  # fmt: skip
            await outbound.notice(db, ticket, self.cfg, "recreated")
        if row.kind in _NOT_RESENT or was_card:
            return
        thread_id, thread_ref = outbound.topic_target(ticket)
        again = await outbox.enqueue(
            db,
            OutboxMessage(
                chat_id=row.chat_id,
                kind=row.kind,  # type: ignore[arg-type]
                payload=row.payload,
                thread_id=thread_id,
                thread_ref=thread_ref,
                ref_id=None if thread_id or thread_ref else ticket.card_outbox_id,
                owner=row.owner,
                priority=PRIORITY_INTERACTIVE,
            ),
        )
        if again is not None:
            await history.move_relay(db, row.id, again)

    async def on_migrated(self, db: Executor, old_chat_id: int, new_chat_id: int) -> None:
        await store.follow_chat_migration(db, old_chat_id, new_chat_id)
