"""Flood limits and injected trouble, as the delivery worker will meet them."""

from __future__ import annotations

import asyncio

import pytest
from aiogram import Bot
from aiogram.exceptions import TelegramNetworkError, TelegramRetryAfter, TelegramServerError

from sandbox.telegram import (
    EmulatorClient,
    EmulatorConfig,
    FaultConfig,
    LimitConfig,
    TelegramEmulator,
)
from tests.bots import make_bot
from tests.cast import ALICE, BUDI


@pytest.fixture
def emulator_config() -> EmulatorConfig:
    return EmulatorConfig(limits=LimitConfig(enabled=True))


async def test_a_burst_to_one_private_chat_gets_retry_after(bot: Bot, tg: EmulatorClient) -> None:
    for n in range(3):
        await bot.send_message(ALICE, f"burst {n}")
    with pytest.raises(TelegramRetryAfter) as caught:
        await bot.send_message(ALICE, "one too many")
    assert caught.value.retry_after >= 1
    assert "Too Many Requests: retry after " in caught.value.message
    await bot.send_message(BUDI, "another chat is not held back")
    await bot.edit_message_text(text="edits are not counted", chat_id=BUDI, message_id=1)
    stats = await tg.stats()
    assert stats["retry_after"] == {str(ALICE): 1}
    assert stats["sends"]["sendMessage"] == 4


async def test_a_group_takes_twenty_messages_in_any_minute(bot: Bot, tg: EmulatorClient) -> None:
    """Read strictly: 20 in any rolling 60 s, no burst on top; the 21st waits for the first to
    be a minute old. Edits are not counted, but logged."""
    group = await tg.create_chat("Alerts", members=[ALICE])
    first = await bot.send_message(group["id"], "alert 0")
    for n in range(1, 20):
        await bot.send_message(group["id"], f"alert {n}")
    with pytest.raises(TelegramRetryAfter) as caught:
        await bot.send_message(group["id"], "alert 21")
    assert 58 <= caught.value.retry_after <= 60
    await bot.edit_message_text(
        "alert 0 resolved", chat_id=group["id"], message_id=first.message_id
    )
    stats = await tg.stats()
    assert stats["group_window_max"][str(group["id"])] == 20
    assert len(stats["group_edit_times"][str(group["id"])]) == 1


async def test_limits_change_at_run_time(bot: Bot, tg: EmulatorClient) -> None:
    await tg.set_limits(enabled=False)
    for n in range(10):
        await bot.send_message(ALICE, f"free {n}")
    limits = await tg.set_limits(enabled=True, private_burst=1)
    assert limits["private_burst"] == 1
    await bot.send_message(ALICE, "first")
    with pytest.raises(TelegramRetryAfter):
        await bot.send_message(ALICE, "second")


async def test_server_errors_are_injected_deterministically(bot: Bot, tg: EmulatorClient) -> None:
    await tg.set_faults(error_rate=1.0, error_status=502, methods=["sendMessage"])
    with pytest.raises(TelegramServerError, match="Bad Gateway"):
        await bot.send_message(ALICE, "lost?")
    assert (await bot.get_me()).is_bot  # other methods are spared
    await tg.set_faults(error_rate=0.5, seed=7)
    outcomes = []
    for _ in range(10):
        try:
            await bot.send_message(BUDI, "maybe")
            outcomes.append(True)
        except TelegramServerError:
            outcomes.append(False)
        await tg.set_limits(enabled=False)
    assert True in outcomes and False in outcomes
    stats = await tg.stats()
    assert stats["faults_injected"]["sendmessage"] == 1 + outcomes.count(False)


async def test_the_same_seed_gives_the_same_faults() -> None:
    async def run() -> list[bool]:
        config = EmulatorConfig(
            limits=LimitConfig(enabled=False), faults=FaultConfig(error_rate=0.5, seed=3)
        )
        async with TelegramEmulator(config) as emulator:
            bot = make_bot(emulator.base_url, emulator.token)
            results = []
            for _ in range(8):
                try:
                    await bot.get_me()
                    results.append(True)
                except TelegramServerError:
                    results.append(False)
            await bot.session.close()
            return results

    assert await run() == await run()


async def test_a_hanging_method_times_out_until_cleared(bot: Bot, tg: EmulatorClient) -> None:
    await tg.set_faults(hang=True, methods=["sendMessage"])
    with pytest.raises(TelegramNetworkError):
        await bot.send_message(ALICE, "stuck", request_timeout=1)
    pending = asyncio.create_task(bot.send_message(ALICE, "released later"))
    await asyncio.sleep(0.2)
    assert not pending.done()
    await tg.set_faults(hang=False)
    assert (await asyncio.wait_for(pending, 3)).text == "released later"


async def test_latency_slows_every_call(bot: Bot, tg: EmulatorClient) -> None:
    await tg.set_faults(latency=0.3)
    loop = asyncio.get_running_loop()
    started = loop.time()
    await bot.get_me()
    assert loop.time() - started >= 0.3
