"""Direct replies (a `/health` card, a menu) sent from handlers without the outbox.

`ReliableRequests` is an aiogram session request middleware: sends and edits pass the same
per-chat / global token buckets as the delivery worker (Redis, shared by replicas); a 429
is waited out (`retry_after`, the chat paused for everyone) and resent; 5xx and network
errors are retried with backoff. Handlers never see a transient error, only one that
outlasted `max_attempts` or a wait longer than `max_wait`.

    session.middleware(ReliableRequests(RateLimiter(redis, config.limits, clock)))
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable
from dataclasses import KW_ONLY, dataclass
from typing import Any

from aiogram import Bot
from aiogram.client.session.middlewares.base import BaseRequestMiddleware, NextRequestMiddlewareType
from aiogram.exceptions import (
    TelegramEntityTooLarge,
    TelegramNetworkError,
    TelegramRetryAfter,
    TelegramServerError,
)
from aiogram.methods import GetUpdates, Response, TelegramMethod
from aiogram.methods.base import TelegramType
from loguru import logger

from services.delivery import metrics
from services.delivery.ratelimit import RateLimiter

NEW_MESSAGE = frozenset(
    {
        "SendMessage",
        "SendPhoto",
        "SendDocument",
        "CopyMessage",
        "ForwardMessage",
        "SendMediaGroup",
        "SendAnimation",
        "SendAudio",
        "SendVideo",
        "SendVoice",
        "SendSticker",
        "SendLocation",
        "SendPoll",
    }
)
EDITS = frozenset(
    {"EditMessageText", "EditMessageCaption", "EditMessageReplyMarkup", "EditMessageMedia"}
)


@dataclass(eq=False)  # compared by identity, as a middleware is
class ReliableRequests(BaseRequestMiddleware):
    limiter: RateLimiter | None = None
    _: KW_ONLY
    max_attempts: int = 5
    max_wait: float = 30.0
    backoff_base: float = 0.5
    backoff_cap: float = 8.0
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep

    async def __call__(
        self,
        make_request: NextRequestMiddlewareType[TelegramType],
        bot: Bot,
        method: TelegramMethod[TelegramType],
    ) -> Response[TelegramType]:
        name = type(method).__name__
        if name == GetUpdates.__name__:  # long polling has its own backoff
            return await make_request(bot, method)
        chat_id = getattr(method, "chat_id", None)
        limited = isinstance(chat_id, int) and (name in NEW_MESSAGE or name in EDITS)
        attempt = 0
        while True:
            attempt += 1
            if limited and self.limiter is not None:
                assert isinstance(chat_id, int)
                await self._take_token(chat_id, name in NEW_MESSAGE)
            try:
                return await make_request(bot, method)
            except TelegramRetryAfter as exc:
                if attempt >= self.max_attempts or exc.retry_after > self.max_wait:
                    raise
                metrics.RETRY_AFTER.inc()
                metrics.DIRECT_RETRIES.labels(reason="retry_after").inc()
                logger.warning("{} got 429; retrying in {}s", name, exc.retry_after)
                if limited and self.limiter is not None:
                    assert isinstance(chat_id, int)
                    await self.limiter.pause(chat_id, exc.retry_after)
                else:
                    await self.sleep(exc.retry_after)
            except (TelegramServerError, TelegramNetworkError) as exc:
                if isinstance(exc, TelegramEntityTooLarge) or attempt >= self.max_attempts:
                    raise
                delay = min(self.backoff_cap, self.backoff_base * 2 ** (attempt - 1))
                delay *= 0.5 + random.random() / 2
                metrics.DIRECT_RETRIES.labels(reason=type(exc).__name__).inc()
                logger.warning("{} failed ({}); retrying in {:.2f}s", name, exc.message, delay)
                await self.sleep(delay)

    async def _take_token(self, chat_id: int, new_message: bool) -> None:
        assert self.limiter is not None
        waited = 0.0
        while True:
            wait = await self.limiter.try_acquire(chat_id, chat_token=new_message)
            if wait <= 0 or waited >= self.max_wait:
                return  # past max_wait we send anyway and let Telegram's answer decide
            await self.sleep(wait)
            waited += wait


def install(bot: Bot, limiter: RateLimiter | None, **options: Any) -> ReliableRequests:
    """Add the middleware to the bot's session (for the Bot that handlers reply with)."""
    middleware = ReliableRequests(limiter, **options)
    bot.session.middleware(middleware)
    return middleware
