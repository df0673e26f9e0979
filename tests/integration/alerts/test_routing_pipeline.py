"""Routed and inhibited alerts through the real alert loop: PostgreSQL, the outbox, the clock.

Alertmanager's alerts arrive as its webhook delivers them (`alertmanager.ingest`); the bot's own
rules fire from stored probe samples; `pipeline.tick` turns the loop as the scheduler does."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import asyncpg

from services.alerts import alertmanager, pipeline
from services.alerts.config import AlertsRules
from services.alerts.render_lists import render_overview
from services.clock import FrozenClock
from services.i18n import use_locale
from tests.integration.alerts.conftest import (
    ADMIN_CHAT,
    AUDIENCE,
    DIMAS,
    SECURITY_CHAT,
    TZ,
    add_people,
    cpu_only,
    outbox_rows,
    sample,
)

SUPPORT_CHAT = -100333
OPS_ROOM = -100444
ROUTED = replace(AUDIENCE, support_chat_id=SUPPORT_CHAT, security_chat_id=SECURITY_CHAT)

SECTION: dict[str, Any] = {
    "telegram_chats": {"ops-room": OPS_ROOM},
    "route": {
        "receiver": "admin",
        "group_wait": "30s",
        "routes": [
            {
                "matchers": ['team="payments"', 'severity="critical"'],
                "receiver": "payments-pager",
                "group_wait": "5s",
                "repeat_interval": "1h",
            },
            {"matchers": ['team="payments"'], "receiver": "payments", "group_wait": "2m"},
            {"matchers": ['alertname="CpuHigh"'], "receiver": "ops"},
            {"matchers": ['team="fraud"'], "receiver": "fraud", "continue": True},
            {"matchers": ['team=~"fraud|risk"'], "receiver": "nobody"},
            {"matchers": ['team="dba"'], "receiver": "dba"},
            {"matchers": ['team="ops"'], "receiver": "ops", "group_by": ["team"]},
        ],
    },
    "receivers": [
        {"name": "admin", "chats": ["admin"]},
        {"name": "payments-pager", "chats": ["support", "security"], "roles": ["senior_engineer"]},
        {"name": "payments", "chats": ["support"]},
        {"name": "ops", "chats": ["ops-room"]},
        {"name": "fraud", "chats": ["security"]},
        {"name": "nobody"},
        {"name": "dba", "roles": ["dba"]},  # nobody holds it: the admin chat instead
    ],
}


def routed(**extra: Any) -> AlertsRules:
    return AlertsRules.model_validate({**SECTION, **extra})


async def send(
    pool: asyncpg.Pool,
    config: AlertsRules,
    clock: FrozenClock,
    *alerts: dict[str, str],
    status: str = "firing",
) -> None:
    """Alertmanager's webhook with these alerts (their labels)."""
    payload = alertmanager.AmPayload.model_validate(
        {
            "version": "4",
            "groupKey": "{}:{}",
            "status": status,
            "receiver": "quickcart",
            "alerts": [
                {
                    "status": status,
                    "labels": labels,
                    "startsAt": clock.now().isoformat(),
                    "endsAt": clock.now().isoformat() if status == "resolved" else None,
                }
                for labels in alerts
            ],
        }
    )
    await alertmanager.ingest(pool, payload, config, clock.now())


async def tick(pool: asyncpg.Pool, config: AlertsRules, clock: FrozenClock, seconds: int) -> None:
    clock.advance(seconds=seconds)
    await pipeline.tick(pool, config, clock, ROUTED, evaluate_rules=False)


async def chats(pool: asyncpg.Pool) -> list[int]:
    return sorted(r["chat_id"] for r in await outbox_rows(pool, None) if r["kind"] == "text")


async def test_a_routed_alert_reaches_its_receivers_chats_and_the_on_call_person(
    pool: asyncpg.Pool, clock: FrozenClock
) -> None:
    await add_people(pool)
    await pool.execute(
        "INSERT INTO oncall_slots (role, user_id) VALUES ('senior_engineer', $1)", DIMAS.id
    )
    config = routed()
    await send(
        pool, config, clock, {"alertname": "QrisDown", "team": "payments", "severity": "critical"}
    )
    await tick(pool, config, clock, 5)  # the route's group_wait, not the root's 30 s
    assert await chats(pool) == sorted([SUPPORT_CHAT, SECURITY_CHAT, DIMAS.id])
    texts = [r["payload"]["text"] for r in await outbox_rows(pool, DIMAS.id)]
    assert texts and "Firing: QrisDown" in texts[0]
    assert await outbox_rows(pool, ADMIN_CHAT) == []
    # repeat_interval of the route: 1 h, not the section's 4 h
    await tick(pool, config, clock, 3600)
    assert len(await outbox_rows(pool, SUPPORT_CHAT)) == 2


async def test_a_route_waits_its_own_group_wait(pool: asyncpg.Pool, clock: FrozenClock) -> None:
    config = routed()
    await send(pool, config, clock, {"alertname": "SlowRefunds", "team": "payments"})
    await tick(pool, config, clock, 60)
    assert await chats(pool) == []
    await tick(pool, config, clock, 60)
    assert await chats(pool) == [SUPPORT_CHAT]


async def test_continue_adds_receivers_and_a_null_receiver_pushes_nowhere(
    pool: asyncpg.Pool, clock: FrozenClock
) -> None:
    config = routed()
    await send(
        pool,
        config,
        clock,
        {"alertname": "FraudBurst", "team": "fraud"},
        {"alertname": "RiskScore", "team": "risk", "severity": "critical"},
    )
    await tick(pool, config, clock, 30)
    assert await chats(pool) == [SECURITY_CHAT]  # fraud -> security; risk -> nobody
    view = await pipeline.overview(pool, clock.now())
    assert {a.alertname for a in view.firing} == {"FraudBurst", "RiskScore"}  # still listed
    incidents: list[Any] = []

    async def open_incident(conn: Any, request: Any) -> int:
        incidents.append(request.title)
        return 1

    clock.advance(hours=5)  # past repeat_interval: the fraud chat is reminded, nobody else
    await pipeline.tick(
        pool, config, clock, ROUTED, evaluate_rules=False, open_incident=open_incident
    )
    assert await chats(pool) == [SECURITY_CHAT, SECURITY_CHAT]
    assert incidents == []  # RiskScore is critical, but routed to nobody: no incident


async def test_a_receiver_nobody_can_take_falls_back_to_the_admin_chat(
    pool: asyncpg.Pool, clock: FrozenClock
) -> None:
    config = routed()
    await send(pool, config, clock, {"alertname": "ReplicaLag", "team": "dba"})
    await tick(pool, config, clock, 30)
    assert await chats(pool) == [ADMIN_CHAT]


async def test_the_bots_own_rules_follow_the_tree(pool: asyncpg.Pool, clock: FrozenClock) -> None:
    cpu = cpu_only()
    config = AlertsRules.model_validate(
        {**SECTION, "rules": [r.model_dump(by_alias=True) for r in cpu.rules]}
    )
    for _ in range(7):
        await sample(pool, clock.now(), 95)
        await pipeline.tick(pool, config, clock, ROUTED)
        clock.advance(minutes=1)
    assert await chats(pool) == [OPS_ROOM]
    group = await pool.fetchrow("SELECT receivers, channels, group_key FROM alert_groups")
    assert group["receivers"] == ["ops"] and group["channels"] == []  # not the rule's slack


async def test_gateway_down_inhibits_the_payment_rate_until_it_resolves(
    pool: asyncpg.Pool, clock: FrozenClock
) -> None:
    config = AlertsRules()  # no tree; QuickCart's default inhibit rules
    gateway = {"alertname": "PakasirUptimeLow", "severity": "critical"}
    rate = {"alertname": "PaymentSuccessRateLow", "severity": "critical"}
    await send(pool, config, clock, gateway, rate)
    await tick(pool, config, clock, 30)
    texts = [r["payload"]["text"] for r in await outbox_rows(pool)]
    assert len(texts) == 1 and "Firing: PakasirUptimeLow" in texts[0]
    inhibited = await pool.fetchrow(
        "SELECT a.inhibited_by, s.alertname AS source FROM alerts a"
        " JOIN alerts s ON s.fingerprint = a.inhibited_by"
        " WHERE a.alertname = 'PaymentSuccessRateLow'"
    )
    assert inhibited["source"] == "PakasirUptimeLow"
    view = await pipeline.overview(pool, clock.now())
    assert [(a.alertname, s.alertname) for a, s in view.inhibited] == [
        ("PaymentSuccessRateLow", "PakasirUptimeLow")
    ]
    assert [a.alertname for a in view.firing] == ["PakasirUptimeLow"]
    with use_locale("en"):
        shown = render_overview(view, TZ)
    assert "<b>Inhibited (1)</b>" in shown and "🔇 by <b>PakasirUptimeLow</b>" in shown
    with use_locale("id"):
        assert "Diredam (1)" in render_overview(view, TZ)
    for _ in range(10):  # while the gateway is down, the rate alert stays quiet
        await tick(pool, config, clock, 60)
    assert len(await outbox_rows(pool)) == 1
    await send(pool, config, clock, gateway, status="resolved")
    for _ in range(6):  # looked at again within group_interval
        await tick(pool, config, clock, 60)
    texts = [r["payload"]["text"] for r in await outbox_rows(pool) if r["kind"] == "text"]
    assert len(texts) == 2 and "Firing: PaymentSuccessRateLow" in texts[1]
    assert await pool.fetchval("SELECT count(*) FROM alerts WHERE inhibited_by IS NOT NULL") == 0


async def test_an_alert_already_pushed_is_marked_inhibited_in_its_message(
    pool: asyncpg.Pool, clock: FrozenClock
) -> None:
    config = AlertsRules()
    rate = {"alertname": "PaymentSuccessRateLow", "severity": "critical"}
    await send(pool, config, clock, rate)
    await tick(pool, config, clock, 30)
    await send(pool, config, clock, {"alertname": "TargetDown", "check": "payment"})
    for _ in range(6):
        await tick(pool, config, clock, 60)
    rows = await outbox_rows(pool)
    edits = [r for r in rows if r["kind"] == "edit"]
    assert edits and "inhibited by TargetDown" in edits[-1]["payload"]["text"]
    # and nothing the bot computes from other data was inhibited
    assert await pool.fetchval("SELECT count(*) FROM alerts WHERE inhibited_by IS NOT NULL") == 1


async def test_a_route_grouping_by_team_puts_different_alerts_in_one_message(
    pool: asyncpg.Pool, clock: FrozenClock
) -> None:
    config = routed()
    await send(pool, config, clock, {"alertname": "DiskFull", "team": "ops", "host": "a"})
    await send(pool, config, clock, {"alertname": "LoadHigh", "team": "ops", "host": "b"})
    await tick(pool, config, clock, 30)
    rows = await outbox_rows(pool, OPS_ROOM)
    assert len(rows) == 1
    text = rows[0]["payload"]["text"]
    assert "DiskFull, LoadHigh" in text.splitlines()[0]
    assert "alertname=DiskFull" in text and "alertname=LoadHigh" in text
    assert await pool.fetchval("SELECT count(*) FROM alert_groups") == 1
