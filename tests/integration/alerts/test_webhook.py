"""POST /api/alertmanager on a real aiohttp server on loopback with the real pool: payloads are
appended to the alert inbox and folded into alerts by its consumer (`fold`)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp
import asyncpg
from aiohttp import web

from bot.alertmanager import MAX_BODY, PATH, alertmanager_handler
from services.alerts import inbox
from services.alerts.config import AlertsRules
from services.clock import SystemClock
from tests.net import serve

TOKEN = "s3cret-token"
FIXTURES = Path(__file__).parent / "fixtures"


@asynccontextmanager
async def receiver(
    pool: asyncpg.Pool, token: str | None = TOKEN, middlewares: list[Any] | None = None
) -> AsyncIterator[str]:
    app = web.Application(middlewares=middlewares or [])
    clock = SystemClock()
    app.router.add_post(
        PATH, alertmanager_handler(token=lambda: token, pool=lambda: pool, clock=lambda: clock)
    )
    async with serve(app) as url:
        yield url + PATH


def payload(alerts: list[dict[str, Any]], status: str = "firing") -> dict[str, Any]:
    return {
        "version": "4",
        "groupKey": '{}:{alertname="X"}',
        "truncatedAlerts": 0,
        "status": status,
        "receiver": "quickcart",
        "groupLabels": {},
        "commonLabels": {},
        "commonAnnotations": {},
        "externalURL": "http://am.local",
        "alerts": alerts,
    }


def am_alert(n: int, status: str = "firing", **labels: str) -> dict[str, Any]:
    return {
        "status": status,
        "labels": {"alertname": "DiskFull", "instance": f"db-{n}", "severity": "warning", **labels},
        "annotations": {"summary": "Disk almost full"},
        "startsAt": "2026-11-02T01:00:00Z",
        "endsAt": "2026-11-02T02:00:00Z" if status == "resolved" else "0001-01-01T00:00:00Z",
        "generatorURL": "http://prometheus.local/graph",
        "fingerprint": f"{n:016x}",
    }


async def fold(pool: asyncpg.Pool, config: AlertsRules | None = None) -> inbox.FoldReport:
    """What the inbox's consumer does in the bot: fold every pending payload."""
    return await inbox.fold_all(pool, config or AlertsRules(), SystemClock())


async def nothing_stored(pool: asyncpg.Pool) -> bool:
    return await pool.fetchval(
        "SELECT (SELECT count(*) FROM alert_inbox) = 0 AND (SELECT count(*) FROM alerts) = 0"
    )


def auth(token: str = TOKEN) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def test_missing_or_wrong_token_is_401_and_nothing_is_stored(pool: asyncpg.Pool) -> None:
    async with receiver(pool) as url, aiohttp.ClientSession() as http:
        for headers in ({}, auth("wrong"), {"Authorization": f"Basic {TOKEN}"}):
            async with http.post(url, json=payload([am_alert(1)]), headers=headers) as r:
                assert r.status == 401
    async with (
        receiver(pool, token=None) as url,
        aiohttp.ClientSession() as http,
        http.post(url, json=payload([am_alert(1)]), headers=auth()) as r,
    ):
        assert r.status == 401  # no ALERTMANAGER_TOKEN: the endpoint refuses all
    assert await nothing_stored(pool)


async def test_malformed_json_and_wrong_shapes_are_400_with_the_reason(
    pool: asyncpg.Pool,
) -> None:
    async with receiver(pool) as url, aiohttp.ClientSession() as http:
        async with http.post(url, data=b'{"version": "4",', headers=auth()) as r:
            assert r.status == 400
            assert "malformed JSON" in (await r.json())["error"]
        bad = payload([am_alert(1)])
        bad["version"] = "3"
        async with http.post(url, json=bad, headers=auth()) as r:
            assert r.status == 400
            assert "version" in (await r.json())["error"]
        bad = payload([{**am_alert(1), "startsAt": "yesterday"}])
        async with http.post(url, json=bad, headers=auth()) as r:
            assert r.status == 400
            assert "alerts.0.startsAt" in (await r.json())["error"]
        for bad in ({**payload([]), "alerts": {}}, {**payload([]), "alerts": [{"status": "x"}]}):
            async with http.post(url, json=bad, headers=auth()) as r:
                assert r.status == 400
                assert "alerts" in (await r.json())["error"]
    assert await nothing_stored(pool)


async def test_bodies_over_one_mebibyte_are_413(pool: asyncpg.Pool) -> None:
    huge = payload([{**am_alert(1), "annotations": {"blob": "x" * MAX_BODY}}])
    async with receiver(pool) as url, aiohttp.ClientSession() as http:
        async with http.post(url, json=huge, headers=auth()) as r:
            assert r.status == 413

        async def chunks() -> AsyncIterator[bytes]:  # no Content-Length: counted while read
            for _ in range(20):
                yield b" " * 65536

        async with http.post(url, data=chunks(), headers=auth()) as r:
            assert r.status == 413
    assert await nothing_stored(pool)


async def test_a_thousand_alerts_posted_concurrently_are_all_stored(pool: asyncpg.Pool) -> None:
    batches = [
        payload([am_alert(b * 10 + n, team=f"t{b % 7}") for n in range(10)]) for b in range(100)
    ]
    async with receiver(pool) as url, aiohttp.ClientSession() as http:

        async def post(body: dict[str, Any]) -> int:
            async with http.post(url, json=body, headers=auth()) as r:
                return r.status

        statuses = await asyncio.gather(*(post(b) for b in batches))
    assert statuses == [200] * 100
    assert await pool.fetchval("SELECT sum(alerts) FROM alert_inbox") == 1000
    assert (await fold(pool)).alerts == 1000
    assert await pool.fetchval("SELECT count(*) FROM alerts WHERE state = 'firing'") == 1000
    # grouped by alertname: one open group holds them all
    assert await pool.fetchval("SELECT count(*) FROM alert_groups") == 1
    assert await pool.fetchval("SELECT count(DISTINCT group_id) FROM alerts") == 1


async def test_alertmanager_resolved_closes_the_alert_and_a_stale_firing_does_not_reopen(
    pool: asyncpg.Pool,
) -> None:
    async def state() -> str:
        return await pool.fetchval("SELECT state FROM alerts")

    async with receiver(pool) as url, aiohttp.ClientSession() as http:
        async with http.post(url, json=payload([am_alert(1)]), headers=auth()) as r:
            assert (await r.json())["stored"] == 1
        await fold(pool)
        assert await state() == "firing"
        async with http.post(
            url, json=payload([am_alert(1, "resolved")], "resolved"), headers=auth()
        ) as r:
            assert r.status == 200
        await fold(pool)
        assert await state() == "resolved"
        async with http.post(url, json=payload([am_alert(1)]), headers=auth()) as r:
            assert r.status == 200  # a retry of the old firing
        await fold(pool)
    row = await pool.fetchrow("SELECT state, resolved_at, source, fingerprint FROM alerts")
    assert row["state"] == "resolved" and row["source"] == "alertmanager"
    assert row["resolved_at"] == datetime(2026, 11, 2, 2, 0, tzinfo=UTC)
    assert row["fingerprint"] == f"{1:016x}"  # Alertmanager's own fingerprint identifies it


async def test_recorded_payloads_of_a_real_alertmanager_are_accepted(pool: asyncpg.Pool) -> None:
    firing = json.loads((FIXTURES / "am_0.25_firing.json").read_text())
    resolved = json.loads((FIXTURES / "am_0.25_resolved.json").read_text())
    async with receiver(pool) as url, aiohttp.ClientSession() as http:
        async with http.post(url, json=firing, headers=auth()) as r:
            assert r.status == 200
        await fold(pool)
        assert await pool.fetchval("SELECT count(*) FROM alerts WHERE state = 'firing'") == len(
            firing["alerts"]
        )
        async with http.post(url, json=resolved, headers=auth()) as r:
            assert r.status == 200
        await fold(pool)
    assert await pool.fetchval("SELECT count(*) FROM alerts WHERE state = 'firing'") == 0
