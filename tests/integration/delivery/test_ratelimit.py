"""Send limits in Redis, moved by a frozen clock: what the worker may send, and when."""

from __future__ import annotations

import pytest
import redis.asyncio as aioredis

from services.clock import FrozenClock
from services.delivery import Limits, RateLimiter

LIMITS = Limits(
    private_per_second=1,
    private_burst=2,
    group_per_minute=3,
    group_window_seconds=60,
    global_per_second=30,
    global_burst=5,
)


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock()


@pytest.fixture
def limiter(redis_client: aioredis.Redis, clock: FrozenClock) -> RateLimiter:
    """A replica's limiter on LIMITS, its time the test's frozen clock."""
    return RateLimiter(redis_client, LIMITS, clock)


async def test_a_private_chat_gets_its_burst_then_one_message_a_second(
    limiter: RateLimiter, clock: FrozenClock
) -> None:
    assert [await limiter.try_acquire(1001) for _ in range(3)] == [0, 0, 1.0]
    clock.advance(seconds=0.5)
    assert await limiter.try_acquire(1001) == 0.5
    clock.advance(seconds=0.5)
    assert await limiter.try_acquire(1001) == 0


async def test_a_group_gets_n_sends_in_any_rolling_window(
    limiter: RateLimiter, clock: FrozenClock
) -> None:
    assert await limiter.try_acquire(-100500) == 0
    clock.advance(seconds=10)
    assert await limiter.try_acquire(-100500) == 0
    assert await limiter.try_acquire(-100500) == 0
    # three in the window: the fourth waits until the first is a full window old
    assert await limiter.try_acquire(-100500) == 50.0
    clock.advance(seconds=49.9)
    assert await limiter.try_acquire(-100500) == 0.1  # never early
    clock.advance(seconds=0.1)
    assert await limiter.try_acquire(-100500) == 0
    # and now the two sent at 10 s hold the window until 70 s
    assert await limiter.try_acquire(-100500) == 10.0


async def test_a_group_never_gets_more_than_n_in_any_window_whatever_the_timing(
    redis_client: aioredis.Redis, limiter: RateLimiter, clock: FrozenClock
) -> None:
    """Two replicas asking at random moments: the sends granted, in any 60 s, are at most 3."""
    replicas = [limiter, RateLimiter(redis_client, LIMITS, clock)]
    granted: list[float] = []
    start = clock.now()
    for step in range(600):
        clock.advance(seconds=(step * 7919) % 13 / 10)  # 0–1.2 s, irregular
        if await replicas[step % 2].try_acquire(-100500) == 0:
            granted.append((clock.now() - start).total_seconds())
    most = max(sum(1 for t in granted if s <= t < s + 60) for s in granted)
    assert most == 3
    assert len(granted) >= 3 * (granted[-1] // 61)  # and the budget is used


async def test_the_global_bucket_holds_every_chat_back(
    limiter: RateLimiter, clock: FrozenClock
) -> None:
    for chat in range(1, 6):
        assert await limiter.try_acquire(chat) == 0
    assert 0 < await limiter.try_acquire(6) <= 0.034


async def test_a_refused_token_is_not_taken(limiter: RateLimiter, clock: FrozenClock) -> None:
    await limiter.try_acquire(1001)
    await limiter.try_acquire(1001)
    for _ in range(10):
        assert await limiter.try_acquire(1001) > 0
    clock.advance(seconds=1)
    assert await limiter.try_acquire(1001) == 0


async def test_a_429_pauses_that_chat_for_every_replica_and_no_other(
    redis_client: aioredis.Redis, limiter: RateLimiter, clock: FrozenClock
) -> None:
    one = limiter
    other_replica = RateLimiter(redis_client, LIMITS, clock)
    await one.pause(1001, 7)
    assert await other_replica.try_acquire(1001) == 7.0
    assert await other_replica.try_acquire(1001, chat_token=False) == 7.0
    assert await other_replica.try_acquire(1002) == 0
    clock.advance(seconds=7)
    assert await other_replica.try_acquire(1001) == 0


async def test_edits_take_no_private_token_but_count_in_a_group(
    limiter: RateLimiter, clock: FrozenClock
) -> None:
    await limiter.try_acquire(1001)
    await limiter.try_acquire(1001)
    assert await limiter.try_acquire(1001, chat_token=False) == 0  # a private edit is free
    clock.advance(seconds=1)  # (the global bucket's burst is 5)
    for _ in range(3):
        assert await limiter.try_acquire(-100500, chat_token=False) == 0
    assert await limiter.try_acquire(-100500) == 60.0  # three edits filled the group's window


async def test_a_groups_next_send_goes_to_its_most_urgent_waiting_row_whoever_asks_first(
    redis_client: aioredis.Redis,
) -> None:
    """Rows of several topics (conversations) of one group wait for its budget at once."""
    clock = FrozenClock()
    limits = LIMITS.model_copy(update={"group_window_seconds": 4})
    limiter = RateLimiter(redis_client, limits, clock)
    group = -100777
    for _ in range(3):
        assert await limiter.try_acquire(group) == 0
    alert, page, answer = (5, 40), (0, 90), (2, 41)  # (priority, outbox row id)
    assert await limiter.try_acquire(group, rank=alert) == 4.0
    assert await limiter.try_acquire(group, rank=answer) == 4.0
    assert await limiter.try_acquire(group, rank=page) == 4.0
    clock.advance(seconds=4)  # a slot frees: the alert and the answer ask before the page
    assert await limiter.try_acquire(group, rank=alert) > 0
    assert await limiter.try_acquire(group, rank=answer) > 0
    assert await limiter.try_acquire(group, rank=page) == 0
    clock.advance(seconds=0.001)
    assert await limiter.try_acquire(group, rank=alert) > 0
    assert await limiter.try_acquire(group, rank=answer) == 0
    # a waiter that went away without a word is forgotten after a while
    await limiter.leave(group, alert[1])
    assert await limiter.try_acquire(group) == 0  # the window is full again
    ghost = (1, 7)
    assert await limiter.try_acquire(group, rank=ghost) > 0
    clock.advance(seconds=4)
    assert await limiter.try_acquire(group, rank=alert) > 0  # the ghost still ranks first
    clock.advance(seconds=2)
    assert await limiter.try_acquire(group, rank=alert) == 0
