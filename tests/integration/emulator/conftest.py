"""A fresh emulator per test, a real aiogram Bot pointed at it, and the people's client."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from aiogram import Bot
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.enums import ParseMode

from sandbox.telegram import EmulatorClient, EmulatorConfig, LimitConfig, TelegramEmulator
from tests.cast import ALICE, BUDI

STAFF = 2001


@pytest.fixture
def config() -> EmulatorConfig:
    """Limits off by default; the tests about limits switch them on."""
    return EmulatorConfig(limits=LimitConfig(enabled=False))


@pytest.fixture
async def emulator(config: EmulatorConfig) -> AsyncIterator[TelegramEmulator]:
    async with TelegramEmulator(config) as running:
        yield running


def make_bot(emulator: TelegramEmulator, timeout: float = 10.0) -> Bot:
    session = AiohttpSession(api=TelegramAPIServer.from_base(emulator.base_url), timeout=timeout)
    return Bot(
        emulator.token, session=session, default=DefaultBotProperties(parse_mode=ParseMode.HTML)
    )


@pytest.fixture
async def bot(emulator: TelegramEmulator, tg: EmulatorClient) -> AsyncIterator[Bot]:
    """The bot, talking to a world where Alice, Budi and Sari exist."""
    bot = make_bot(emulator)
    yield bot
    await bot.session.close()


@pytest.fixture
async def tg(emulator: TelegramEmulator) -> AsyncIterator[EmulatorClient]:
    async with EmulatorClient(emulator.base_url) as client:
        # all three already pressed Start in a private chat with the bot
        await client.create_user(ALICE, "Alice", username="alice", language_code="en", started=True)
        await client.create_user(BUDI, "Budi", username="budi", language_code="id", started=True)
        await client.create_user(STAFF, "Sari", username="sari_staff", started=True)
        yield client
