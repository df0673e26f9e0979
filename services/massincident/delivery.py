"""Outbox results of a fan-out (owner "pubupd:<update id>"): each row sent, blocked (403: the
customer blocked the bot, counted and not retried) or failed is counted on its update, and the
card shows the progress ("sent 312 / 500"), edited at most every few seconds.

Registered by the assembly: `hooks.register("pubupd", FanOutDeliveryHook(mctx, clock))`."""

from __future__ import annotations

from typing import Any

from services.clock import Clock
from services.delivery.errors import FORBIDDEN, PermanentError
from services.delivery.hooks import DeliveryHook, owner_id
from services.delivery.rows import OutboxRow
from services.massincident import card, store
from services.massincident import store_updates as updates
from services.massincident.config import MassContext
from services.storage.types import Executor

# The card is refreshed every this many rows (and at the last): the edit itself is throttled,
# this only spares the queries.
REFRESH_EVERY = 10


class FanOutDeliveryHook(DeliveryHook):
    def __init__(self, mctx: MassContext, clock: Clock) -> None:
        self.mctx = mctx
        self.clock = clock

    async def _counted(self, db: Executor, row: OutboxRow, column: str) -> None:
        update_id = owner_id(row.owner, "pubupd")
        if update_id is None:
            return
        now = self.clock.now()
        progress = await updates.count(db, update_id, column, now)
        if progress is None:
            return
        if progress.done % REFRESH_EVERY == 0 or progress.done >= progress.total:
            # Throttled, the resolution's progress too: only the resolution itself edits the
            # card at once (card.refresh's default once the incident has ended).
            await card.refresh(db, self.mctx, progress.ticket_id, now, at_once=False)

    async def on_sent(self, db: Executor, row: OutboxRow, result: dict[str, Any]) -> None:
        await self._counted(db, row, "sent")

    async def on_failed(self, db: Executor, row: OutboxRow, error: PermanentError) -> None:
        if error.reason == FORBIDDEN:
            await store.set_blocked(db, row.chat_id, self.clock.now())
            await self._counted(db, row, "blocked")
        else:
            await self._counted(db, row, "failed")
