"""The sandbox's nightly backup and its heartbeat, end to end: the demo world's real `pg_dump`
job pings the real bot's /ping URL; the world panel stops its heartbeat; the next backup runs
without checking in; at the next 02:00 (Asia/Jakarta) plus the grace the check is down, and one
HeartbeatDown alert with buttons reaches the admin chat, where Rina acknowledges it. Then
/heartbeats in the chat lists the check as down, and the next ping makes it up and resolved."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest

from bot.embedded import EmbeddedPostgres
from bot.monitor import MonitorConfig
from bot.sandbox_cast import BACKUP_HEARTBEAT, sandbox_rules
from sandbox.world.world import DemoWorld, WorldConfig
from services.clock import FrozenClock
from tests.cast import ADMIN
from tests.e2e.conftest import World, fast_rules
from tests.e2e.test_alert_story import T0, datas, press
from tests.waiting import eventually


@pytest.fixture
def e2e_clock() -> FrozenClock:
    return FrozenClock(T0)


@pytest.fixture
async def demo(
    pg_server: EmbeddedPostgres, empty_db_url: str, tmp_path: Path
) -> AsyncIterator[DemoWorld]:
    world = DemoWorld(
        WorldConfig(
            folder=tmp_path / "quickcart",
            demo_url=empty_db_url,
            admin_url=None,
            pg_dump=str(pg_server.bin_dir / "pg_dump"),
        )
    )
    await world.start()
    try:
        yield world
    finally:
        await world.stop()


async def heartbeat(world: World) -> dict[str, object] | None:
    row = await world.pool.fetchrow(
        "SELECT status, n_pings, last_ping, last_duration FROM heartbeats WHERE name = $1",
        BACKUP_HEARTBEAT,
    )
    return dict(row) if row else None


async def test_the_backup_stops_pinging_and_its_heartbeat_alert_is_acknowledged(
    world_unstarted: World, demo: DemoWorld
) -> None:
    world = world_unstarted
    clock = world.frozen_clock
    # The bot runs with the sandbox's own definition of the backup heartbeat, and no other rule.
    defined = sandbox_rules(world.settings, demo).raw["heartbeats"]
    world.rules = fast_rules(heartbeats=defined, alerts={"rules": []})
    world.monitor = MonitorConfig(probe_interval=24 * 3600, tick_interval=0.2)
    await world.start_bot()
    demo.heartbeat.url = f"{world.http_base}/ping/{demo.heartbeat.ping_key}"
    await eventually("the check from RULES_FILE", lambda: heartbeat(world))

    await demo.act("backup_now")  # the job: /start, pg_dump, then the success ping with a log
    found = await heartbeat(world)
    assert found is not None and found["status"] == "up" and found["n_pings"] == 2
    assert demo.heartbeat.sent[-2:] == ["start", "success"]
    body = await world.pool.fetchval("SELECT last_body FROM heartbeats")
    assert body.startswith("pg_dump: quickcart-") and "bytes" in body

    # The world panel stops the heartbeat: the next backup runs, and tells nobody.
    await demo.act("backup_heartbeat_stop")
    assert (await demo.view())["backup_heartbeat"]["stopped"] is True
    await demo.act("backup_now")
    assert (await heartbeat(world) or {})["n_pings"] == 2

    # T0 is 08:00 in Jakarta: the next backup is due at 02:00 tomorrow, down an hour later.
    due = T0 + timedelta(hours=19)
    clock.set(due + timedelta(minutes=59))
    # late, not down (tests/unit/heartbeats pins the minute; here the story moves on)
    assert (await heartbeat(world) or {})["status"] == "up"
    clock.set(due + timedelta(hours=1))
    await eventually(
        "the heartbeat going down", lambda: world.pool.fetchval("SELECT count(*) FROM alerts")
    )
    assert (await heartbeat(world) or {})["status"] == "down"
    clock.set(due + timedelta(hours=1, seconds=31))  # the group's wait is over
    message = await world.tg.wait_for_message(
        world.admin_chat_id, predicate=lambda m: "HeartbeatDown" in m.get("text", "")
    )
    assert BACKUP_HEARTBEAT in message["text"]
    assert "tidak ping tepat waktu" in message["text"]  # the admin chat speaks Indonesian
    group_id = await world.pool.fetchval("SELECT group_id FROM alerts")
    assert datas(message) == [
        f"al:{group_id}:{act}" for act in ("ack", "esc", "s1", "s4", "s24", "res")
    ]
    alerts_sent = [
        m
        for m in await world.tg.messages(world.admin_chat_id)
        if "HeartbeatDown" in (m.get("text") or "")
    ]
    assert len(alerts_sent) == 1

    answer = await press(world, message, f"al:{group_id}:ack")
    assert answer["text"] == "Diterima.", answer
    await world.tg.wait_for_edit(
        world.admin_chat_id, message["message_id"], predicate=lambda m: "Rina" in m["text"]
    )
    acked = await world.pool.fetchval(
        "SELECT acknowledged_by FROM alert_groups WHERE id = $1", group_id
    )
    assert acked == ADMIN

    # /heartbeats says so in the chat
    sent = await world.send(ADMIN, "/heartbeats", chat_id=world.admin_chat_id)
    listing = await world.reply_to(world.admin_chat_id, after=sent["message_id"])
    assert BACKUP_HEARTBEAT in listing["text"] and "🔴" in listing["text"]

    # The panel resumes the heartbeat; the next backup checks in and the alert resolves.
    await demo.act("backup_heartbeat_start")
    await demo.act("backup_now")
    assert (await heartbeat(world) or {})["status"] == "up"
    assert await world.pool.fetchval("SELECT state FROM alerts") == "resolved"
