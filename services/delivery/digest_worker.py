"""Storm digests, the worker's side: folding rows into digests and sending / editing the digest
messages (the digests' own rows and texts are digest_store.py)."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import asyncpg
from loguru import logger

from services.clock import Clock
from services.delivery import digest_store, errors, metrics
from services.delivery import sender as methods
from services.delivery.config import DeliveryConfig
from services.delivery.hooks import DeliveryHooks
from services.delivery.ratelimit import RateLimiter
from services.delivery.rows import OutboxRow
from services.delivery.sender import Sender
from services.storage.db import transaction


async def fold(
    pool: asyncpg.Pool,
    hooks: DeliveryHooks,
    row: OutboxRow,
    now: datetime,
    config: DeliveryConfig,
) -> int:
    """Fold the row (and its due look-alikes) into a digest; tell their owners."""
    async with transaction(pool) as conn:
        digest_id, folded = await digest_store.coalesce(conn, row, now, config)
        for item in folded:
            hook = hooks.for_owner(item.owner)
            if hook is None:
                continue
            try:
                async with conn.transaction():
                    await hook.on_coalesced(conn, item, digest_id)
            except Exception:
                logger.exception("delivery hook on_coalesced for {} failed", item.owner)
    metrics.COALESCED.inc(len(folded))
    for item in folded:
        metrics.SEND_LATENCY.observe(max(0.0, (now - item.created_at).total_seconds()))
    logger.info("chat {}: {} rows folded into digest {}", row.chat_id, len(folded), digest_id)
    return digest_id


@dataclass(eq=False)
class DigestFlusher:
    """Sends a digest's first message, then edits it, at most every `digest_edit_interval`."""

    pool: asyncpg.Pool
    sender: Sender
    limiter: RateLimiter
    clock: Clock
    config: DeliveryConfig

    async def flush_dirty(self) -> None:
        for digest_id in await digest_store.dirty(self.pool, self.clock.now(), self.config):
            await self.flush(digest_id)

    async def flush(self, digest_id: int) -> None:
        now = self.clock.now()
        claimed = await digest_store.claim_render(self.pool, digest_id, now, self.config)
        if claimed is None:
            return
        text, count = await digest_store.render(self.pool, claimed, self.config)
        message_id = claimed.message_id
        try:
            if message_id is not None:
                await self._edit(claimed, message_id, text)
            else:
                message_id = await self._send(claimed, text)
        except errors.PermanentError as exc:
            if message_id is None or exc.reason != errors.MESSAGE_NOT_FOUND:
                logger.warning("digest {} could not be sent: {}", digest_id, exc)
                await digest_store.rendered(self.pool, digest_id, 0, message_id, str(exc))
                return
            try:  # the digest message was deleted: post it anew
                message_id = await self._send(claimed, text)
            except errors.DeliveryError as again:
                await self._later(claimed, message_id, again)
                return
        except errors.DeliveryError as exc:
            await self._later(claimed, message_id, exc)
            return
        await digest_store.rendered(self.pool, digest_id, count, message_id)

    async def _send(self, claimed: digest_store.Digest, text: str) -> int:
        await self.limiter.acquire(claimed.chat_id)
        params: dict[str, Any] = {"chat_id": claimed.chat_id, "text": text, "parse_mode": "HTML"}
        if claimed.thread_id is not None:
            params["message_thread_id"] = claimed.thread_id
        answer = await self.sender.call(methods.SEND_MESSAGE, params)
        return int(answer["message_id"])

    async def _edit(self, claimed: digest_store.Digest, message_id: int, text: str) -> None:
        await self.limiter.acquire(claimed.chat_id, chat_token=False)
        params = {
            "chat_id": claimed.chat_id,
            "message_id": message_id,
            "text": text,
            "parse_mode": "HTML",
        }
        with contextlib.suppress(errors.NotModified):
            await self.sender.call(methods.EDIT_TEXT, params)

    async def _later(
        self, claimed: digest_store.Digest, message_id: int | None, exc: errors.DeliveryError
    ) -> None:
        """Left dirty: the next flush after `digest_edit_interval` tries again."""
        if isinstance(exc, errors.RetryAfter):
            metrics.RETRY_AFTER.inc()
            await self.limiter.pause(claimed.chat_id, exc.seconds)
        logger.warning("digest {} not rendered yet: {}", claimed.id, exc)
        await digest_store.rendered(self.pool, claimed.id, 0, message_id, str(exc))
