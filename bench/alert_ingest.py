"""Post 10,000 alerts to POST /api/alertmanager in Alertmanager batches of 100 (8 at a time)
against embedded PostgreSQL; print alerts stored per second and the time until every alert
group's message is queued for the admin chat. When `prometheus-alertmanager` is installed,
also print how fast it ingests the same alerts through its own POST /api/v2/alerts.

    .venv/bin/python bench/alert_ingest.py [--alerts 10000] [--batch 100] [--concurrency 8]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.embedded import start_postgres
from services.alerts import notify
from services.alerts.config import AlertsRules
from services.clock import FrozenClock, SystemClock
from services.storage.db import connect, create_pool, migrate
from tests.integration.alerts.real_alertmanager import BINARY, alertmanager
from tests.integration.alerts.test_webhook import TOKEN, payload, receiver

ADMIN_CHAT = -100111


def alerts(total: int) -> list[dict[str, object]]:
    now = datetime.now(UTC).isoformat()
    return [
        {
            "status": "firing",
            "labels": {
                "alertname": f"Bench{n % 100}",
                "instance": f"host-{n}",
                "severity": "warning",
            },
            "annotations": {"summary": "bench"},
            "startsAt": now,
            "endsAt": "0001-01-01T00:00:00Z",
            "generatorURL": "",
            "fingerprint": f"{n:016x}",
        }
        for n in range(total)
    ]


async def post_all(
    url: str, batches: list[object], concurrency: int, headers: dict[str, str]
) -> float:
    gate = asyncio.Semaphore(concurrency)
    async with aiohttp.ClientSession() as http:

        async def one(body: object) -> None:
            async with gate, http.post(url, json=body, headers=headers) as r:
                assert r.status == 200, r.status

        started = time.perf_counter()
        await asyncio.gather(*(one(b) for b in batches))
        return time.perf_counter() - started


async def main(total: int, batch: int, concurrency: int) -> None:
    server = start_postgres(Path(tempfile.mkdtemp(prefix="qc-bench-")) / "pg", delete_on_stop=True)
    try:
        conn = await connect(server.url)
        await migrate(conn)
        await conn.close()
        pool = await create_pool(server.url, min_size=2, max_size=10)
        items = alerts(total)
        batches = [payload(items[i : i + batch]) for i in range(0, total, batch)]
        config = AlertsRules()
        started = time.perf_counter()
        async with receiver(pool) as url:
            took = await post_all(url, batches, concurrency, {"Authorization": f"Bearer {TOKEN}"})
        stored = await pool.fetchval("SELECT count(*) FROM alerts")
        audience = notify.Audience(ADMIN_CHAT, "en", ZoneInfo("Asia/Jakarta"))
        # the receiver groups with the default group_wait (30 s): look as if it has passed
        later = FrozenClock(SystemClock().now() + timedelta(seconds=31))
        await notify.flush_due(pool, config, later, audience)
        shown = time.perf_counter() - started
        groups = await pool.fetchval("SELECT count(*) FROM alert_group_messages")
        print(
            f"bot: {stored} alerts stored in {took:.2f} s = {stored / took:,.0f} alerts/s "
            f"({len(batches)} POSTs of {batch}, {concurrency} at a time)"
        )
        print(
            f"bot: all {groups} group messages (100 alertnames) queued for the admin chat "
            f"{shown:.2f} s after the first POST (group_wait not counted; delivery by the "
            "outbox worker not included)"
        )
        await pool.close()
    finally:
        server.stop()
    if BINARY is None:
        print("alertmanager: not installed, no comparison")
        return
    am_batches = [
        [{k: a[k] for k in ("labels", "annotations", "startsAt")} for a in items[i : i + batch]]
        for i in range(0, total, batch)
    ]
    async with alertmanager("http://127.0.0.1:9/none", TOKEN) as am:
        took = await post_all(f"{am}/api/v2/alerts", am_batches, concurrency, {})
    print(
        f"alertmanager {BINARY}: {total} alerts ingested via /api/v2/alerts in {took:.2f} s "
        f"= {total / took:,.0f} alerts/s"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--alerts", type=int, default=10_000)
    parser.add_argument("--batch", type=int, default=100)
    parser.add_argument("--concurrency", type=int, default=8)
    args = parser.parse_args()
    asyncio.run(main(args.alerts, args.batch, args.concurrency))
