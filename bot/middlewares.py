"""Outer middlewares, in the order the dispatcher runs them:

0. `ChatOrderMiddleware`: updates of one chat are handled one after another, in order.
1. `DedupMiddleware`: an update id is handled once, even when Telegram delivers it twice.
2. `PersonMiddleware`: who sent the update, with their stored language and staff roles,
   arrives in handlers as `person: Person`.
3. `LocaleMiddleware`: aiogram's gettext locale (and services.i18n's) from `person.language`.
4. `MetricsMiddleware`: counts updates and measures handler latency.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any

import asyncpg
from aiogram import BaseMiddleware
from aiogram.dispatcher.event.bases import UNHANDLED
from aiogram.types import Chat, TelegramObject, Update, User
from aiogram.utils.i18n import I18n, I18nMiddleware

from bot import metrics
from services import i18n as service_i18n
from services import users
from services.users import Person

Handler = Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]]


class ChatOrderMiddleware(BaseMiddleware):
    """aiogram handles updates concurrently; a customer's two quick messages must still reach
    the ticket in the order they were written. Tasks start in the order updates arrived, and an
    asyncio.Lock serves waiters first come, first served, so a lock per chat keeps that order."""

    def __init__(self) -> None:
        self._locks: dict[int, tuple[asyncio.Lock, int]] = {}

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        chat: Chat | None = data.get("event_chat")
        if chat is None:
            return await handler(event, data)
        lock, users = self._locks.get(chat.id, (None, 0))
        if lock is None:
            lock = asyncio.Lock()
        self._locks[chat.id] = (lock, users + 1)
        try:
            async with lock:
                return await handler(event, data)
        finally:
            lock, users = self._locks[chat.id]
            if users <= 1:
                del self._locks[chat.id]
            else:
                self._locks[chat.id] = (lock, users - 1)


class DedupMiddleware(BaseMiddleware):
    """Claims the update id in PostgreSQL before handling; releases it if handling fails,
    so a redelivered update (webhook retry) is handled again rather than lost."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self.pool = pool

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        assert isinstance(event, Update)
        claimed = await self.pool.fetchval(
            "INSERT INTO processed_updates (update_id) VALUES ($1) "
            "ON CONFLICT DO NOTHING RETURNING update_id",
            event.update_id,
        )
        if claimed is None:
            metrics.UPDATES.labels(outcome="duplicate").inc()
            return None
        try:
            return await handler(event, data)
        except BaseException:
            await self.pool.execute(
                "DELETE FROM processed_updates WHERE update_id = $1", event.update_id
            )
            raise


class PersonMiddleware(BaseMiddleware):
    """A message sent on behalf of a chat (a channel, or a group's anonymous admin) names no
    person: Telegram puts a service bot in `from` and the chat in `sender_chat`. Nobody's roles
    can be checked, so it becomes an unknown person with none (`users.unknown`), refused and
    audited like anyone without a role, never `None` ("the bot itself" to some services)."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self.pool = pool

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        user: User | None = data.get("event_from_user")
        on_behalf = getattr(event, "sender_chat", None)  # a Message's aiogram Chat, or None
        if on_behalf is not None:
            data["person"] = users.unknown(on_behalf.id, on_behalf.title or "")
        elif user is not None and user.is_bot:
            data["person"] = users.unknown(user.id, user.first_name)
        elif user is not None:
            data["person"] = await users.touch(
                self.pool,
                user.id,
                first_name=user.first_name,
                last_name=user.last_name,
                username=user.username,
            )
        else:
            data["person"] = None
        return await handler(event, data)


class LocaleMiddleware(I18nMiddleware):
    """The person's stored choice; people who never chose get DEFAULT_LOCALE."""

    def __init__(self, i18n: I18n) -> None:
        super().__init__(i18n=i18n)

    async def get_locale(self, event: TelegramObject, data: dict[str, Any]) -> str:
        person: Person | None = data.get("person")
        if person is not None and person.language in self.i18n.available_locales:
            return person.language
        return self.i18n.default_locale

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        locale = await self.get_locale(event, data)
        with service_i18n.use_locale(locale):
            return await super().__call__(handler, event, data)


class MetricsMiddleware(BaseMiddleware):
    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        assert isinstance(event, Update)
        kind = event.event_type
        started = time.perf_counter()
        outcome = "error"
        try:
            result = await handler(event, data)
            outcome = "unhandled" if result is UNHANDLED else "handled"
            return result
        finally:
            metrics.UPDATES.labels(outcome=outcome).inc()
            metrics.HANDLER_LATENCY.labels(update_type=kind).observe(time.perf_counter() - started)
