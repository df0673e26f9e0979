"""A real Alertmanager (Debian package) posts to our receiver on loopback: firing, then
resolved. Its payloads are kept as fixtures (QC_RECORD_FIXTURES=1 rewrites them)."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiohttp
import asyncpg
import pytest
from aiohttp import web

from tests.integration.alerts.real_alertmanager import BINARY, alertmanager
from tests.integration.alerts.test_webhook import TOKEN, fold, receiver
from tests.net import serve
from tests.waiting import at_most

FIXTURES = Path(__file__).parent / "fixtures"

pytestmark = pytest.mark.skipif(BINARY is None, reason="prometheus-alertmanager not installed")


async def test_a_real_alertmanager_fires_and_resolves_into_our_pipeline(
    pool: asyncpg.Pool,
) -> None:
    seen: list[dict] = []  # type: ignore[type-arg]

    async with receiver(pool) as url, aiohttp.ClientSession() as forward:

        async def record(request: web.Request) -> web.Response:
            """Keeps what Alertmanager sent, then passes it on to the real receiver."""
            body = await request.read()
            headers = {"Authorization": request.headers.get("Authorization", "")}
            async with forward.post(url, data=body, headers=headers) as answer:
                if answer.status == 200:
                    seen.append(json.loads(body))
                return web.Response(status=answer.status, body=await answer.read())

        app = web.Application()
        app.router.add_post("/record", record)
        async with serve(app) as proxy:
            await _fire_and_resolve(pool, f"{proxy}/record", seen)
    await fold(pool)
    resolved = next(p for p in seen if p["status"] == "resolved")
    assert resolved["version"] == "4"
    assert await pool.fetchval("SELECT count(*) FROM alerts WHERE state = 'resolved'") == 3
    assert await pool.fetchval("SELECT count(*) FROM alerts") == 3
    if os.environ.get("QC_RECORD_FIXTURES") == "1":
        FIXTURES.mkdir(exist_ok=True)
        (FIXTURES / "am_0.25_firing.json").write_text(json.dumps(seen[0], indent=2) + "\n")
        (FIXTURES / "am_0.25_resolved.json").write_text(json.dumps(resolved, indent=2) + "\n")


async def _fire_and_resolve(
    pool: asyncpg.Pool,
    url: str,
    seen: list[dict],  # type: ignore[type-arg]
) -> None:
    """Three alerts into a real Alertmanager, then the same alerts ended."""
    async with alertmanager(url, TOKEN) as am:
        now = datetime.now(UTC)
        alerts = [
            {
                "labels": {
                    "alertname": "PaymentErrors",
                    "severity": "critical",
                    "instance": f"api-{n}",
                    "job": "quickcart",
                },
                "annotations": {
                    "summary": "Payment API errors <5xx> & timeouts",
                    "runbook_url": "https://runbooks.example/payments",
                },
                "startsAt": now.isoformat(),
                "generatorURL": "http://prometheus.local/graph?g0.expr=up",
            }
            for n in range(3)
        ]
        async with aiohttp.ClientSession() as session:
            async with session.post(f"{am}/api/v2/alerts", json=alerts) as response:
                assert response.status == 200
            await at_most(30, lambda: seen, every=0.1)
            assert seen and seen[0]["status"] == "firing"
            await fold(pool)  # what the inbox's consumer does in the bot
            assert await pool.fetchval("SELECT count(*) FROM alerts WHERE state = 'firing'") == 3
            ended = (datetime.now(UTC) - timedelta(seconds=1)).isoformat()
            for alert in alerts:
                alert["endsAt"] = ended
            async with session.post(f"{am}/api/v2/alerts", json=alerts) as response:
                assert response.status == 200
            await at_most(30, lambda: any(p["status"] == "resolved" for p in seen), every=0.1)
