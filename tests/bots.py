"""A real aiogram Bot talking to a local Bot API server (the emulator), as the tests make it."""

from __future__ import annotations

from aiogram import Bot
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.enums import ParseMode


def make_bot(base_url: str, token: str, timeout: float = 10.0) -> Bot:
    """The bot at `base_url` with the production default parse mode (HTML); close its session."""
    session = AiohttpSession(api=TelegramAPIServer.from_base(base_url), timeout=timeout)
    return Bot(token, session=session, default=DefaultBotProperties(parse_mode=ParseMode.HTML))
