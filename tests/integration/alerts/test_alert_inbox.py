"""Alertmanager's payloads are appended first and folded after (services/alerts/inbox.py): the
POST takes no lock a fold holds, each payload is folded exactly once by two replicas' consumers,
in arrival order, and a payload PostgreSQL refuses to fold is kept aside, not lost, not retried
for ever."""

from __future__ import annotations

import asyncio
import json
import secrets
from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp
import asyncpg

from services.alerts import inbox
from services.alerts.alertmanager import MAX_LABEL_BYTES, check
from services.alerts.config import AlertsRules
from services.clock import SystemClock
from services.storage.db import create_pool
from tests.integration.alerts.test_webhook import am_alert, auth, fold, payload, receiver

T0 = datetime(2026, 11, 2, 1, 0, tzinfo=UTC)


def at(n: int, minutes: int, status: str) -> dict[str, Any]:
    """Alert n firing from T0+minutes, or resolved at T0+minutes."""
    alert = am_alert(n, status)
    when = (T0 + timedelta(minutes=minutes)).isoformat()
    if status == "firing":
        alert["startsAt"] = when
    else:
        alert["startsAt"] = (T0 + timedelta(minutes=minutes - 1)).isoformat()
        alert["endsAt"] = when
    return alert


async def test_a_post_is_one_appended_payload_folded_later(pool: asyncpg.Pool) -> None:
    body = payload([am_alert(1), am_alert(2)])
    async with (
        receiver(pool) as url,
        aiohttp.ClientSession() as http,
        http.post(url, data=json.dumps(body), headers=auth()) as r,
    ):
        assert r.status == 200
        answer = await r.json()
    row = await pool.fetchrow("SELECT id, alerts, payload, folded_at FROM alert_inbox")
    assert (row["id"], row["alerts"], row["folded_at"]) == (answer["inbox_id"], 2, None)
    assert json.loads(row["payload"]) == body  # the payload as it came
    assert await pool.fetchval("SELECT count(*) FROM alerts") == 0
    report = await fold(pool)
    assert (report.folded, report.alerts) == ([row["id"]], 2)
    assert await pool.fetchval("SELECT count(*) FROM alerts WHERE state = 'firing'") == 2
    assert await pool.fetchval("SELECT folded_at FROM alert_inbox") is not None
    assert (await fold(pool)).folded == []  # nothing folded twice


async def test_a_post_is_not_held_by_a_transaction_locking_the_alerts_group(
    pool: asyncpg.Pool,
) -> None:
    async with receiver(pool) as url, aiohttp.ClientSession() as http:
        async with http.post(url, json=payload([am_alert(1)]), headers=auth()) as r:
            assert r.status == 200
        await fold(pool)
        async with pool.acquire() as holder, holder.transaction():
            # a long fold, a button press or a flush holding the group and the alert
            await holder.execute("SELECT 1 FROM alert_groups FOR UPDATE")
            await holder.execute("SELECT 1 FROM alerts FOR UPDATE")

            async def post() -> int:
                body = payload([am_alert(1, "resolved"), am_alert(2)])
                async with http.post(url, json=body, headers=auth()) as r:
                    return r.status

            # the old receiver upserted the group and the alert: it waited for this lock
            assert await asyncio.wait_for(post(), 20) == 200
    await fold(pool)
    states = dict(await pool.fetch("SELECT fingerprint, state FROM alerts"))
    assert states == {f"{1:016x}": "resolved", f"{2:016x}": "firing"}


async def test_two_replicas_fold_each_payload_exactly_once_in_arrival_order(
    pool: asyncpg.Pool, db_url: str
) -> None:
    """Two consumers on their own pools fold while 120 payloads arrive: every payload is folded
    by exactly one of them, and alerts that fire, resolve and fire again (in payloads far apart)
    end as the last payload says."""
    second = await create_pool(db_url, min_size=1, max_size=2)
    config = AlertsRules()
    clock = SystemClock()
    folded: dict[str, list[int]] = {"a": [], "b": []}
    arriving = asyncio.Event()

    async def consume(name: str, replica: asyncpg.Pool) -> None:
        while True:
            done = arriving.is_set()
            report = await inbox.fold_pending(replica, config, clock, batch=7)
            folded[name] += report.folded
            if done and not report.folded and not report.busy:
                return
            await asyncio.sleep(0)

    bodies = []
    for i in range(120):
        flappy = [at(5000 + k, i, ("firing", "resolved")[i % 2]) for k in range(5)]
        bodies.append(payload([*(am_alert(i * 10 + n) for n in range(10)), *flappy]))
    try:
        async with receiver(pool) as url, aiohttp.ClientSession() as http:
            consumers = [
                asyncio.create_task(consume("a", pool)),
                asyncio.create_task(consume("b", second)),
            ]
            for body in bodies:  # in order: a flapping alert's story is told in sequence
                async with http.post(url, json=body, headers=auth()) as r:
                    assert r.status == 200
            arriving.set()
            await asyncio.gather(*consumers)
    finally:
        await second.close()
    ids = [r["id"] for r in await pool.fetch("SELECT id FROM alert_inbox ORDER BY id")]
    assert len(ids) == 120
    assert not set(folded["a"]) & set(folded["b"])
    assert sorted(folded["a"] + folded["b"]) == ids
    assert folded["a"] and folded["b"], folded  # both replicas took a share
    assert await pool.fetchval("SELECT count(*) FROM alert_inbox WHERE folded_at IS NULL") == 0
    assert await pool.fetchval("SELECT count(*) FROM alerts WHERE state = 'firing'") == 1200
    # payload 119 (odd) resolved the flapping alerts last
    flapping = await pool.fetch(
        "SELECT state, resolved_at FROM alerts WHERE external_fingerprint >= $1", f"{5000:016x}"
    )
    assert [r["state"] for r in flapping] == ["resolved"] * 5
    assert {r["resolved_at"] for r in flapping} == {T0 + timedelta(minutes=119)}


async def test_a_replica_folding_holds_the_others_off_and_its_crash_loses_nothing(
    pool: asyncpg.Pool,
) -> None:
    async with (
        receiver(pool) as url,
        aiohttp.ClientSession() as http,
        http.post(url, json=payload([am_alert(1)]), headers=auth()) as r,
    ):
        assert r.status == 200
    crashed = await pool.acquire()
    try:
        tx = crashed.transaction()
        await tx.start()
        assert await crashed.fetchval("SELECT pg_try_advisory_xact_lock($1)", inbox.FOLD_LOCK_KEY)
        await crashed.execute("UPDATE alert_inbox SET folded_at = now()")  # half-way through
        report = await fold(pool)
        assert report.busy and report.folded == []
        await tx.rollback()  # the replica died before commit
    finally:
        await pool.release(crashed)
    assert await inbox.pending(pool) == 1
    assert len((await fold(pool)).folded) == 1
    assert await pool.fetchval("SELECT state FROM alerts") == "firing"


async def test_a_payload_postgresql_refuses_to_fold_is_kept_aside_the_rest_folded(
    pool: asyncpg.Pool,
) -> None:
    """A payload appended by an older receiver that did not check label sizes."""
    too_big = am_alert(2, alertname=secrets.token_hex(MAX_LABEL_BYTES * 4))  # incompressible
    now = datetime.now(UTC)
    for alerts in ([am_alert(1)], [too_big], [am_alert(3)]):
        await pool.execute(
            "INSERT INTO alert_inbox (received_at, alerts, payload) VALUES ($1, $2, $3)",
            now,
            len(alerts),
            json.dumps(payload(alerts)),
        )
    report = await fold(pool)
    assert len(report.folded) == 2 and len(report.failed) == 1
    failed = await pool.fetchrow(
        "SELECT failed, folded_at FROM alert_inbox WHERE failed IS NOT NULL"
    )
    assert "index" in failed["failed"] and failed["folded_at"] is not None
    names = sorted(r["fingerprint"] for r in await pool.fetch("SELECT fingerprint FROM alerts"))
    assert names == [f"{1:016x}", f"{3:016x}"]
    assert await inbox.pending(pool) == 0  # not retried for ever


async def test_escaped_emoji_take_the_careful_path_and_are_kept(pool: asyncpg.Pool) -> None:
    alert = am_alert(1)
    alert["annotations"]["summary"] = "disk \U0001f525 full"
    body = json.dumps(payload([alert])).encode()  # ensure_ascii: "\ud83d\udd25"
    assert b"\\ud83d" in body
    async with (
        receiver(pool) as url,
        aiohttp.ClientSession() as http,
        http.post(url, data=body, headers={**auth(), "Content-Type": "application/json"}) as r,
    ):
        assert r.status == 200, await r.text()
    await fold(pool)
    assert await pool.fetchval("SELECT annotations->>'summary' FROM alerts") == "disk 🔥 full"


async def test_a_resolve_folded_after_a_flush_that_missed_it_is_shown_at_once(
    pool: asyncpg.Pool,
) -> None:
    """The consumer lagged: the group's interval flush ran after the resolve arrived but before
    it was folded. The group is looked at again at once, not a group interval later."""
    from services.alerts import dispatch, pipeline
    from services.clock import FrozenClock
    from tests.integration.alerts.conftest import AUDIENCE, outbox_rows

    clock = FrozenClock(T0)
    config = AlertsRules()

    async def arrive(alerts: list[dict[str, Any]], status: str = "firing") -> None:
        checked = check(json.dumps(payload(alerts, status)).encode())
        await inbox.append(pool, checked, clock.now())

    await arrive([am_alert(1)])
    await inbox.fold_all(pool, config, clock)
    clock.advance(seconds=31)
    await pipeline.tick(pool, config, clock, AUDIENCE, evaluate_rules=False)
    assert [r["kind"] for r in await outbox_rows(pool)] == ["text"]
    clock.advance(seconds=299)
    await arrive([am_alert(1, "resolved")], "resolved")
    clock.advance(seconds=2)
    await dispatch.flush_due(pool, config, clock, AUDIENCE)  # the interval flush, before the fold
    await inbox.fold_all(pool, config, clock)
    clock.advance(seconds=1)
    await pipeline.tick(pool, config, clock, AUDIENCE, evaluate_rules=False)
    rows = await outbox_rows(pool)
    assert [r["kind"] for r in rows] == ["text", "edit"]
    assert "Resolved: DiskFull" in rows[-1]["payload"]["text"]
