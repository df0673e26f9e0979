"""A real Alertmanager (Debian package) posts to our receiver on loopback: firing, then
resolved. Its payloads are kept as fixtures (QC_RECORD_FIXTURES=1 rewrites them)."""

from __future__ import annotations

import asyncio
import json
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiohttp
import asyncpg
import pytest
from aiohttp import web

from tests.integration.alerts.real_alertmanager import BINARY, alertmanager
from tests.integration.alerts.test_webhook import TOKEN, receiver

FIXTURES = Path(__file__).parent / "fixtures"

pytestmark = pytest.mark.skipif(BINARY is None, reason="prometheus-alertmanager not installed")


async def test_a_real_alertmanager_fires_and_resolves_into_our_pipeline(
    pool: asyncpg.Pool,
) -> None:
    seen: list[dict] = []  # type: ignore[type-arg]

    @web.middleware
    async def record(request: web.Request, handler):  # type: ignore[no-untyped-def]
        body = await request.read()
        response = await handler(request)
        if response.status == 200:
            seen.append(json.loads(body))
        return response

    async with receiver(pool, middlewares=[record]) as url:
        async with alertmanager(url, TOKEN) as am:
            now = datetime.now(UTC)
            alerts = [
                {
                    "labels": {"alertname": "PaymentErrors", "severity": "critical",
                               "instance": f"api-{n}", "job": "quickcart"},
                    "annotations": {"summary": "Payment API errors <5xx> & timeouts",
                                    "runbook_url": "https://runbooks.example/payments"},
                    "startsAt": now.isoformat(),
                    "generatorURL": "http://prometheus.local/graph?g0.expr=up",
                }
                for n in range(3)
            ]
            async with aiohttp.ClientSession() as session:
                async with session.post(f"{am}/api/v2/alerts", json=alerts) as response:
                    assert response.status == 200
                for _ in range(100):
                    if seen:
                        break
                    await asyncio.sleep(0.1)
                assert seen and seen[0]["status"] == "firing"
                assert await pool.fetchval(
                    "SELECT count(*) FROM alerts WHERE state = 'firing'") == 3
                ended = (datetime.now(UTC) - timedelta(seconds=1)).isoformat()
                for alert in alerts:
                    alert["endsAt"] = ended
                async with session.post(f"{am}/api/v2/alerts", json=alerts) as response:
                    assert response.status == 200
                for _ in range(150):
                    if any(p["status"] == "resolved" for p in seen):
                        break
                    await asyncio.sleep(0.1)
    resolved = next(p for p in seen if p["status"] == "resolved")
    assert resolved["version"] == "4"
    assert await pool.fetchval("SELECT count(*) FROM alerts WHERE state = 'resolved'") == 3
    assert await pool.fetchval("SELECT count(*) FROM alerts") == 3
    if os.environ.get("QC_RECORD_FIXTURES") == "1":
        FIXTURES.mkdir(exist_ok=True)
        (FIXTURES / "am_0.25_firing.json").write_text(json.dumps(seen[0], indent=2) + "\n")
        (FIXTURES / "am_0.25_resolved.json").write_text(json.dumps(resolved, indent=2) + "\n")
