"""The Redis probe against a real Redis near its maxmemory, with sessions that never expire."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from services.checks.model import Status
from services.checks.probes import redis_probe
from services.checks.runner import run_one


@pytest.fixture
async def monitored(redis_client) -> AsyncIterator:
    yield redis_client
    await redis_client.config_set("maxmemory", 0)
    await redis_client.flushall()


async def test_redis_near_its_maxmemory_is_critical(make_ctx, redis_url, monitored):
    await monitored.set("blob", "x" * 2_000_000)
    used = (await monitored.info("memory"))["used_memory"]
    await monitored.config_set("maxmemory", int(used / 0.93))
    result = await run_one("redis", redis_probe.probe, make_ctx(monitor_redis_url=redis_url))
    assert result.status is Status.CRIT
    assert 90 < result.value("memory_percent") < 96
    assert "maxmemory" in result.summary


async def test_sessions_without_ttl_are_counted_and_warned_about(make_ctx, redis_url, monitored):
    await monitored.set("session:alice", "1", ex=3600)
    await monitored.set("session:budi", "1")
    await monitored.set("session:citra", "1")
    await monitored.set("cart:alice", "1")
    result = await run_one("redis", redis_probe.probe, make_ctx(monitor_redis_url=redis_url))
    assert result.status is Status.WARN
    assert result.value("session_keys") == 3
    assert result.value("session_keys_without_ttl") == 2
    assert result.summary == "2 of 3 session keys (session:*) never expire."


async def test_a_healthy_redis_reports_clients_and_hit_ratio(make_ctx, redis_url, monitored):
    await monitored.set("session:alice", "1", ex=60)
    await monitored.get("session:alice")
    await monitored.get("missing")
    result = await run_one("redis", redis_probe.probe, make_ctx(monitor_redis_url=redis_url))
    assert result.status is Status.OK, result.summary
    assert result.value("connected_clients") >= 1
    assert result.value("hit_ratio_percent") is not None
    assert result.value("evicted_keys") == 0


async def test_an_unreachable_redis_is_critical(make_ctx, tmp_path):
    ctx = make_ctx(monitor_redis_url=f"unix://{tmp_path}/no.sock")
    result = await run_one("redis", redis_probe.probe, ctx)
    assert result.status is Status.CRIT
    assert result.summary.startswith("Redis cannot be reached")
