"""The storm view: more groups due than the admin chat's budget carries within the group wait
become one storm message, edited in place (one storm row queued at a time); quiet again, groups
get their own messages. Its buttons are role-checked, audited, and answer stale data."""

from __future__ import annotations

import hashlib
from datetime import timedelta
from typing import Any

import asyncpg
import pytest

from services.alerts import alertmanager, pipeline, storm, storm_actions
from services.alerts.actions import AlreadyDone, GroupNotFound, NotAllowed
from services.alerts.config import AlertsRules
from services.clock import FrozenClock
from tests.integration.alerts.conftest import (
    ADMIN_CHAT,
    AUDIENCE,
    DIMAS,
    PRODUCT,
    add_people,
    outbox_rows,
)

GROUP_WAIT = timedelta(seconds=30)  # the default: the admin chat carries 10 first messages


def rules() -> AlertsRules:
    return AlertsRules.model_validate({"rules": [], "grouping": {"group_wait": "30s"}})


def alert(name: str, n: int, status: str = "firing", severity: str = "warning") -> dict[str, Any]:
    return {
        "status": status,
        "labels": {"alertname": name, "instance": f"host-{n}", "severity": severity},
        "annotations": {"summary": f"{name} <b>&"},
        "startsAt": "2026-11-02T01:00:00Z",
        "endsAt": "2026-11-02T02:00:00Z" if status == "resolved" else "0001-01-01T00:00:00Z",
        "fingerprint": hashlib.sha256(f"{name}/{n}".encode()).hexdigest()[:16],
    }


async def post(pool: asyncpg.Pool, clock: FrozenClock, alerts: list[dict[str, Any]]) -> None:
    payload = alertmanager.WIRE.validate_python(
        {"version": "4", "groupKey": "{}", "status": "firing", "receiver": "q", "alerts": alerts}
    )
    async with pool.acquire() as conn, conn.transaction():
        await alertmanager.fold(conn, [payload], rules(), clock.now())


async def flush(pool: asyncpg.Pool, clock: FrozenClock, seconds: float) -> None:
    clock.advance(seconds=seconds)
    await pipeline.tick(pool, rules(), clock, AUDIENCE, evaluate_rules=False)


async def storm_of(pool: asyncpg.Pool) -> int:
    value: int = await pool.fetchval("SELECT id FROM alert_storms ORDER BY id DESC LIMIT 1")
    return value


async def test_below_the_budget_each_group_gets_its_own_message(
    pool: asyncpg.Pool, clock: FrozenClock
) -> None:
    await post(pool, clock, [alert(f"Disk{k}", 1) for k in range(10)])
    await flush(pool, clock, 31)
    rows = await outbox_rows(pool)
    assert len(rows) == 10 and {r["owner"].split(":")[0] for r in rows} == {"alert_group"}
    assert await pool.fetchval("SELECT count(*) FROM alert_storms") == 0


async def test_a_storm_is_one_message_edited_in_place_then_quiet_means_own_messages(
    pool: asyncpg.Pool, clock: FrozenClock
) -> None:
    await post(pool, clock, [alert(f"Disk{k}", n) for k in range(40) for n in range(3)])
    await post(pool, clock, [alert("Payments", 1, severity="critical")])
    await flush(pool, clock, 31)
    rows = await outbox_rows(pool)
    assert [(r["kind"], r["owner"]) for r in rows] == [
        ("text", f"alert_storm:{await storm_of(pool)}")
    ]
    text = rows[0]["payload"]["text"]
    assert text.splitlines()[0] == "🌩 <b>Alert storm</b>"
    assert "41 alert groups, 121 alerts firing" in text
    assert text.splitlines()[2] == "🔴 <b>Payments</b> ×1 instance=host-1"  # most severe first
    assert all(f"<b>Disk{k}</b> ×3" in text for k in range(40))
    assert len(text) <= 4096
    keyboard = rows[0]["payload"]["reply_markup"]["inline_keyboard"]
    assert (
        keyboard[0][0]["callback_data"].startswith("st:")
        and ":det:" in keyboard[0][0]["callback_data"]
    )
    assert keyboard[-1][0]["text"] == "Acknowledge all"

    # More groups join and one resolves while the message has not left: the same row, newer text
    await post(pool, clock, [alert("Late", 1)])
    await flush(pool, clock, 31)
    await post(pool, clock, [alert("Disk0", n, "resolved") for n in range(3)])
    await flush(pool, clock, 301)  # group_interval: the group is looked at again
    rows = await outbox_rows(pool)
    assert len(rows) == 1
    assert "<b>Late</b> ×1" in rows[0]["payload"]["text"]
    assert "✅ <s>Disk0</s>" in rows[0]["payload"]["text"]

    # Once it left, a change is one edit of it
    await pool.execute(
        "UPDATE outbox SET status = 'sent', message_id = 77 WHERE id = $1", rows[0]["id"]
    )
    await post(pool, clock, [alert("Disk1", n, "resolved") for n in range(3)])
    await flush(pool, clock, 301)
    rows = await outbox_rows(pool)
    assert [(r["kind"], r["ref_id"]) for r in rows[1:]] == [("edit", rows[0]["id"])]
    assert "✅ <s>Disk1</s>" in rows[1]["payload"]["text"]

    # Quiet for a minute: the storm takes no more groups, a new group has its own message
    await flush(pool, clock, storm.QUIET.total_seconds() + 1)
    await post(pool, clock, [alert("Fresh", 1)])
    await flush(pool, clock, 31)
    rows = await outbox_rows(pool)
    assert rows[-1]["owner"].startswith("alert_group:") and "Fresh" in rows[-1]["payload"]["text"]
    assert (
        await pool.fetchval("SELECT storm_id FROM alert_groups WHERE group_key LIKE 'Fresh|%'")
        is None
    )


async def storming(pool: asyncpg.Pool, clock: FrozenClock) -> tuple[int, list[int], dict[str, Any]]:
    """Twelve alert groups in one storm whose message was sent: the storm's id, its groups'
    ids, and where a press on it comes from (the admin chat, now, the audience)."""
    await add_people(pool)
    await post(pool, clock, [alert(f"Disk{k}", 1) for k in range(12)])
    await flush(pool, clock, 31)
    storm_id = await storm_of(pool)
    await pool.execute(
        "UPDATE outbox SET status = 'sent', message_id = 5 WHERE owner = $1", storm.owner(storm_id)
    )
    groups = [
        r["id"]
        for r in await pool.fetch(
            "SELECT id FROM alert_groups WHERE storm_id = $1 ORDER BY id", storm_id
        )
    ]
    where = {"chat_id": ADMIN_CHAT, "now": clock.now(), "audience": AUDIENCE}
    return storm_id, groups, where


async def refusals(pool: asyncpg.Pool) -> list[tuple[int, str, str]]:
    rows = await pool.fetch(
        "SELECT actor_id, action, target FROM audit_log WHERE NOT allowed ORDER BY id"
    )
    return [(r["actor_id"], r["action"], r["target"]) for r in rows]


async def test_acknowledge_all_needs_the_role_is_audited_and_shown(
    pool: asyncpg.Pool, clock: FrozenClock
) -> None:
    storm_id, groups, where = await storming(pool, clock)
    with pytest.raises(NotAllowed):
        await storm_actions.acknowledge_all(pool, PRODUCT, storm_id, **where)
    assert await refusals(pool) == [(PRODUCT.id, "alerts.ack", f"alert_storm:{storm_id}")]
    assert (
        await pool.fetchval("SELECT count(*) FROM alert_groups WHERE acknowledged_at IS NOT NULL")
        == 0
    )

    done = await storm_actions.acknowledge_all(pool, DIMAS, storm_id, **where)
    assert done == groups
    assert (
        await pool.fetchval(
            "SELECT count(*) FROM alert_groups WHERE acknowledged_by = $1", DIMAS.id
        )
        == 12
    )
    audited = await pool.fetchrow("SELECT action, target, details FROM audit_log WHERE allowed")
    assert (audited["action"], audited["target"]) == ("alerts.ack", f"alert_storm:{storm_id}")
    assert audited["details"]["groups"] == groups
    edit = (await outbox_rows(pool))[-1]
    assert edit["kind"] == "edit" and "All acknowledged by Dimas" in edit["payload"]["text"]
    with pytest.raises(AlreadyDone):
        await storm_actions.acknowledge_all(pool, DIMAS, storm_id, **where)
    with pytest.raises(GroupNotFound):  # forged: no such storm
        await storm_actions.acknowledge_all(pool, DIMAS, storm_id + 1000, **where)


async def test_details_go_privately_or_in_place_and_stale_data_is_answered(
    pool: asyncpg.Pool, clock: FrozenClock
) -> None:
    storm_id, groups, where = await storming(pool, clock)
    with pytest.raises(NotAllowed):
        await storm_actions.details(pool, None, storm_id, groups[0], **where)  # a stranger
    assert await refusals(pool) == [(None, "alerts.view", f"alert_group:{groups[0]}")]

    unknown = await storm_actions.details(pool, DIMAS, storm_id, groups[2], **where)
    assert unknown.where == "edit"  # nothing ever reached Dimas privately: he may not have started
    await pool.execute(  # Dimas's private chat works: a page reached him
        "INSERT INTO outbox (chat_id, kind, payload, status) VALUES ($1, 'text', '{}', 'sent')",
        DIMAS.id,
    )
    shown = await storm_actions.details(pool, DIMAS, storm_id, groups[0], **where)
    assert shown.where == "private"
    private = (await outbox_rows(pool, DIMAS.id))[-1]
    assert "Firing: Disk0" in private["payload"]["text"]
    assert "&lt;b&gt;&amp;" in private["payload"]["text"]  # the summary, escaped
    datas = [
        b["callback_data"]
        for row in private["payload"]["reply_markup"]["inline_keyboard"]
        for b in row
    ]
    assert f"al:{groups[0]}:s1" in datas and f"al:{groups[0]}:esc" in datas  # Silence 1 h, Escalate

    await pool.execute("UPDATE staff SET not_started_at = now() WHERE user_id = $1", DIMAS.id)
    shown = await storm_actions.details(pool, DIMAS, storm_id, groups[1], **where)
    assert shown.where == "edit"
    edit = (await outbox_rows(pool))[-1]
    assert edit["kind"] == "edit" and "Firing: Disk1" in edit["payload"]["text"]
    assert (
        edit["payload"]["reply_markup"]["inline_keyboard"][-1][0]["callback_data"]
        == f"st:{storm_id}:back:0"
    )
    await storm_actions.back(pool, DIMAS, storm_id, **where)
    back = (await outbox_rows(pool))[-1]
    assert back["kind"] == "edit" and "Alert storm" in back["payload"]["text"]
    audited = await pool.fetch("SELECT details FROM audit_log WHERE allowed ORDER BY id")
    assert [a["details"].get("shown", "back") for a in audited] == [
        "edit",
        "private",
        "edit",
        "back",
    ]

    other = await pool.fetchval(
        "INSERT INTO alert_groups (group_key, labels, severity, created_at)"
        " VALUES ('X|[]', '{}', 'info', now()) RETURNING id"
    )
    for storm_id_, group_id in ((storm_id, other), (storm_id + 1000, groups[0])):
        with pytest.raises(GroupNotFound):  # a group not in that storm, a storm that is not
            await storm_actions.details(pool, DIMAS, storm_id_, group_id, **where)


async def test_a_storm_whose_groups_were_busy_shows_nothing_until_they_join(
    pool: asyncpg.Pool, clock: FrozenClock
) -> None:
    await post(pool, clock, [alert(f"Disk{k}", 1) for k in range(12)])
    clock.advance(seconds=31)
    async with pool.acquire() as folding, folding.transaction():
        await folding.execute("SELECT 1 FROM alert_groups FOR UPDATE")  # the consumer folding
        await pipeline.tick(pool, rules(), clock, AUDIENCE, evaluate_rules=False)
    assert await outbox_rows(pool) == []  # no empty "storm over" message
    await flush(pool, clock, 1)
    rows = await outbox_rows(pool)
    assert len(rows) == 1 and "12 alert groups" in rows[0]["payload"]["text"]
    assert await pool.fetchval("SELECT count(*) FROM alert_storms") == 1
