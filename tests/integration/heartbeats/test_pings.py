"""The ping endpoint on a real aiohttp server (loopback), with the real PostgreSQL and Redis and
a frozen clock: Healthchecks' URLs and answers, the body kept as the log, the rate limit, and a
check going down becoming one alert message with buttons through the normal pipeline."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp
import asyncpg
import pytest
from aiohttp import web
from redis.asyncio import Redis

from bot.features import assemble
from bot.heartbeats_web import add_ping_routes
from bot.keys import CLOCK, FEATURES, POOL, REDIS
from bot.settings import Settings
from services.alerts import pipeline
from services.alerts.config import AlertsRules
from services.clock import FrozenClock
from services.heartbeats import actions, alerting, pings, store
from services.heartbeats.config import HeartbeatsRules
from services.rules import Rules
from tests.integration.alerts.conftest import AUDIENCE, DIMAS, add_people, outbox_rows
from tests.net import serve

T0 = datetime(2026, 12, 1, 1, 0, tzinfo=UTC)
ALERTS = AlertsRules(rules=[])


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(T0)


@pytest.fixture
async def base(pool: asyncpg.Pool, redis_client: Redis, clock: FrozenClock) -> AsyncIterator[str]:
    app = web.Application()
    app[POOL] = pool
    app[REDIS] = redis_client
    app[CLOCK] = clock
    # what the running bot's stores_ctx assembles, from these rules and default settings
    app[FEATURES] = assemble(
        Settings(_env_file=None),  # type: ignore[call-arg]
        Rules({"alerts": {"rules": []}}),
        pool=pool,
        clock=clock,
        redis=redis_client,
        restore_server_url=None,
    )
    add_ping_routes(app)
    async with serve(app) as url:
        yield url


async def add_check(pool: asyncpg.Pool, name: str = "nightly-backup", **kw: Any) -> str:
    await add_people(pool)
    hb = await actions.add(
        pool,
        DIMAS,
        actions.Definition(
            name, kw.get("period", timedelta(days=1)), None, kw.get("grace", timedelta(hours=1))
        ),
        tz="Asia/Jakarta",
        severity="critical",
        chat_id=None,
        now=T0,
    )
    return hb.ping_key


async def hit(base: str, path: str, method: str = "GET", data: bytes | None = None) -> Any:
    async with (
        aiohttp.ClientSession() as http,
        http.request(method, base + path, data=data) as response,
    ):
        return response.status, await response.text(), dict(response.headers)


async def logged(pool: asyncpg.Pool) -> list[Any]:
    return list(await pool.fetch("SELECT * FROM heartbeat_pings ORDER BY id"))


async def test_a_wrong_uuid_is_404_and_a_wrong_status_400(pool: asyncpg.Pool, base: str) -> None:
    key = await add_check(pool)
    assert (await hit(base, f"/ping/{uuid.uuid4()}"))[:2] == (404, "not found")
    assert (await hit(base, f"/ping/{uuid.uuid4()}/fail", "POST", b"x"))[:2] == (404, "not found")
    assert (await hit(base, "/ping/not-a-uuid"))[0] == 404
    assert (await hit(base, f"/ping/{key}/later"))[0] == 404
    assert (await hit(base, f"/ping/{key}/256"))[:2] == (400, "invalid url format")
    assert await logged(pool) == []
    hb = await store.by_key(pool, uuid.UUID(key))
    assert hb is not None and hb.status == "new" and hb.n_pings == 0


async def test_get_head_and_post_ping_and_the_body_is_the_log(
    pool: asyncpg.Pool, base: str, clock: FrozenClock
) -> None:
    key = await add_check(pool)
    status, text, headers = await hit(base, f"/ping/{key}")
    assert (status, text) == (200, "OK")
    assert headers["Ping-Body-Limit"] == "10000"
    assert (await hit(base, f"/ping/{key}", "HEAD"))[0] == 200
    big = ("x" * 9_990 + "<b>ÿ</b>" + "y" * 10_000).encode()
    assert (await hit(base, f"/ping/{key}/0", "POST", big))[:2] == (200, "OK")
    rows = await logged(pool)
    assert [r["kind"] for r in rows] == ["success", "success", "success"]
    assert [r["method"] for r in rows] == ["GET", "HEAD", "POST"]
    last = rows[-1]
    assert last["body_size"] == len(big)
    assert len(last["body"].encode()) <= 10_000  # the first 10,000 bytes, as Healthchecks keeps
    assert last["body"].startswith("x" * 9_990 + "<b>")
    assert last["exit_status"] == 0
    hb = await store.by_key(pool, uuid.UUID(key))
    assert hb is not None and hb.status == "up" and hb.last_ping == T0 and hb.n_pings == 3
    assert hb.last_body == last["body"]


async def test_start_then_success_measures_the_run(
    pool: asyncpg.Pool, base: str, clock: FrozenClock
) -> None:
    key = await add_check(pool)
    await hit(base, f"/ping/{key}/start")
    clock.advance(minutes=4, seconds=2)
    await hit(base, f"/ping/{key}", "POST", b"pg_dump: 1.2 GB written")
    hb = await store.by_key(pool, uuid.UUID(key))
    assert hb is not None and hb.last_duration == timedelta(minutes=4, seconds=2)
    rows = await logged(pool)
    assert [(r["kind"], r["duration"]) for r in rows] == [
        ("start", None),
        ("success", timedelta(minutes=4, seconds=2)),
    ]


async def test_a_fail_ping_fires_an_alert_with_buttons_and_a_success_resolves_it(
    pool: asyncpg.Pool, base: str, clock: FrozenClock
) -> None:
    key = await add_check(pool)
    await hit(base, f"/ping/{key}")
    clock.advance(minutes=1)
    assert (await hit(base, f"/ping/{key}/3", "POST", b"pg_dump: disk full"))[0] == 200
    alert = await pool.fetchrow("SELECT * FROM alerts WHERE source = 'heartbeat'")
    assert alert["state"] == "firing" and alert["alertname"] == "HeartbeatDown"
    assert alert["labels"]["heartbeat"] == "nightly-backup"
    assert alert["severity"] == "critical"
    clock.advance(seconds=30)  # group_wait
    await pipeline.tick(pool, ALERTS, clock, AUDIENCE)
    rows = await outbox_rows(pool)
    assert len(rows) == 1
    text = rows[0]["payload"]["text"]
    assert "HeartbeatDown" in text and "nightly-backup" in text
    assert "reported a failure" in text
    buttons = [
        b["callback_data"]
        for row in rows[0]["payload"]["reply_markup"]["inline_keyboard"]
        for b in row
    ]
    assert any(b.endswith(":ack") for b in buttons)

    clock.advance(minutes=1)
    await hit(base, f"/ping/{key}")
    assert await pool.fetchval("SELECT state FROM alerts WHERE source = 'heartbeat'") == "resolved"
    clock.advance(minutes=5)
    await pipeline.tick(pool, ALERTS, clock, AUDIENCE)
    rows = await outbox_rows(pool)
    assert "✅" in rows[-1]["payload"]["text"]


async def test_a_silent_job_goes_down_at_period_plus_grace(
    pool: asyncpg.Pool, base: str, clock: FrozenClock
) -> None:
    key = await add_check(pool, period=timedelta(hours=1), grace=timedelta(minutes=10))
    await hit(base, f"/ping/{key}")
    clock.advance(minutes=69, seconds=59)
    assert await pings.scan(pool, clock.now(), ALERTS) == []
    clock.advance(seconds=1)
    assert await pings.scan(pool, clock.now(), ALERTS) == ["nightly-backup"]
    assert await pings.scan(pool, clock.now(), ALERTS) == []  # once
    hb = await store.by_key(pool, uuid.UUID(key))
    assert hb is not None and hb.status == "down" and hb.down_reason == "missed"
    clock.advance(seconds=30)
    await pipeline.tick(pool, ALERTS, clock, AUDIENCE)
    rows = await outbox_rows(pool)
    assert len(rows) == 1 and "did not check in on time" in rows[0]["payload"]["text"]


async def test_a_flood_is_rate_limited_without_losing_the_latest_state(
    pool: asyncpg.Pool, base: str, clock: FrozenClock, redis_client: Redis
) -> None:
    key = await add_check(pool)
    limit = HeartbeatsRules().log_per_minute
    await asyncio.gather(*(hit(base, f"/ping/{key}", "POST", b"ok %d" % n) for n in range(40)))
    clock.advance(seconds=1)
    status, text, _ = await hit(base, f"/ping/{key}/fail", "POST", b"the very last word")
    assert (status, text) == (200, "OK")
    assert len(await logged(pool)) == limit  # the log keeps only the minute's allowance
    # the failure changed the check at once, although it came over the limit
    hb = await store.by_key(pool, uuid.UUID(key))
    assert hb is not None
    assert hb.status == "down" and hb.down_reason == "fail"
    assert hb.last_body == "the very last word" and hb.last_ping == clock.now()
    assert await pool.fetchval("SELECT state FROM alerts WHERE source = 'heartbeat'") == "firing"
    # the scan writes the coalesced successes: counted, and older than the failure, so they
    # change nothing else
    await pings.scan(pool, clock.now(), ALERTS, redis_client)
    hb = await store.by_key(pool, uuid.UUID(key))
    assert hb is not None
    assert hb.n_pings == 41 and hb.n_rate_limited == 41 - limit
    assert hb.status == "down" and hb.last_body == "the very last word"
    # the next minute, pings are logged again
    clock.advance(minutes=1)
    await hit(base, f"/ping/{key}")
    assert len(await logged(pool)) == limit + 1


async def test_a_flood_of_successes_costs_one_write_a_scan_and_keeps_the_newest(
    pool: asyncpg.Pool, base: str, clock: FrozenClock, redis_client: Redis
) -> None:
    key = await add_check(pool, period=timedelta(minutes=1), grace=timedelta(minutes=1))
    limit = HeartbeatsRules().log_per_minute
    for n in range(1, 31):  # a job gone wild: a ping a second
        clock.set(T0 + timedelta(seconds=n))
        assert (await hit(base, f"/ping/{key}", "POST", b"run %d" % n))[:2] == (200, "OK")
    hb = await store.by_key(pool, uuid.UUID(key))
    assert hb is not None
    # PostgreSQL saw only the minute's allowance...
    assert hb.last_ping == T0 + timedelta(seconds=limit) and hb.n_pings == limit
    # ...and the scan brings in the newest ping before judging lateness: a check last stored
    # at 01:00:05 would be down at 01:02:05; its newest ping (01:00:30) keeps it up until 01:02:30.
    clock.set(T0 + timedelta(minutes=2, seconds=20))
    assert await pings.scan(pool, clock.now(), ALERTS, redis_client) == []
    hb = await store.by_key(pool, uuid.UUID(key))
    assert hb is not None
    assert hb.last_ping == T0 + timedelta(seconds=30) and hb.last_body == "run 30"
    assert hb.n_pings == 30 and hb.n_rate_limited == 30 - limit
    assert hb.status == "up"
    clock.set(T0 + timedelta(minutes=2, seconds=30))
    assert await pings.scan(pool, clock.now(), ALERTS, redis_client) == ["nightly-backup"]


async def test_checks_defined_in_rules_file_are_created_and_updated(pool: asyncpg.Pool) -> None:
    key = uuid.uuid4()
    rules = HeartbeatsRules.model_validate(
        {
            "checks": [
                {
                    "name": "fraud-retrain",
                    "schedule": "0 3 1 * *",
                    "grace": "2h",
                    "ping_key": str(key),
                }
            ]
        }
    )
    await actions.sync_rules(pool, rules, "Asia/Jakarta", T0)
    hb = await store.by_key(pool, key)
    assert hb is not None and hb.kind == "cron" and hb.source == "rules"
    changed = HeartbeatsRules.model_validate(
        {"checks": [{"name": "fraud-retrain", "period": "1d", "grace": "1h"}]}
    )
    await actions.sync_rules(pool, changed, "Asia/Jakarta", T0)
    again = await store.by_key(pool, key)  # the key is kept
    assert again is not None and again.kind == "simple" and again.period == timedelta(days=1)


async def test_a_down_heartbeat_follows_the_routing_tree_like_any_alert(
    pool: asyncpg.Pool,
) -> None:
    """With `alerts.route` set, HeartbeatDown joins the group its route names (its receivers
    and timings), not the admin chat's default group."""
    routed = AlertsRules.model_validate(
        {
            "rules": [],
            "route": {
                "receiver": "admin",
                "routes": [{"matchers": ['alertname="HeartbeatDown"'], "receiver": "dba"}],
            },
            "receivers": [{"name": "admin", "chats": ["admin"]}, {"name": "dba", "chats": [-1]}],
        }
    )
    await add_check(pool)
    hb = await store.by_name(pool, "nightly-backup")
    assert hb is not None
    async with pool.acquire() as conn, conn.transaction():
        await alerting.went_down(conn, hb, T0, routed)
    group = await pool.fetchrow("SELECT receivers FROM alert_groups")
    assert group["receivers"] == ["dba"]
