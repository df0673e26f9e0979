"""Outer middlewares, in the order the dispatcher runs them (bot/app.py):

Updates arrive from the inbox (bot/intake.py), which de-duplicates them and hands one
conversation's updates over one at a time, in order; no middleware needs to do either.

1. `MetricsMiddleware` (on every update): counts updates and measures handler latency.
2. `PersonMiddleware`: who sent the update, with their stored language and staff roles,
   arrives in handlers as `person: Person`. A staff member writing in private has pressed
   Start, so the bot may page them privately again (`roster.started_privately`).
3. `LocaleMiddleware`: aiogram's gettext locale (and services.i18n's): in a private chat the
   person's stored language, in a group the chat's own (`services.chats`), whoever writes.

Inside them, around each handler, `handlers.refusals.Refusals` answers a refusal of the
permission table in that language.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import Any

import asyncpg
from aiogram import BaseMiddleware
from aiogram.dispatcher.event.bases import UNHANDLED
from aiogram.types import TelegramObject, Update, User
from aiogram.utils.i18n import I18n, I18nMiddleware

from bot import metrics
from services import chats, roster, users
from services import i18n as service_i18n
from services.users import Person

Handler = Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]]


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
            chat = data.get("event_chat")
            if data["person"].is_staff and chat is not None and chat.type == "private":
                await roster.started_privately(self.pool, user.id)
        else:
            data["person"] = None
        return await handler(event, data)


class LocaleMiddleware(I18nMiddleware):
    """One language per chat: in a group the chat's language (whoever writes or presses), in a
    private chat the person's stored choice; nobody's choice gives DEFAULT_LOCALE."""

    def __init__(self, i18n: I18n, pool: asyncpg.Pool) -> None:
        super().__init__(i18n=i18n)
        self.pool = pool

    async def get_locale(self, event: TelegramObject, data: dict[str, Any]) -> str:
        chat = data.get("event_chat")
        if chat is not None and chat.type != "private":
            return await chats.chat_language(self.pool, chat.id, self.i18n.default_locale)
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
