"""Routing and inhibition end to end, the monitoring loop ticking under a frozen clock:

- RULES_FILE routes QuickCart's fraud team's alerts to the security chat (SECURITY_CHAT_ID):
  Alertmanager posts FraudSpike{team="fraud"}; it lands in the security chat, not the admin chat,
  and Rina acknowledges it there.
- The Pakasir gateway goes down: the bot's own rules fire PakasirUptimeLow and, a minute later,
  PaymentSuccessRateLow. QuickCart's default inhibit rules keep the second one quiet: only the
  gateway reaches the admin chat, and Rina's /alerts shows the payment rate as inhibited by it.
- The gateway comes back while payments still fail: the gateway alert resolves and the payment
  rate alert, still firing, is pushed then.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import aiohttp

from sandbox.telegram.client import Json
from services.alerts.config import default_rules
from services.checks.model import CheckReport, CheckResult, Sentence, Status, Unit, Value
from services.checks.store import save_report
from tests.cast import ADMIN
from tests.e2e.conftest import World, fast_rules
from tests.e2e.test_alert_story import (
    T0,
    TOKEN,
    alert_messages,
    e2e_clock,  # noqa: F401 (the story's frozen clock, a fixture)
    flush_at,
    start,
    tick_at,
)
from tests.waiting import eventually


def routing_rules() -> Any:
    payment = [
        r.model_dump(by_alias=True)
        for r in default_rules()
        if r.name in ("PakasirUptimeLow", "PaymentSuccessRateLow")
    ]
    return fast_rules(
        alerts={
            "rules": payment,
            "route": {
                "receiver": "admin",
                "routes": [{"matchers": ['team="fraud"'], "receiver": "security"}],
            },
            "receivers": [
                {"name": "admin", "chats": ["admin"]},
                {"name": "security", "chats": ["security"]},
            ],
        }
    )


async def payment_sample(world: World, minute: int, *, gateway_up: bool, success: float) -> None:
    """What the payment probe stores: whether Pakasir answered, and the success rate."""
    at = T0 + timedelta(minutes=minute)
    result = CheckResult(
        name="payment",
        status=Status.OK if gateway_up else Status.CRIT,
        sentence=Sentence("payment"),
        values=(
            Value("gateway_up", 1 if gateway_up else 0, Unit.COUNT),
            Value("success_rate_percent", success, Unit.PERCENT),
        ),
        details=(),
        started_at=at,
        duration_s=0.01,
    )
    await save_report(world.pool, CheckReport(at, 0.01, (result,)), trigger="schedule")


async def post_fraud_alert(world: World) -> None:
    body = {
        "version": "4",
        "groupKey": '{}:{alertname="FraudSpike"}',
        "status": "firing",
        "receiver": "quickcart",
        "alerts": [
            {
                "status": "firing",
                "labels": {"alertname": "FraudSpike", "team": "fraud", "severity": "critical"},
                "annotations": {"summary": "Chargebacks <x10> the usual"},
                "startsAt": T0.isoformat(),
            }
        ],
    }
    headers = {"Authorization": f"Bearer {TOKEN}"}
    async with (
        aiohttp.ClientSession() as http,
        http.post(world.http_base + "/api/alertmanager", json=body, headers=headers) as response,
    ):
        assert response.status == 200, await response.text()


async def routed_with_a_security_chat(world: World) -> tuple[World, Json]:
    """The bot started on the routing tree with SECURITY_CHAT_ID a new chat: the world, the chat."""
    security: Json = await world.tg.create_chat(
        "QuickCart Security", members=[ADMIN], admins=[ADMIN]
    )
    world.settings = world.settings.model_copy(update={"SECURITY_CHAT_ID": security["id"]})
    return await start(world, routing_rules()), security


async def test_a_routed_alert_reaches_security_and_gateway_down_inhibits_the_payment_rate(
    world_unstarted: World,
) -> None:
    world, security = await routed_with_a_security_chat(world_unstarted)
    clock = world.frozen_clock

    # Alertmanager's fraud alert goes where the tree says: the security chat.
    await post_fraud_alert(world)
    await flush_at(world, clock, T0 + timedelta(seconds=31))
    fraud = await world.tg.wait_for_message(
        security["id"], predicate=lambda m: "FraudSpike" in m.get("text", "")
    )
    assert "Chargebacks &lt;x10&gt;" not in fraud["text"] and "<x10>" in fraud["text"]
    # its buttons work where it landed: Rina acknowledges it in the security chat
    group_id = await world.pool.fetchval(
        "SELECT group_id FROM alerts WHERE alertname = 'FraudSpike'"
    )
    query = await world.tg.press(ADMIN, security["id"], fraud["message_id"], f"al:{group_id}:ack")
    await world.tg.callback_answer(query)
    await world.tg.wait_for_edit(
        security["id"], fraud["message_id"], predicate=lambda m: "Rina" in m["text"]
    )

    # The gateway goes down: both of the bot's payment rules hold.
    for minute in (1, 2):
        await payment_sample(world, minute, gateway_up=False, success=40.0)
        await tick_at(world, clock, T0 + timedelta(minutes=minute))
    states = dict(
        await world.pool.fetch("SELECT alertname, state FROM alerts WHERE source = 'rule'")
    )
    assert states == {"PakasirUptimeLow": "firing", "PaymentSuccessRateLow": "firing"}
    await tick_at(world, clock, T0 + timedelta(minutes=3))  # past both groups' wait
    gateway = await world.tg.wait_for_message(
        world.admin_chat_id, predicate=lambda m: "PakasirUptimeLow" in m.get("text", "")
    )
    assert "PakasirUptimeLow" in gateway["text"].split("\n")[0]
    heads = [m["text"].split("\n")[0] for m in await alert_messages(world)]
    assert len(heads) == 1 and "PakasirUptimeLow" in heads[0], heads
    assert not [m for m in await alert_messages(world) if "FraudSpike" in m["text"]]

    # Rina asks what is going on: the payment rate is listed as inhibited, by the gateway.
    asked = await world.send(ADMIN, "/alerts", chat_id=world.admin_chat_id)
    answer = await world.reply_to(
        world.admin_chat_id,
        after=asked["message_id"],
        predicate=lambda m: "Diredam" in m.get("text", ""),
    )
    inhibited = answer["text"][answer["text"].index("Diredam (1)") :]
    assert "PaymentSuccessRateLow" in inhibited and "oleh PakasirUptimeLow" in inhibited

    # The gateway answers again; payments still fail. Sixteen minutes on, the gateway's average
    # is back above 95 %: it resolves. The payment rate, which now speaks for itself, is pushed
    # when its group is looked at again (every group_interval, 5 minutes, as in Alertmanager).
    for at in (4, 7, 10, 13, 16, 19, 22):
        await payment_sample(world, at, gateway_up=True, success=40.0)
        await tick_at(world, clock, T0 + timedelta(minutes=at))
        gateway_state = await world.pool.fetchval(
            "SELECT state FROM alerts WHERE alertname = 'PakasirUptimeLow'"
        )
        if at < 19:
            assert gateway_state == "firing"
            assert not [m for m in await alert_messages(world) if "PaymentSuccess" in m["text"]]

    async def rate_pushed() -> bool:
        return any("PaymentSuccessRateLow" in m["text"] for m in await alert_messages(world))

    await eventually("the payment rate alert in the admin chat", rate_pushed)
    rate = next(m for m in await alert_messages(world) if "PaymentSuccessRateLow" in m["text"])
    assert "al:" in str(rate.get("reply_markup"))  # with its buttons
    assert (
        await world.pool.fetchval("SELECT state FROM alerts WHERE alertname = 'PakasirUptimeLow'")
        == "resolved"
    )
