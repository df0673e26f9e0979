"""Token buckets in Redis, moved by a frozen clock: what the worker may send, and when."""

from __future__ import annotations

import redis.asyncio as aioredis

from services.clock import FrozenClock
from services.delivery import Limits, RateLimiter

LIMITS = Limits(
    private_per_second=1,
    private_burst=2,
    group_per_minute=20,
    group_burst=3,
    global_per_second=30,
    global_burst=5,
)


async def test_a_private_chat_gets_its_burst_then_one_message_a_second(
    redis_client: aioredis.Redis,
) -> None:
    clock = FrozenClock()
    limiter = RateLimiter(redis_client, LIMITS, clock)
    assert [await limiter.try_acquire(1001) for _ in range(3)] == [0, 0, 1.0]
    clock.advance(seconds=0.5)
    assert await limiter.try_acquire(1001) == 0.5
    clock.advance(seconds=0.5)
    assert await limiter.try_acquire(1001) == 0


async def test_a_group_gets_twenty_a_minute(redis_client: aioredis.Redis) -> None:
    clock = FrozenClock()
    limiter = RateLimiter(redis_client, LIMITS, clock)
    for _ in range(3):
        assert await limiter.try_acquire(-100500) == 0
    assert await limiter.try_acquire(-100500) == 3.0
    clock.advance(seconds=3)
    assert await limiter.try_acquire(-100500) == 0


async def test_the_global_bucket_holds_every_chat_back(redis_client: aioredis.Redis) -> None:
    clock = FrozenClock()
    limiter = RateLimiter(redis_client, LIMITS, clock)
    for chat in range(1, 6):
        assert await limiter.try_acquire(chat) == 0
    assert 0 < await limiter.try_acquire(6) <= 0.034


async def test_a_refused_token_is_not_taken(redis_client: aioredis.Redis) -> None:
    clock = FrozenClock()
    limiter = RateLimiter(redis_client, LIMITS, clock)
    await limiter.try_acquire(1001)
    await limiter.try_acquire(1001)
    for _ in range(10):
        assert await limiter.try_acquire(1001) > 0
    clock.advance(seconds=1)
    assert await limiter.try_acquire(1001) == 0


async def test_a_429_pauses_that_chat_for_every_replica_and_no_other(
    redis_client: aioredis.Redis,
) -> None:
    clock = FrozenClock()
    one = RateLimiter(redis_client, LIMITS, clock)
    other_replica = RateLimiter(redis_client, LIMITS, clock)
    await one.pause(1001, 7)
    assert await other_replica.try_acquire(1001) == 7.0
    assert await other_replica.try_acquire(1001, chat_token=False) == 7.0
    assert await other_replica.try_acquire(1002) == 0
    clock.advance(seconds=7)
    assert await other_replica.try_acquire(1001) == 0


async def test_edits_take_only_a_global_token(redis_client: aioredis.Redis) -> None:
    clock = FrozenClock()
    limiter = RateLimiter(redis_client, LIMITS, clock)
    await limiter.try_acquire(-100500)
    await limiter.try_acquire(-100500)
    await limiter.try_acquire(-100500)
    assert await limiter.try_acquire(-100500, chat_token=False) == 0
