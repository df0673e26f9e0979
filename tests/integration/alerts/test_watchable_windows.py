"""An alert that averages over a window resolves within that window after the repair, and says
which window it uses: the Pakasir outage story, minute by minute."""

from __future__ import annotations

from datetime import timedelta

import asyncpg

from services.alerts import engine
from services.alerts.config import AlertsRules, LogMetric, ProbeMetric, UptimeMetric
from services.clock import FrozenClock
from tests.integration.alerts.conftest import sample

WATCHABLE = timedelta(hours=1)


def _words(window: timedelta) -> str:
    minutes = int(window.total_seconds() // 60)
    if minutes % 60 == 0:
        hours = minutes // 60
        return "the last hour" if hours == 1 else f"{hours} hours"
    return f"{minutes} minutes"


def test_every_averaging_rule_uses_a_window_a_person_can_watch_and_says_which() -> None:
    for rule in AlertsRules().all_rules():
        metric = rule.metric
        averages = isinstance(metric, UptimeMetric | LogMetric) or (
            isinstance(metric, ProbeMetric) and metric.aggregate != "last"
        )
        if not averages:
            continue
        assert metric.window <= WATCHABLE, f"{rule.name} looks back {metric.window}"
        assert _words(metric.window) in rule.summary, f"{rule.name}: {rule.summary!r}"


async def _state(pool: asyncpg.Pool) -> str | None:
    value: str | None = await pool.fetchval(
        "SELECT state FROM alerts WHERE alertname = 'PakasirUptimeLow'"
    )
    return value


async def test_the_gateway_alert_resolves_within_its_window_after_the_repair(
    pool: asyncpg.Pool,
) -> None:
    config = AlertsRules()
    rule = config.rule("PakasirUptimeLow")
    assert rule is not None and isinstance(rule.metric, ProbeMetric)
    clock = FrozenClock()
    for _ in range(24 * 60 // 10):  # a day of healthy probes, every 10 minutes
        await sample(pool, clock.now(), 1, check="payment", key="gateway_up")
        clock.advance(minutes=10)
    for _ in range(5):  # five minutes of 503s, one probe a minute
        await sample(pool, clock.now(), 0, check="payment", key="gateway_up")
        await engine.evaluate(pool, config, clock)
        clock.advance(minutes=1)
    assert await _state(pool) == "firing"
    repaired = clock.now()
    while await _state(pool) == "firing":
        assert clock.now() - repaired <= rule.metric.window, "still firing after its window"
        await sample(pool, clock.now(), 1, check="payment", key="gateway_up")
        await engine.evaluate(pool, config, clock)
        clock.advance(minutes=1)
    assert await _state(pool) == "resolved"
