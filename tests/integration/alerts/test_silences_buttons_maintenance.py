"""Silences by each matcher kind, the buttons on an alert message, maintenance windows."""

from __future__ import annotations

from datetime import timedelta

import asyncpg
import pytest

from services.alerts import actions, pipeline
from services.alerts.incidents import EscalationUnavailable, IncidentRequest
from services.alerts.matchers import parse_matchers
from services.clock import FrozenClock
from services.storage.types import Executor
from tests.integration.alerts.conftest import (
    AUDIENCE,
    DIMAS,
    PRODUCT,
    add_people,
    cpu_only,
    outbox_rows,
    sample,
)


async def fire(
    pool: asyncpg.Pool,
    clock: FrozenClock,
    minutes: int = 6,
    value: float = 93,
    target: str = "web-1",
) -> None:
    for _ in range(minutes):
        await sample(pool, clock.now(), value, target=target)
        await pipeline.tick(pool, cpu_only(), clock, AUDIENCE)
        clock.advance(minutes=1)


async def group_id(pool: asyncpg.Pool) -> int:
    value: int = await pool.fetchval("SELECT id FROM alert_groups ORDER BY id LIMIT 1")
    return value


async def fired_group(pool: asyncpg.Pool, clock: FrozenClock) -> int:
    """The people on the roster and CpuHigh firing, its message not posted yet: the group."""
    await add_people(pool)
    await fire(pool, clock)
    return await group_id(pool)


async def posted_group(pool: asyncpg.Pool, clock: FrozenClock) -> int:
    """The people on the roster, CpuHigh firing and its group's message posted: the group."""
    await add_people(pool)
    await fire(pool, clock)
    clock.advance(seconds=30)
    await pipeline.tick(pool, cpu_only(), clock, AUDIENCE)
    return await group_id(pool)


@pytest.mark.parametrize(
    ("matchers", "muted"),
    [
        ('alertname="CpuHigh"', True),
        ('target!="web-2"', True),
        ('target=~"web-[0-9]+"', True),
        ('target!~"db-.*"', True),
        ('alertname="DiskFull"', False),
        ('target!="web-1"', False),
        ('target=~"web"', False),
        ('target!~"web-.*"', False),
    ],
)
async def test_a_silence_by_each_matcher_kind_mutes_only_what_it_matches(
    pool: asyncpg.Pool, clock: FrozenClock, matchers: str, muted: bool
) -> None:
    await add_people(pool)
    await actions.add_silence(
        pool,
        DIMAS,
        tuple(parse_matchers(matchers)),
        timedelta(hours=2),
        "test",
        chat_id=None,
        now=clock.now(),
    )
    await fire(pool, clock)
    clock.advance(seconds=30)
    await pipeline.tick(pool, cpu_only(), clock, AUDIENCE)
    assert len(await outbox_rows(pool)) == (0 if muted else 1)
    view = await pipeline.overview(pool, clock.now())
    assert len(view.silenced) == (1 if muted else 0)
    assert len(view.firing) == (0 if muted else 1)


async def test_acknowledge_shows_who_stops_repeats_and_is_audited(
    pool: asyncpg.Pool, clock: FrozenClock
) -> None:
    gid = await posted_group(pool, clock)
    await actions.press(
        pool, DIMAS, gid, "ack", chat_id=-100111, now=clock.now(), audience=AUDIENCE
    )
    rows = await outbox_rows(pool)
    assert rows[-1]["kind"] == "edit" and rows[-1]["ref_id"] == rows[0]["id"]
    assert "Acknowledged by Dimas at" in rows[-1]["payload"]["text"]
    with pytest.raises(actions.AlreadyDone):
        await actions.press(
            pool, DIMAS, gid, "ack", chat_id=-100111, now=clock.now(), audience=AUDIENCE
        )
    audit = await pool.fetch("SELECT action, allowed, actor_id FROM audit_log ORDER BY id")
    assert [(a["action"], a["allowed"], a["actor_id"]) for a in audit] == [
        ("alerts.ack", True, DIMAS.id)
    ]


async def test_a_person_without_the_role_is_refused_and_the_refusal_audited(
    pool: asyncpg.Pool, clock: FrozenClock
) -> None:
    gid = await fired_group(pool, clock)
    for person, act in ((PRODUCT, "s1"), (PRODUCT, "ack"), (None, "res")):
        with pytest.raises(actions.NotAllowed):
            await actions.press(
                pool, person, gid, act, chat_id=-100111, now=clock.now(), audience=AUDIENCE
            )
    refused = await pool.fetch("SELECT action, allowed FROM audit_log ORDER BY id")
    assert [(r["action"], r["allowed"]) for r in refused] == [
        ("alerts.silence", False),
        ("alerts.ack", False),
        ("alerts.res", False),
    ]
    assert await pool.fetchval("SELECT count(*) FROM alert_silences") == 0


async def test_silence_one_hour_mutes_the_group_until_it_ends(
    pool: asyncpg.Pool, clock: FrozenClock
) -> None:
    gid = await posted_group(pool, clock)
    result = await actions.press(
        pool, DIMAS, gid, "s1", chat_id=-100111, now=clock.now(), audience=AUDIENCE
    )
    assert result.silence is not None
    assert result.silence.ends_at - clock.now() == timedelta(hours=1)
    assert "Silenced until" in (await outbox_rows(pool))[-1]["payload"]["text"]
    before = len(await outbox_rows(pool))
    await fire(pool, clock, minutes=200)  # no new message; the silence ends after 1 h
    assert len(await outbox_rows(pool)) - before == 1  # one edit when the silence ended
    assert all(r["kind"] == "edit" for r in (await outbox_rows(pool))[1:])


async def test_escalate_opens_an_incident_at_level_one_through_the_seam(
    pool: asyncpg.Pool, clock: FrozenClock
) -> None:
    gid = await fired_group(pool, clock)
    with pytest.raises(EscalationUnavailable):
        await actions.press(
            pool, DIMAS, gid, "esc", chat_id=-100111, now=clock.now(), audience=AUDIENCE
        )
    asked: list[IncidentRequest] = []

    async def open_incident(db: Executor, request: IncidentRequest) -> int:
        asked.append(request)  # the escalation feature's own tests cover what it does next
        return 42

    result = await actions.press(
        pool,
        DIMAS,
        gid,
        "esc",
        chat_id=-100111,
        now=clock.now(),
        audience=AUDIENCE,
        open_incident=open_incident,
    )
    assert result.incident_id == 42
    assert asked[0].title == "CpuHigh" and asked[0].opened_by == DIMAS.id
    assert await pool.fetchval("SELECT incident_id FROM alert_groups") == 42


async def test_resolve_closes_the_group_with_a_final_edit(
    pool: asyncpg.Pool, clock: FrozenClock
) -> None:
    await actions.press(
        pool,
        DIMAS,
        await posted_group(pool, clock),
        "res",
        chat_id=-100111,
        now=clock.now(),
        audience=AUDIENCE,
    )
    last = (await outbox_rows(pool))[-1]
    assert last["payload"]["text"].startswith("✅")
    assert await pool.fetchval("SELECT status FROM alert_groups") == "resolved"


async def test_a_maintenance_window_records_alerts_and_summarises_them_at_the_end(
    pool: asyncpg.Pool, clock: FrozenClock
) -> None:
    await add_people(pool)
    window = await actions.start_maintenance(
        pool, DIMAS, timedelta(hours=1), "db upgrade", chat_id=None, now=clock.now()
    )
    await fire(pool, clock, minutes=20)
    assert await outbox_rows(pool) == []
    assert await pool.fetchval("SELECT count(*) FROM maintenance_muted") == 1
    await actions.stop_maintenance(pool, DIMAS, chat_id=None, now=clock.now())
    await pipeline.tick(pool, cpu_only(), clock, AUDIENCE)
    rows = await outbox_rows(pool)
    assert len(rows) == 2
    assert rows[0]["owner"] == f"maintenance:{window.id}"
    assert "1 alert was muted during it:" in rows[0]["payload"]["text"]
    assert "Firing: CpuHigh" in rows[1]["payload"]["text"]  # still firing: now pushed


async def test_only_engineers_may_start_maintenance(pool: asyncpg.Pool, clock: FrozenClock) -> None:
    await add_people(pool)
    with pytest.raises(actions.NotAllowed):
        await actions.start_maintenance(
            pool, PRODUCT, timedelta(hours=1), "", chat_id=None, now=clock.now()
        )
    assert await pool.fetchval("SELECT count(*) FROM maintenance_windows") == 0
