"""Every metric of the seed's CRITICAL_METRICS has an alert rule, and the sandbox's world panel
can make it fire: a real demo world (its QuickCart database, Pakasir emulator and log files),
the real probes storing their samples in the bot's database, and each rule's own source read
as the alert engine reads it. Before the panel's button the rule holds its peace; after it, the
rule's condition holds.

Two entries are about the bot's own records rather than QuickCart's data (Telegram delivery,
and complaints from the desk's tickets): the panel's buttons for them send demo customers to the
bot in the emulator (sandbox/world/customers.py), and
tests/integration/alerts/test_critical_metrics_bot_side.py presses them in a running sandbox."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from pathlib import Path

import asyncpg
import pytest

from bot.embedded import EmbeddedPostgres
from sandbox.world import panel
from sandbox.world.world import DemoWorld, WorldConfig
from services.alerts.config import AlertsRules
from services.alerts.evaluation import holds
from services.alerts.sources import SourceContext, source_for
from services.checks.config import ChecksRules, Targets
from services.checks.probe import ProbeContext
from services.checks.runner import run_checks

# The seed's CRITICAL_METRICS, group by group.
CRITICAL_METRICS = {
    "system_health": ["uptime_percentage", "response_time_p95", "error_rate"],
    "payment_system": ["payment_success_rate", "pakasir_api_uptime", "average_payment_time"],
    "fraud_detection": ["fraud_detection_rate", "false_positive_rate", "manual_review_queue"],
    "user_experience": [
        "telegram_message_delivery",
        "session_success_rate",
        "user_complaint_rate",
    ],
}


@dataclass(frozen=True)
class Breaks:
    rule: str
    actions: tuple[tuple[str, object], ...]  # the world panel's buttons, in order
    checks: tuple[str, ...] = ()  # the probes that measure it (none: the rule's own SQL)
    undo: tuple[tuple[str, object], ...] = ()


WORLD_PANEL: dict[str, Breaks] = {
    "uptime_percentage": Breaks(
        "UptimeLow", (("gateway_fail", None),), ("payment",), (("gateway_ok", None),)
    ),
    "response_time_p95": Breaks(
        "ResponseTimeP95High", (("web_slow", None),), ("logs",), (("logs_calm", None),)
    ),
    "error_rate": Breaks(
        "ErrorRateHigh", (("logs_errors", None),), ("logs",), (("logs_calm", None),)
    ),
    "payment_success_rate": Breaks(
        "PaymentSuccessRateLow",
        (("success_rate", 0.5), ("speed", 600)),  # half an hour of failing payments
        ("payment",),
        (("speed", 1), ("success_rate", 0.985)),
    ),
    "pakasir_api_uptime": Breaks(
        "PakasirUptimeLow", (("gateway_fail", None),), ("payment",), (("gateway_ok", None),)
    ),
    "average_payment_time": Breaks(
        "PaymentTimeHigh", (("payments_slow", None),), ("payment",), (("payments_fast", None),)
    ),
    "fraud_detection_rate": Breaks("FraudDetectionRateLow", (("fraud_slips", None),), ("fraud",)),
    "false_positive_rate": Breaks(
        "FalsePositiveRateHigh", (("fraud_false_alarms", None),), ("fraud",)
    ),
    "manual_review_queue": Breaks("ManualReviewQueueLong", (("fraud_queue", None),), ("fraud",)),
    "session_success_rate": Breaks(
        "SessionSuccessRateLow", (("sessions_fail", None),), (), (("sessions_ok", None),)
    ),
}
BOT_SIDE: dict[str, Breaks] = {
    "telegram_message_delivery": Breaks("TelegramDeliveryLow", (("customers_block", None),)),
    "user_complaint_rate": Breaks("UserComplaintRateHigh", (("complaints", None),)),
}
PANEL_JS = Path(__file__).parents[3] / "sandbox" / "web" / "world.js"


def test_every_critical_metric_has_a_rule_and_a_button_of_the_panel() -> None:
    names = [m for group in CRITICAL_METRICS.values() for m in group]
    assert len(names) == 12
    assert set(WORLD_PANEL) | set(BOT_SIDE) == set(names)
    rules = {r.name for r in AlertsRules().all_rules()}
    page = PANEL_JS.read_text(encoding="utf-8")
    for metric in names:
        breaks = WORLD_PANEL.get(metric) or BOT_SIDE[metric]
        assert breaks.rule in rules, (metric, breaks.rule)
        for action, _ in breaks.actions:  # a button the panel shows
            assert f'"{action}"' in page, (metric, action)
    assert {a for b in BOT_SIDE.values() for a, _ in b.actions} <= set(panel.CUSTOMER_ACTIONS)


@pytest.fixture
async def world(pg_server: EmbeddedPostgres, empty_db_url: str, tmp_path: Path) -> DemoWorld:
    config = WorldConfig(
        folder=tmp_path / "quickcart",
        demo_url=empty_db_url,
        admin_url=None,
        pg_dump=str(pg_server.bin_dir / "pg_dump"),
    )
    demo = DemoWorld(config)
    await demo.start()
    yield demo  # type: ignore[misc]
    await demo.stop()


async def fires(
    world: DemoWorld, pool: asyncpg.Pool, monitor: asyncpg.Pool, breaks: Breaks
) -> bool:
    """Measure as the monitoring loop does (probes first), then read the rule's source."""
    config = world.config
    targets = Targets(
        monitor_database_url=config.demo_url,
        pakasir_base_url=world.pakasir_url,
        pakasir_project=config.pakasir_project,
        pakasir_api_key=config.pakasir_api_key,
        pakasir_probe_order_id="PROBE-0001",
        log_files=config.log_glob,
    )
    await world.step()
    if breaks.checks:
        ctx = ProbeContext(targets=targets, rules=ChecksRules(), clock=world.clock, db=pool)
        await run_checks(ctx, list(breaks.checks), trigger="schedule")
    rule = AlertsRules().rule(breaks.rule)
    assert rule is not None
    samples = await source_for(rule).read(
        SourceContext(db=pool, monitor_db=monitor), world.clock.now()
    )
    return any(holds(s.value, rule.op, rule.threshold) for s in samples or [])


async def test_each_world_panel_button_makes_its_critical_metric_fire(
    world: DemoWorld, pool: asyncpg.Pool, empty_db_url: str
) -> None:
    monitor = await asyncpg.create_pool(empty_db_url, min_size=1, max_size=2)
    try:
        for metric, breaks in WORLD_PANEL.items():
            assert not await fires(world, pool, monitor, breaks), f"{metric} fires before"
            for action, value in breaks.actions:
                await world.act(action, value)
            if ("speed", 600) in breaks.actions:
                await asyncio.sleep(3)  # 30 demo minutes
            assert await fires(world, pool, monitor, breaks), f"{metric} does not fire"
            for action, value in breaks.undo:
                await world.act(action, value)
    finally:
        await monitor.close()
