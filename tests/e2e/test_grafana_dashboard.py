"""The Grafana dashboard shipped in docs/grafana reads only metrics the bot exposes: the real
bot (the production `create_app`, its monitoring loop turning) is scraped on /metrics, and every
metric name in every panel's query is there."""

from __future__ import annotations

import json
import re
from pathlib import Path

import aiohttp
from prometheus_client.parser import text_string_to_metric_families

from bot.monitor import MonitorConfig
from tests.e2e.conftest import World, fast_rules
from tests.waiting import eventually

DASHBOARD = Path(__file__).parents[2] / "docs" / "grafana" / "quickcart-ops.json"
METRIC = re.compile(r"\bqc_[a-z0-9_]+\b")
SUFFIXES = {
    "counter": ("_total",),
    "histogram": ("_bucket", "_sum", "_count"),
    "summary": ("_sum", "_count"),
}


def panel_metrics() -> dict[str, set[str]]:
    dashboard = json.loads(DASHBOARD.read_text(encoding="utf-8"))
    found: dict[str, set[str]] = {}
    for panel in dashboard["panels"]:
        for target in panel["targets"]:
            found.setdefault(panel["title"], set()).update(METRIC.findall(target["expr"]))
    return found


async def scrape(world: World) -> tuple[set[str], set[str]]:
    """(every series name /metrics can hold, the names that have samples now)."""
    async with (
        aiohttp.ClientSession() as http,
        http.get(world.http_base + "/metrics") as response,
    ):
        assert response.status == 200
        text = await response.text()
    names: set[str] = set()
    sampled: set[str] = set()
    for family in text_string_to_metric_families(text):
        names.add(family.name)
        names.update(family.name + s for s in SUFFIXES.get(family.type, ()))
        sampled.update(s.name for s in family.samples)
    return names | sampled, sampled


async def test_every_panel_reads_a_metric_the_bot_exposes(world_unstarted: World) -> None:
    world = world_unstarted
    world.rules = fast_rules(
        alerts={"rules": []},
        heartbeats={"checks": [{"name": "cron", "period": "1h", "grace": "5m",
                                "ping_key": "5bf66975-d4c7-4bf5-bcc8-b8d8a82ea278"}]},
    )  # fmt: skip
    world.monitor = MonitorConfig(probe_interval=24 * 3600, tick_interval=0.2)
    await world.start_bot()
    await eventually(
        "the first probe run", lambda: world.pool.fetchval("SELECT count(*) > 0 FROM check_runs")
    )
    async with aiohttp.ClientSession() as http:
        ping = world.http_base + "/ping/5bf66975-d4c7-4bf5-bcc8-b8d8a82ea278"
        await eventually("the check from RULES_FILE", lambda: _ok(http, ping), timeout=10)

    async def refreshed() -> bool:
        return {"qc_alerts", "qc_tickets_open", "qc_heartbeats"} <= (await scrape(world))[1]

    await eventually("the loop's gauges", refreshed, timeout=10)
    exposed, sampled = await scrape(world)
    wanted = panel_metrics()
    assert len(wanted) >= 10
    missing = {title: sorted(m - exposed) for title, m in wanted.items() if m - exposed}
    assert not missing, f"panels read metrics /metrics does not have: {missing}"
    # the heartbeat, alert, ticket and probe panels have data right away, zeros included
    for name in (
        "qc_check_status",
        "qc_check_duration_seconds",
        "qc_alerts",
        "qc_tickets_sla_breached",
        "qc_heartbeats",
        "qc_heartbeat_pings_total",
        "qc_outbox_retry_after_total",
    ):
        assert name in sampled, name


async def _ok(http: aiohttp.ClientSession, url: str) -> bool:
    async with http.get(url) as response:
        return response.status == 200
