"""The outbox hook for rows owned by "incident:<ticket id>".

A page refused because its person never pressed Start (403 "bot can't initiate conversation
with a user") is not lost: the person is marked and the admin chat told once
(services/delivery/not_started.py), and the page goes to the admin chat, mentioning them.
An edit of a copy that never arrived is nothing to report; any other refusal is told to the
operator as every undelivered message is.

Registered by the assembly: `hooks.register("incident", IncidentDeliveryHook(ctx))`.
"""

from __future__ import annotations

from dataclasses import replace

from services.delivery.errors import MESSAGE_NOT_FOUND, PermanentError
from services.delivery.hooks import DeliveryHook
from services.delivery.not_started import never_started, refused
from services.delivery.outbound import tell_operator
from services.delivery.rows import OutboxRow
from services.escalation import outbound, store
from services.escalation.context import EscalationContext
from services.storage.types import Executor
from services.tickets import briefs as tickets


def _dedup_of(row: OutboxRow) -> str:
    """The step a page belonged to: its dedup key is "inc:<ticket>:<step>:<chat>"."""
    parts = (row.dedup_key or "").split(":")
    return parts[2] if len(parts) >= 4 else f"row{row.id}"


class IncidentDeliveryHook(DeliveryHook):
    def __init__(self, ctx: EscalationContext) -> None:
        self.ctx = ctx

    async def on_failed(self, db: Executor, row: OutboxRow, error: PermanentError) -> None:
        if row.kind.startswith("edit") and error.reason == MESSAGE_NOT_FOUND:
            return  # the copy never arrived (its own failure was handled when it happened)
        paged_elsewhere = (
            row.kind == "text"
            and row.chat_id > 0
            and never_started(error)
            and await self._page_in_admin_chat(db, row)
        )
        if paged_elsewhere:
            return
        await tell_operator(db, row, error, self.ctx.admin_chat_id)

    async def _page_in_admin_chat(self, db: Executor, row: OutboxRow) -> bool:
        if self.ctx.admin_chat_id is None:
            return False
        member = await refused(db, row.chat_id, self.ctx.admin_chat_id)
        sent = await store.copy_sent_as(db, row.id)
        if member is None or sent is None:
            return False
        ticket_id, copy = sent
        await store.drop_copy(db, row.id)
        incident = await store.get(db, ticket_id)
        ticket = await tickets.brief(db, ticket_id)
        if incident is None or ticket is None or incident.resolved_at is not None:
            return True  # over already: nothing left to page anyone about
        await outbound.page_people(
            db,
            self.ctx,
            incident,
            ticket,
            [replace(member, not_started=True)],
            variant=copy.variant,  # type: ignore[arg-type]
            dedup=_dedup_of(row),
        )
        return True
