"""Factories: the Bot, the Dispatcher with its middlewares and routers, the command menus.

Nothing is built at import time; `bot.runtime` calls these with what it owns.
"""

from __future__ import annotations

from typing import Any

import asyncpg
from aiogram import Bot, Dispatcher
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.enums import ParseMode
from aiogram.types import BotCommand, BotCommandScopeAllPrivateChats, BotCommandScopeChat
from aiogram.utils.i18n import I18n
from redis.asyncio import Redis

import handlers
from bot.fsm import HintedFSM, HintedStorage
from bot.metrics import BotApiMetrics
from bot.middlewares import (
    LocaleMiddleware,
    MetricsMiddleware,
    PersonMiddleware,
)
from bot.settings import Settings
from handlers.refusals import Refusals
from services import i18n as service_i18n


def create_bot(settings: Settings, *, timeout: float = 30.0) -> Bot:
    settings.require("BOT_TOKEN")
    assert settings.BOT_TOKEN is not None
    session = AiohttpSession(
        api=TelegramAPIServer.from_base(settings.TELEGRAM_API_URL), timeout=timeout
    )
    session.middleware(BotApiMetrics())
    return Bot(
        settings.BOT_TOKEN,
        session=session,
        default=DefaultBotProperties(parse_mode=ParseMode.HTML),
    )


def create_i18n(settings: Settings) -> I18n:
    service_i18n.compile_catalogues()
    service_i18n.set_default_locale(settings.DEFAULT_LOCALE)
    return I18n(
        path=service_i18n.LOCALES_DIR,
        default_locale=settings.DEFAULT_LOCALE,
        domain=service_i18n.DOMAIN,
    )


def create_dispatcher(
    settings: Settings,
    pool: asyncpg.Pool,
    redis: Redis,
    *,
    fsm_redis: Redis | None = None,
    **workflow: Any,
) -> Dispatcher:
    """The production dispatcher. `workflow` adds services handlers receive by name.

    It is fed from the inbox (bot/intake.py), which already de-duplicates updates and hands
    each conversation's updates over one at a time, in order, across replicas: the FSM state
    aiogram reads before the handlers is therefore never read by two updates of one chat."""
    storage = HintedStorage(fsm_redis or redis, pool)
    # Handlers get built objects (bot/features.py), never Settings or RULES_FILE themselves.
    # aiogram's FSM middleware reads the state before the person is known; ours after
    # (bot/fsm.py), so it is not installed (disable_fsm) and HintedFSM takes its place.
    dp = Dispatcher(storage=storage, disable_fsm=True, pool=pool, redis=redis, **workflow)
    dp.update.outer_middleware(MetricsMiddleware())
    person = PersonMiddleware(pool)
    locale = LocaleMiddleware(create_i18n(settings), pool)
    fsm = HintedFSM(storage)
    for observer in (dp.message, dp.callback_query, dp.edited_message, dp.message_reaction):
        observer.outer_middleware(person)
        observer.outer_middleware(locale)
        observer.outer_middleware(fsm)
        # inside the locale: a refusal is answered in the chat's language
        observer.middleware(Refusals())
    dp.include_routers(*handlers.tree())
    return dp


def _commands(pairs: list[tuple[str, str]], language: str) -> list[BotCommand]:
    with service_i18n.use_locale(language):
        return [
            BotCommand(command=name, description=service_i18n.gettext(text)) for name, text in pairs
        ]


async def register_commands(bot: Bot, settings: Settings) -> None:
    """Customer menu in private chats; each staff chat's menu only in that chat."""
    menus: list[
        tuple[BotCommandScopeAllPrivateChats | BotCommandScopeChat, list[tuple[str, str]]]
    ] = [(BotCommandScopeAllPrivateChats(), handlers.CUSTOMER_COMMANDS)]
    for chat_id, pairs in (
        (settings.ADMIN_CHAT_ID, handlers.ADMIN_COMMANDS),
        (settings.SUPPORT_CHAT_ID, handlers.SUPPORT_COMMANDS),
        (settings.INCIDENT_CHAT_ID, handlers.ROOM_COMMANDS),
    ):
        if chat_id is not None:
            menus.append((BotCommandScopeChat(chat_id=chat_id), pairs))
    for language in service_i18n.LANGUAGES:
        code = None if language == settings.DEFAULT_LOCALE else language
        for scope, pairs in menus:
            await bot.set_my_commands(_commands(pairs, language), scope=scope, language_code=code)
