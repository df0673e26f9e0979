"""Cache cleanup, real Redis: SCAN by pattern; stale TTL-less sessions go, live ones get a TTL."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from zoneinfo import ZoneInfo

import redis.asyncio as aioredis

from jobs.context import JobDeps
from jobs.runner import run_now
from services.checks.config import Targets
from services.maintenance.cache import CachePolicy, cleanup_sessions
from services.maintenance.runs import RunStatus

WEEK_AND_A_DAY = 8 * 24 * 3600


async def _idle_key(client: aioredis.Redis, key: str, value: str, idle_s: int) -> None:
    """A key nobody touched for `idle_s` (RESTORE ... IDLETIME sets the LRU clock)."""
    await client.set(key, value)
    dumped = await client.dump(key)
    await client.execute_command("RESTORE", key, 0, dumped, "REPLACE", "IDLETIME", idle_s)  # type: ignore[no-untyped-call]


async def _seed(client: aioredis.Redis) -> None:
    await client.set("session:live-with-ttl", "a", ex=3600)
    await _idle_key(client, "session:abandoned", "b" * 2000, WEEK_AND_A_DAY)
    await client.set("session:in-use-no-ttl", "c")
    await _idle_key(client, "cart:abandoned", "d", WEEK_AND_A_DAY)  # not a session
    for n in range(300):
        await _idle_key(client, f"session:old-{n}", "x" * 500, WEEK_AND_A_DAY)


async def test_stale_sessions_are_deleted_and_live_ones_get_an_expiry(
    redis_client: aioredis.Redis,
) -> None:
    await _seed(redis_client)

    result = await cleanup_sessions(redis_client, CachePolicy(batch=50))

    assert result.scanned == 303
    assert result.deleted == 301
    assert result.ttl_assigned == 1
    assert await redis_client.exists("session:abandoned") == 0
    assert await redis_client.exists("session:live-with-ttl") == 1
    assert 0 < await redis_client.ttl("session:in-use-no-ttl") <= 24 * 3600
    assert await redis_client.ttl("cart:abandoned") == -1
    assert result.memory_before > result.memory_after > 0


async def test_a_dry_run_deletes_nothing(redis_client: aioredis.Redis) -> None:
    await _seed(redis_client)

    result = await cleanup_sessions(redis_client, CachePolicy(), dry_run=True)

    assert result.deleted == 301
    assert await redis_client.exists("session:abandoned") == 1
    assert await redis_client.ttl("session:in-use-no-ttl") == -1


async def test_the_cache_cleanup_job_records_what_it_did(
    make_deps: Callable[..., JobDeps], redis_client: aioredis.Redis, redis_url: str
) -> None:
    await _seed(redis_client)
    deps = make_deps(
        datetime(2026, 11, 3, 3, 0, tzinfo=ZoneInfo("Asia/Jakarta")),
        targets=Targets(monitor_redis_url=redis_url),
        rules={"maintenance": {"cache": {"max_deleted": 100}}},
    )

    run = await run_now("cache_cleanup", deps, triggered_by="cli")

    assert run.details["deleted"] == 100
    assert run.details["truncated"] is True
    assert run.status is RunStatus.WARN  # stopped at the cap: more to do next night
    assert "100 stale sessions deleted" in run.summary
