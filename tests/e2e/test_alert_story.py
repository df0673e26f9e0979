"""Alerting end to end, the monitoring loop ticking fast under a frozen clock that the story moves:

- CPU is above 80 % for five simulated minutes: after the group wait exactly one alert message
  with buttons reaches the admin chat; Rina presses Silence 1h, the message says so and the
  alert stays quiet through what would have been its repeats.
- Alertmanager posts a real (recorded) firing payload to /api/alertmanager: the alert appears in
  the admin chat; Rina presses Escalate and an incident opens at level 1; Alertmanager's
  resolved payload turns the message into ✅ resolved.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiohttp
import pytest

from bot.monitor import MonitorConfig
from sandbox.telegram.client import Json
from services.alerts.config import default_rules
from services.checks.model import (
    CheckReport,
    CheckResult,
    Sentence,
    Status,
    Unit,
    Value,
)
from services.checks.store import save_report
from services.clock import FrozenClock
from services.rules import Rules
from tests.cast import ADMIN
from tests.e2e import buttons
from tests.e2e.buttons import datas
from tests.e2e.conftest import World, fast_rules
from tests.waiting import eventually

# Ahead of the real time on purpose: `outbox.enqueue` stamps a row without `not_before` with
# PostgreSQL's now(), while the delivery worker claims rows due by the injected clock; a frozen
# clock behind the wall clock would hold every message back.
T0 = datetime(2030, 1, 7, 1, 0, tzinfo=UTC)
TOKEN = "am-e2e-token"
FIXTURES = Path(__file__).parents[1] / "integration" / "alerts" / "fixtures"
REPEAT = timedelta(minutes=15)  # shorter than the silence, so a repeat would fall inside it


@pytest.fixture
def e2e_clock() -> FrozenClock:
    return FrozenClock(T0)


def cpu_rules() -> Rules:
    """Only the seed's CpuHigh rule (CPU > 80 % for 5 minutes): the bot's first real probe of
    this machine must not raise alerts of its own that the story does not expect."""
    cpu = next(r for r in default_rules() if r.name == "CpuHigh")
    return fast_rules(
        alerts={
            "rules": [cpu.model_dump(by_alias=True)],
            "grouping": {"repeat_interval": REPEAT},
        }
    )


async def start(world: World, rules: Rules) -> World:
    world.rules = rules
    world.settings = world.settings.model_copy(update={"ALERTMANAGER_TOKEN": TOKEN})
    # Probes once at start and then not again; rules evaluated and groups flushed every 0.2 s.
    world.monitor = MonitorConfig(probe_interval=24 * 3600, tick_interval=0.2)
    await world.start_bot()
    return world


async def reached(world: World, query: str, at: datetime) -> None:
    """The loop has stamped `at` (or later) where `query` looks."""

    async def done() -> bool:
        latest = await world.pool.fetchval(query)
        return latest is not None and bool(latest >= at)

    await eventually(f"{query} reaching {at}", done)


async def evaluated_at(world: World, at: datetime) -> None:
    await reached(world, "SELECT max(evaluated_at) FROM alerts", at)


async def flush_at(world: World, clock: FrozenClock, at: datetime) -> None:
    """Move the clock to `at`, when an alert group is due, and wait until it was flushed."""
    clock.set(at)
    await reached(world, "SELECT max(last_flushed_at) FROM alert_groups", at)


async def tick_at(world: World, clock: FrozenClock, at: datetime) -> None:
    """Move the clock to `at` and let one whole loop turn (evaluate, then flush) run there."""
    clock.set(at)
    await evaluated_at(world, at)
    clock.set(at + timedelta(seconds=1))  # the next turn's evaluation: the previous flush is over
    await evaluated_at(world, at + timedelta(seconds=1))


async def cpu_sample(world: World, at: datetime, percent: float) -> None:
    """What the system probe stores: a run whose `system` result carries cpu_percent."""
    result = CheckResult(
        name="system",
        status=Status.CRIT if percent > 95 else Status.WARN if percent > 80 else Status.OK,
        sentence=Sentence("CPU {percent} %", {"percent": percent}),
        values=(Value("cpu_percent", percent, Unit.PERCENT),),
        details=(),
        started_at=at,
        duration_s=0.01,
    )
    await save_report(world.pool, CheckReport(at, 0.01, (result,)), trigger="schedule")


async def alert_messages(world: World) -> list[Json]:
    """The bot's alert-group messages in the admin chat (headed "Firing:" or "Resolved:")."""
    found = await world.tg.messages(world.admin_chat_id)
    heads = ("Firing:", "Resolved:")
    return [m for m in found if any(h in (m.get("text") or "").split("\n")[0] for h in heads)]


async def press(world: World, message: Json, data: str) -> Json:
    """The admin presses a button of a message in the admin chat."""
    return await buttons.press(world, ADMIN, world.admin_chat_id, message, data)


async def test_cpu_high_for_five_minutes_alerts_once_and_silence_mutes_it(
    world_unstarted: World,
) -> None:
    world = await start(world_unstarted, cpu_rules())
    clock = world.frozen_clock
    await eventually(
        "the first probe run",
        lambda: world.pool.fetchval("SELECT count(*) > 0 FROM check_runs"),
    )
    # Whatever this machine's CPU did at start, the story's T0 reads high: the CpuHigh row then
    # exists whatever the real reading was, so each wait below is for an evaluation that ran
    # (with no row, an evaluation at T0 still running could write "pending since T0" after the
    # wait for minute 1 had found nothing to wait for, and minute 1 was never evaluated)...
    await cpu_sample(world, T0, 95)
    await evaluated_at(world, T0)
    # ...at minute 1 it is calm...
    await cpu_sample(world, T0 + timedelta(minutes=1), 40)
    clock.set(T0 + timedelta(minutes=1))
    await evaluated_at(world, clock.now())
    # ...then above 80 % from minute 2: pending for five minutes, nobody told yet.
    for minute in range(2, 7):
        at = T0 + timedelta(minutes=minute)
        await cpu_sample(world, at, 95)
        await tick_at(world, clock, at)
        state = await world.pool.fetchval("SELECT state FROM alerts WHERE alertname = 'CpuHigh'")
        assert state == "pending", (minute, state)
    fired = T0 + timedelta(minutes=7)
    await cpu_sample(world, fired, 95)
    await tick_at(world, clock, fired)
    alert = await world.pool.fetchrow("SELECT state, active_since, fired_at FROM alerts")
    assert alert is not None
    assert alert["state"] == "firing"
    assert alert["fired_at"] - alert["active_since"] == timedelta(minutes=5)
    # The group waits 30 s for company: nothing queued for Telegram yet.
    assert await world.pool.fetchval("SELECT count(*) FROM alert_group_messages") == 0

    await tick_at(world, clock, fired + timedelta(seconds=31))
    message = await world.tg.wait_for_message(
        world.admin_chat_id, predicate=lambda m: "CpuHigh" in m.get("text", "")
    )
    group_id = await world.pool.fetchval("SELECT id FROM alert_groups")
    assert datas(message) == [
        f"al:{group_id}:{act}" for act in ("ack", "esc", "s1", "s4", "s24", "res")
    ]
    assert "Firing: CpuHigh" in message["text"]
    assert "95%" in message["text"] and "80%" in message["text"], message["text"]
    assert [m["message_id"] for m in await alert_messages(world)] == [message["message_id"]]

    answer = await press(world, message, f"al:{group_id}:s1")
    assert answer["text"].startswith("Dibisukan sampai"), answer
    silenced = await world.tg.wait_for_edit(
        world.admin_chat_id,
        message["message_id"],
        predicate=lambda m: "Dibisukan sampai" in m["text"],
    )
    assert "Rina" in silenced["text"] and "🔕" in silenced["text"]
    audited = await world.pool.fetchval(
        "SELECT count(*) FROM audit_log WHERE action = 'alerts.silence' AND allowed"
        " AND actor_id = $1",
        ADMIN,
    )
    assert audited == 1
    notified_at = await world.pool.fetchval("SELECT last_notified_at FROM alert_groups")

    # CPU stays high for 25 more minutes: the group is looked at every 5 minutes, and the
    # repeat (due 15 minutes after the message) stays muted, as does any new edit.
    at = fired + timedelta(seconds=31)
    for _ in range(5):
        at += timedelta(minutes=5)
        await cpu_sample(world, at, 95)
        await tick_at(world, clock, at)
    group = await world.pool.fetchrow(
        "SELECT status, last_flushed_at, last_notified_at FROM alert_groups"
    )
    assert group is not None
    assert group["status"] == "open"
    assert group["last_flushed_at"] >= at - timedelta(minutes=5)  # it was looked at
    assert group["last_notified_at"] == notified_at  # and chose silence
    assert await world.pool.fetchval("SELECT state FROM alerts") == "firing"
    after = await alert_messages(world)
    assert [m["message_id"] for m in after] == [message["message_id"]]
    assert after[0]["edit_count"] == silenced["edit_count"]


async def post_alertmanager(world: World, name: str) -> Json:
    body = (FIXTURES / name).read_bytes()
    headers = {"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"}
    async with (
        aiohttp.ClientSession() as http,
        http.post(world.http_base + "/api/alertmanager", data=body, headers=headers) as response,
    ):
        assert response.status == 200, await response.text()
        answer: Json = await response.json()
        return answer


async def escalate_payment_errors(world: World) -> tuple[Json, Json]:
    """Alertmanager posts the captured PaymentErrors (firing), its group's message goes out at
    the flush, and Adi presses Escalate on it: the webhook's answer and the press's."""
    stored = await post_alertmanager(world, "am_0.25_firing.json")
    await flush_at(world, world.frozen_clock, T0 + timedelta(seconds=31))
    message = await world.tg.wait_for_message(
        world.admin_chat_id, predicate=lambda m: "PaymentErrors" in m.get("text", "")
    )
    group_id = await world.pool.fetchval("SELECT id FROM alert_groups")
    answer = await buttons.press(world, ADMIN, world.admin_chat_id, message, f"al:{group_id}:esc")
    return stored, answer


async def test_alertmanager_alert_escalates_to_an_incident_and_resolves(
    world_unstarted: World,
) -> None:
    world = await start(world_unstarted, fast_rules(alerts={"rules": []}))
    clock = world.frozen_clock
    # A payload captured from a real Alertmanager 0.25: three api instances, markup in the text.
    stored = await post_alertmanager(world, "am_0.25_firing.json")
    assert stored["stored"] == 3
    assert await world.pool.fetchval("SELECT count(*) FROM alert_group_messages") == 0
    await flush_at(world, clock, T0 + timedelta(seconds=31))
    message = await world.tg.wait_for_message(
        world.admin_chat_id, predicate=lambda m: "PaymentErrors" in m.get("text", "")
    )
    assert "Payment API errors <5xx> & timeouts" in message["text"]
    assert all(f"instance=api-{n}" in message["text"] for n in range(3)), message["text"]
    group_id = await world.pool.fetchval("SELECT id FROM alert_groups")

    answer = await press(world, message, f"al:{group_id}:esc")
    incident = await world.pool.fetchrow(
        "SELECT ticket_id, level, priority, source, opened_by, resolved_at FROM incidents"
    )
    assert incident is not None
    assert dict(incident) == {
        "ticket_id": 1,
        "level": 1,
        "priority": "P0",
        "source": "alert",
        "opened_by": ADMIN,
        "resolved_at": None,
    }
    assert "QC-000001" in answer["text"] and "level 1" in answer["text"], answer
    notice = await world.tg.wait_for_message(
        world.admin_chat_id, predicate=lambda m: "inc:1:esc:1" in datas(m)
    )
    assert "QC-000001" in notice["text"] and "Level 1 dari 5" in notice["text"], notice["text"]
    assert "PaymentErrors" in notice["text"]
    escalated = await world.tg.wait_for_edit(
        world.admin_chat_id,
        message["message_id"],
        predicate=lambda m: "Dieskalasi: insiden QC-000001" in m["text"],
    )
    assert f"al:{group_id}:esc" in datas(escalated)

    resolved = await post_alertmanager(world, "am_0.25_resolved.json")
    assert resolved["stored"] == 3
    # The group is looked at again one group interval (5 minutes) after its last message.
    await flush_at(world, clock, T0 + timedelta(seconds=31) + timedelta(minutes=5))
    done = await world.tg.wait_for_edit(
        world.admin_chat_id,
        message["message_id"],
        after_edit_count=escalated["edit_count"],
        predicate=lambda m: "Resolved: PaymentErrors" in m["text"],
    )
    assert datas(done) == []
    assert "✅" in done["text"]
    assert [m["message_id"] for m in await alert_messages(world)] == [message["message_id"]]
    status = await world.pool.fetchval("SELECT status FROM alert_groups WHERE id = $1", group_id)
    assert status == "resolved"


async def test_a_late_press_on_an_alert_is_answered_with_what_happened(
    world_unstarted: World,
) -> None:
    """The alert routers answer presses that come too late (handlers.alerts.answers_late_presses):
    somebody already acknowledged the group (a passing notice), or it does not exist (an alert)."""
    world = await start(world_unstarted, fast_rules(alerts={"rules": []}))
    clock = world.clock
    assert isinstance(clock, FrozenClock)
    await post_alertmanager(world, "am_0.25_firing.json")
    await flush_at(world, clock, T0 + timedelta(seconds=31))
    message = await world.tg.wait_for_message(
        world.admin_chat_id, predicate=lambda m: "PaymentErrors" in m.get("text", "")
    )
    group_id = await world.pool.fetchval("SELECT id FROM alert_groups")
    first = await press(world, message, f"al:{group_id}:ack")
    assert first["text"] == "Diterima.", first
    for data, said, alert in (
        (f"al:{group_id}:ack", "Sudah dilakukan oleh Rina.", False),
        (f"al:{group_id + 99}:ack", "Peringatan ini sudah tidak ada.", True),
    ):
        query = await world.tg.press(
            ADMIN, world.admin_chat_id, message["message_id"], data, force=True
        )
        late = await world.tg.callback_answer(query)
        assert (late["text"], bool(late["show_alert"])) == (said, alert), late
