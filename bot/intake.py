"""The front door: Telegram updates go into the inbox before Telegram is told they arrived.

Polling confirms an update (asks for the next offset) only after its batch is stored; the
webhook answers 200 only after the update is stored, 5xx while PostgreSQL is down (Telegram
retries), 4xx for what can never be stored. The inbox worker then feeds stored updates to
the dispatcher (`dispatcher_feed`).
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import json
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import asyncpg
from aiogram import Bot, Dispatcher
from aiogram.types import Update
from aiohttp import web
from loguru import logger
from pydantic import ValidationError
from redis.asyncio import Redis

from bot import botapi_json
from bot import metrics as bot_metrics
from services import outbox
from services.clock import Clock
from services.delivery import errors
from services.inbox import metrics, store
from services.inbox.config import InboxConfig
from services.inbox.worker import Feed, InboxWorker, Together
from services.storage.outage import is_outage
from services.tickets import run_relay
from services.tickets.config import DeskConfig

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"  # noqa: S105 (a header name)
MAX_UPDATE_BYTES = 1024 * 1024  # an update is a few kilobytes; a megabyte is not one


Answers = Callable[[set[str]], Awaitable[None]]


def dispatcher_feed(dp: Dispatcher, bot: Bot, answers: Answers | None = None) -> Feed:
    """Hand one stored update to the dispatcher; its errors reach the inbox worker. Once its
    handlers are done (their transactions committed), `answers` sends what they queued for
    people at once (services.outbox.noting_answers); an update that failed sends nothing
    here: it will be handled again."""

    async def feed(payload: dict[str, Any]) -> None:
        update = Update.model_validate(payload, context={"bot": bot})
        with outbox.noting_answers() as queued:
            await dp.feed_update(bot, update)
        await _send_at_once(answers, queued, update.update_id)

    return feed


def run_relay_feed(
    pool: asyncpg.Pool,
    redis: Redis,
    desk_config: DeskConfig,
    clock: Clock,
    answers: Answers | None = None,
) -> Together:
    """A customer's waiting texts into their ticket at once (services/tickets/run_relay.py),
    before the dispatcher: the inbox worker offers every run here first; what this does not
    take goes to `dispatcher_feed`, one update at a time."""

    async def together(payloads: list[dict[str, Any]]) -> int:
        started = time.perf_counter()
        with outbox.noting_answers() as queued:
            taken = await run_relay.relay_run(pool, redis, desk_config, clock, payloads)
        if taken:
            bot_metrics.UPDATES.labels(outcome="handled").inc(taken)
            bot_metrics.HANDLER_LATENCY.labels(update_type="message").observe(
                time.perf_counter() - started
            )
            await _send_at_once(answers, queued, payloads[0].get("update_id"))
        return taken

    return together


async def _send_at_once(answers: Answers | None, queued: set[str], update_id: Any) -> None:
    """Once handlers are done (their transactions committed), `answers` sends what they
    queued for people at once; the delivery loop is the record and the retry path."""
    if queued and answers is not None:
        try:
            await answers(queued)
        except Exception:  # handled and committed: the loop sends them; never handled twice
            logger.exception("sending the answers of update {} at once failed", update_id)


class Poller:
    """Long polling that never confirms an update before it is stored."""

    def __init__(
        self,
        bot: Bot,
        pool: asyncpg.Pool,
        worker: InboxWorker,
        config: InboxConfig,
        allowed_updates: Sequence[str],
        *,
        timeout: int = 25,
    ) -> None:
        self.bot = bot
        self.pool = pool
        self.worker = worker
        self.config = config
        self.allowed_updates = list(allowed_updates)
        self.timeout = timeout
        self._stop = asyncio.Event()

    async def stop(self) -> None:
        self._stop.set()

    async def run(self) -> None:
        offset: int | None = None
        failures = 0
        while not self._stop.is_set():
            try:
                updates = await self._get(offset)
            except errors.RetryAfter as exc:
                await self._pause(exc.seconds)
                continue
            except errors.TransientError as exc:  # network, timeout, 5xx, 409, 401
                failures += 1
                logger.warning("getUpdates failed ({}); retrying", exc)
                await self._pause(self.config.backoff(failures))
                continue
            failures = 0
            if not updates:
                continue
            if not await self._keep(updates):
                return  # stopping with the batch unstored: Telegram still has it
            offset = updates[-1]["update_id"] + 1
            self.worker.wake()

    async def _get(self, offset: int | None) -> list[dict[str, Any]]:
        """The next batch as Telegram sent it (JSON, stored as it is). The stop event cancels
        a long poll that is waiting; nothing is confirmed by it."""
        poll = asyncio.ensure_future(self._poll(offset))
        stopping = asyncio.ensure_future(self._stop.wait())
        try:
            await asyncio.wait({poll, stopping}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            stopping.cancel()
        if not poll.done():
            poll.cancel()
            return []
        return poll.result()

    async def _poll(self, offset: int | None) -> list[dict[str, Any]]:
        params = {
            "offset": offset,
            "timeout": self.timeout,
            "allowed_updates": self.allowed_updates,
        }
        result = await botapi_json.post(self.bot, "getUpdates", params, self.timeout + 10)
        if not isinstance(result, list) or not all(
            isinstance(u, dict) and isinstance(u.get("update_id"), int) for u in result
        ):
            raise errors.TransientError(f"getUpdates answered no list of updates: {result!r:.200}")
        return result

    async def _keep(self, payloads: list[dict[str, Any]]) -> bool:
        """Store the batch, waiting out a PostgreSQL outage; False if stopped meanwhile."""
        attempt = 0
        while True:
            try:
                stored = await store.store(self.pool, payloads, self.config.flood)
            except Exception as exc:
                if not is_outage(exc):
                    raise
                attempt += 1
                metrics.INTAKE_REFUSED.inc()
                logger.warning("inbox unreachable ({}); updates stay unconfirmed", exc)
                if self._stop.is_set():
                    return False
                await self._pause(self.config.backoff(attempt))
                continue
            _count(stored)
            return True

    async def _pause(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stop.wait(), seconds)


def _count(stored: store.Stored) -> None:
    metrics.STORED.labels(outcome="accepted").inc(stored.accepted)
    metrics.STORED.labels(outcome="throttled").inc(stored.throttled)
    metrics.STORED.labels(outcome="duplicate").inc(stored.duplicates)


class WebhookIntake:
    """`POST /telegram/webhook`: who is calling, then store, then 200."""

    def __init__(
        self, pool: asyncpg.Pool, worker: InboxWorker, config: InboxConfig, secret: str
    ) -> None:
        self.pool = pool
        self.worker = worker
        self.config = config
        self.secret = secret.encode()
        self.closed = False

    def close(self) -> None:
        """Shutting down: Telegram keeps what arrives now and sends it again."""
        self.closed = True

    async def handle(self, request: web.Request) -> web.Response:
        given = request.headers.get(SECRET_HEADER, "").encode()
        if not hmac.compare_digest(given, self.secret):
            return _refuse(401, "wrong or missing secret token")
        if self.closed:
            return _refuse(503, "shutting down, retry later")
        if request.content_length is not None and request.content_length > MAX_UPDATE_BYTES:
            return _refuse(413, "an update is never this large")
        try:
            body = await request.content.read(MAX_UPDATE_BYTES + 1)
        except (ConnectionError, asyncio.IncompleteReadError):
            return _refuse(400, "the body was cut short")
        if len(body) > MAX_UPDATE_BYTES:
            return _refuse(413, "an update is never this large")
        payload = _parse(body)
        if isinstance(payload, str):
            return _refuse(400, payload)
        try:
            stored = await store.store(self.pool, [payload], self.config.flood)
        except Exception as exc:
            if not is_outage(exc):
                raise
            metrics.INTAKE_REFUSED.inc()
            logger.warning("inbox unreachable ({}); Telegram will retry", type(exc).__name__)
            return web.json_response({"error": "store unavailable, retry later"}, status=503)
        _count(stored)
        self.worker.wake()
        return web.json_response({"ok": True})


def _parse(body: bytes) -> dict[str, Any] | str:
    """The update as a dict, or why it is not one (the answer is a 4xx: never retried)."""
    try:
        payload = json.loads(body)
    except (ValueError, RecursionError):
        return "the body is not JSON"
    if not isinstance(payload, dict):
        return "an update is a JSON object"
    try:
        Update.model_validate(payload)
    except (ValidationError, RecursionError):
        return "the body is not a Telegram update"
    update_id = payload.get("update_id")
    if not isinstance(update_id, int) or not 0 <= update_id < 2**63:
        return "update_id is missing or out of range"
    return payload


def _refuse(status: int, reason: str) -> web.Response:
    return web.json_response({"error": reason}, status=status)
