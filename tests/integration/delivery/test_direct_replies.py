"""Direct replies from handlers: the session middleware hides 429s and 5xx from them."""

from __future__ import annotations

import redis.asyncio as aioredis
from aiogram import Bot

from bot.session import install
from sandbox.telegram import EmulatorClient
from services.clock import SystemClock
from services.delivery import RateLimiter
from tests.cast import ALICE

from .conftest import FAST_LIMITS


async def test_a_handler_replying_three_times_fast_never_sees_telegrams_429(
    bot: Bot, tg: EmulatorClient, redis_client: aioredis.Redis
) -> None:
    await tg.set_limits(enabled=True, private_per_second=1, private_burst=1)
    install(bot, RateLimiter(redis_client, FAST_LIMITS, SystemClock()))

    for n in range(3):
        await bot.send_message(ALICE, f"/health card {n}")

    texts = [m["text"] for m in await tg.messages(ALICE)]
    assert texts == ["/health card 0", "/health card 1", "/health card 2"]
    assert (await tg.stats())["retry_after_total"] >= 1, "Telegram did refuse, and it was hidden"


async def test_a_reply_through_a_flaky_gateway_is_retried_until_it_lands(
    bot: Bot, tg: EmulatorClient, redis_client: aioredis.Redis
) -> None:
    await tg.set_faults(error_rate=0.5, error_status=502, seed=3, methods=["sendMessage"])
    install(
        bot,
        RateLimiter(redis_client, FAST_LIMITS, SystemClock()),
        max_attempts=10,
        backoff_base=0.01,
    )

    for n in range(6):
        await bot.send_message(ALICE, f"menu {n}")

    assert [m["text"] for m in await tg.messages(ALICE)] == [f"menu {n}" for n in range(6)]
    assert (await tg.stats())["faults_injected_total"] >= 1


async def test_the_shared_bucket_keeps_direct_replies_under_the_private_limit(
    bot: Bot, tg: EmulatorClient, redis_client: aioredis.Redis
) -> None:
    await tg.set_limits(enabled=True, private_per_second=5, private_burst=2)
    limits = FAST_LIMITS.model_copy(update={"private_per_second": 4.0, "private_burst": 1})
    install(bot, RateLimiter(redis_client, limits, SystemClock()))

    for n in range(6):
        await bot.send_message(ALICE, f"step {n}")

    assert (await tg.stats())["retry_after_total"] == 0
