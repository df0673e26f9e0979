"""A fresh emulator per test, a real aiogram Bot pointed at it, and the people's client."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from aiogram import Bot

from sandbox.telegram import EmulatorClient, TelegramEmulator
from tests.bots import make_bot
from tests.cast import ALICE, BUDI

STAFF = 2001


@pytest.fixture
async def bot(emulator: TelegramEmulator, tg: EmulatorClient) -> AsyncIterator[Bot]:
    """The bot, talking to a world where Alice, Budi and Sari exist."""
    bot = make_bot(emulator.base_url, emulator.token)
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
