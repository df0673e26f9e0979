"""CPU over 80 % for five minutes: pending, firing, one message with buttons, edits, ✅ resolved."""

from __future__ import annotations

import asyncpg

from services.alerts import pipeline
from services.clock import FrozenClock
from tests.integration.alerts.conftest import (
    ADMIN_CHAT,
    AUDIENCE,
    SECURITY_CHAT,
    cpu_only,
    outbox_rows,
    sample,
)


async def minute(pool: asyncpg.Pool, clock: FrozenClock, value: float, config=None, **kw):  # type: ignore[no-untyped-def]
    """One minute of monitoring: the probe stores a sample, the alert loop turns."""
    await sample(pool, clock.now(), value, **kw)
    report = await pipeline.tick(pool, config or cpu_only(), clock, AUDIENCE)
    clock.advance(minutes=1)
    return report


async def state(pool: asyncpg.Pool) -> str | None:
    value: str | None = await pool.fetchval("SELECT state FROM alerts WHERE alertname = 'CpuHigh'")
    return value


async def test_cpu_over_threshold_for_five_minutes_fires_once_with_buttons(
    pool: asyncpg.Pool, clock: FrozenClock
) -> None:
    states = []
    for _ in range(5):
        await minute(pool, clock, 93)
        states.append(await state(pool))
    assert states == ["pending"] * 5
    assert await outbox_rows(pool) == []
    await minute(pool, clock, 95)  # five minutes after it turned true
    assert await state(pool) == "firing"
    assert await outbox_rows(pool) == []  # group_wait: 30 s
    clock.advance(seconds=30)
    await pipeline.tick(pool, cpu_only(), clock, AUDIENCE)
    rows = await outbox_rows(pool)
    assert len(rows) == 1
    message = rows[0]
    assert message["kind"] == "text" and message["owner"].startswith("alert_group:")
    assert "Firing: CpuHigh" in message["payload"]["text"]
    assert "95% (threshold &gt; 80%)" in message["payload"]["text"]
    buttons = [
        b["callback_data"]
        for row in message["payload"]["reply_markup"]["inline_keyboard"]
        for b in row
    ]
    group_id = int(message["owner"].split(":")[1])
    assert buttons == [f"al:{group_id}:{a}" for a in ("ack", "esc", "s1", "s4", "s24", "res")]
    # the slack channel is not configured; the security chat is not among CPU's channels
    assert await outbox_rows(pool, SECURITY_CHAT) == []
    for _ in range(10):  # still firing: nothing new, no repeats before 4 h
        await minute(pool, clock, 97)
    assert len(await outbox_rows(pool)) == 1


async def test_recovery_edits_the_message_to_resolved(
    pool: asyncpg.Pool, clock: FrozenClock
) -> None:
    for _ in range(6):
        await minute(pool, clock, 93)
    clock.advance(seconds=30)
    await pipeline.tick(pool, cpu_only(), clock, AUDIENCE)
    first = (await outbox_rows(pool))[0]
    report = await minute(pool, clock, 20)
    assert await state(pool) == "resolved"
    assert report.evaluation.resolved
    for _ in range(5):  # the edit waits for group_interval (5 min) after the first message
        await minute(pool, clock, 20)
    rows = await outbox_rows(pool)
    assert [r["kind"] for r in rows] == ["text", "edit"]
    edit = rows[1]
    assert edit["ref_id"] == first["id"]
    assert edit["payload"]["text"].startswith("✅ <b>Resolved: CpuHigh</b>")
    assert edit["payload"]["reply_markup"] == {"inline_keyboard": []}
    assert await pool.fetchval("SELECT status FROM alert_groups") == "resolved"
    assert await pool.fetchval("SELECT count(*) FROM alerts") == 1  # one row per alert


async def test_a_flapping_cpu_never_notifies(pool: asyncpg.Pool, clock: FrozenClock) -> None:
    for value in [93, 93, 93, 40, 93, 93, 93, 93, 40, 93, 40] * 3:
        await minute(pool, clock, value)
    assert await outbox_rows(pool, None) == []
    assert await pool.fetchval("SELECT count(*) FROM alert_groups") == 0


async def test_firing_and_resolving_within_group_wait_sends_nothing(
    pool: asyncpg.Pool, clock: FrozenClock
) -> None:
    config = cpu_only(group_wait="3m")
    for value in [93] * 6 + [10, 10, 10, 10, 10, 10]:
        await minute(pool, clock, value, config)
    assert await outbox_rows(pool, None) == []
    assert await pool.fetchval("SELECT status FROM alert_groups") == "resolved"


async def test_alerts_of_one_rule_share_a_message_and_joiners_edit_it(
    pool: asyncpg.Pool, clock: FrozenClock
) -> None:
    for _ in range(6):
        await sample(pool, clock.now(), 91, target="web-1")
        await minute(pool, clock, 92, target="web-2")
    clock.advance(seconds=30)
    await pipeline.tick(pool, cpu_only(), clock, AUDIENCE)
    rows = await outbox_rows(pool)
    assert len(rows) == 1
    assert "target=web-1" in rows[0]["payload"]["text"]
    assert "target=web-2" in rows[0]["payload"]["text"]
    for _ in range(6):  # web-3 joins; shown by an edit at the next group interval
        await sample(pool, clock.now(), 91, target="web-1")
        await sample(pool, clock.now(), 91, target="web-2")
        await minute(pool, clock, 99, target="web-3")
    rows = await outbox_rows(pool)
    assert [r["kind"] for r in rows] == ["text", "edit"]
    assert "target=web-3" in rows[1]["payload"]["text"]


async def test_group_by_a_label_gives_one_message_per_value(
    pool: asyncpg.Pool, clock: FrozenClock
) -> None:
    config = cpu_only(group_by=["alertname", "target"])
    for _ in range(6):
        await sample(pool, clock.now(), 91, target="web-1")
        await minute(pool, clock, 92, config, target="web-2")
    clock.advance(seconds=30)
    await pipeline.tick(pool, config, clock, AUDIENCE)
    assert len(await outbox_rows(pool)) == 2


async def test_unacknowledged_alert_is_sent_again_at_the_repeat_interval(
    pool: asyncpg.Pool, clock: FrozenClock
) -> None:
    config = cpu_only(repeat_interval="1h")
    for _ in range(6):
        await minute(pool, clock, 93, config)
    clock.advance(seconds=30)
    for _ in range(55):  # looked at every group_interval; nothing before the hour is up
        await minute(pool, clock, 93, config)
    assert len(await outbox_rows(pool)) == 1
    for _ in range(10):
        await minute(pool, clock, 93, config)
    rows = await outbox_rows(pool)
    assert [r["kind"] for r in rows] == ["text", "text"]
    assert "Still firing and not acknowledged." in rows[1]["payload"]["text"]
    await pool.execute("UPDATE alert_groups SET acknowledged_at = $1", clock.now())
    for _ in range(70):
        await minute(pool, clock, 93, config)
    assert len(await outbox_rows(pool)) == 2  # acknowledged: no more repeats


async def test_notification_groups_of_a_rule_get_the_message_too(
    pool: asyncpg.Pool, clock: FrozenClock
) -> None:
    config = cpu_only()
    config.rules[0].channels.append("security_team")
    for _ in range(6):
        await minute(pool, clock, 93, config)
    clock.advance(seconds=30)
    await pipeline.tick(pool, config, clock, AUDIENCE)
    assert len(await outbox_rows(pool, ADMIN_CHAT)) == 1
    assert len(await outbox_rows(pool, SECURITY_CHAT)) == 1
