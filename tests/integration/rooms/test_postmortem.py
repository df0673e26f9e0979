"""The postmortem draft on resolve: payments failed during the incident read from QuickCart's
database (a real PostgreSQL holding the demo schema), alerts firing and resolving on the
timeline once each, and /postmortem's regeneration."""

from __future__ import annotations

import base64
from dataclasses import replace
from datetime import timedelta

import asyncpg

from sandbox.world.demo_db import SCHEMA
from services import users
from services.clock import FrozenClock
from services.escalation.incidents import acknowledge, resolve
from services.postmortem import draft
from services.reports.quickcart import QuickCartDatabase
from services.rooms import store, sync
from services.rooms.config import RoomsContext
from tests.integration.escalation.conftest import DEWI
from tests.integration.rooms.conftest import open_room


async def documents(db: asyncpg.Pool, ticket_id: int, suffix: str) -> list[str]:
    rows = await db.fetch(
        "SELECT payload FROM outbox WHERE kind = 'document' AND owner = $1 ORDER BY id",
        f"room:{ticket_id}",
    )
    return [
        base64.b64decode(r["payload"]["document"]["base64"]).decode()
        for r in rows
        if r["payload"]["document"]["filename"].endswith(suffix)
    ]


async def test_the_draft_counts_the_payments_that_failed_during_the_incident(
    roster: asyncpg.Pool, rooms: RoomsContext, empty_db_url: str
) -> None:
    clock = FrozenClock()
    t0 = clock.now()
    quickcart = await asyncpg.connect(empty_db_url)
    try:
        await quickcart.execute(SCHEMA)
        await quickcart.execute(
            "INSERT INTO customers (name, email, created_at) VALUES ('Budi', 'b@x', $1)", t0
        )
        await quickcart.execute(
            "INSERT INTO orders (code, customer_id, total, status, created_at) "
            "VALUES ('A1', 1, 1000, 'pending', $1)",
            t0,
        )
        payments = [  # (minutes after t0, status)
            *[(5, "failed")] * 3, (10, "expired"), *[(12, "completed")] * 5, *[(20, "pending")] * 2,
            *[(-30, "failed")] * 4, (200, "failed"),  # before and after the incident
        ]  # fmt: skip
        for minutes, status in payments:
            await quickcart.execute(
                "INSERT INTO payments (order_id, method, amount, status, created_at) "
                "VALUES (1, 'qris', 1000, $1, $2)",
                status,
                t0 + timedelta(minutes=minutes),
            )
    finally:
        await quickcart.close()
    rooms = replace(rooms, quickcart=QuickCartDatabase(empty_db_url))
    dewi = await users.get(roster, DEWI)
    assert dewi is not None
    tid = await open_room(roster, clock, rooms, "Payments failing", "P0")
    await roster.execute(
        "INSERT INTO alert_groups (group_key, labels, severity, created_at, incident_id) "
        "VALUES ('k', '{}', 'critical', $1, $2)",
        t0,
        tid,
    )
    await roster.execute(
        "INSERT INTO alerts (fingerprint, source, alertname, labels, state, fired_at, group_id) "
        "VALUES ('f1', 'manual', 'PaymentErrors', '{}', 'firing', $1, 1)",
        t0 + timedelta(minutes=1),
    )
    clock.set(t0 + timedelta(minutes=3))
    await acknowledge(roster, clock, rooms.escalation, tid, dewi, chat_id=1)
    await sync.tick(roster, clock, rooms)
    await sync.tick(roster, clock, rooms)
    await roster.execute(
        "UPDATE alerts SET state = 'resolved', resolved_at = $1", t0 + timedelta(minutes=50)
    )
    clock.set(t0 + timedelta(minutes=60))
    await resolve(roster, clock, rooms.escalation, tid, dewi, chat_id=1)
    await sync.tick(roster, clock, rooms)
    await sync.tick(roster, clock, rooms)  # the draft goes once

    [markdown] = await documents(roster, tid, ".md")
    [page] = await documents(roster, tid, ".html")
    assert markdown.count("## ") == 7
    # 3 failed + 1 expired finished unsuccessfully inside the hour (the room's language)
    counted = (
        "- Payments failed during the incident: 4\n",
        "- Pembayaran gagal selama insiden: 4\n",
    )
    assert any(line in markdown for line in counted), markdown
    assert "PaymentErrors" in page
    alerts = await roster.fetch(
        "SELECT kind, at, details FROM ticket_events WHERE kind LIKE 'alert_%' ORDER BY id"
    )
    assert [(r["kind"], r["at"] - t0, r["details"]["alert"]) for r in alerts] == [
        ("alert_firing", timedelta(minutes=1), "PaymentErrors"),
        ("alert_resolved", timedelta(minutes=50), "PaymentErrors"),
    ]
    room = await store.get(roster, tid)
    assert room is not None and room.postmortem_at == t0 + timedelta(minutes=60)

    # /postmortem after edits: a second draft, with the follow-up recorded since.
    async with roster.acquire() as conn, conn.transaction():
        await conn.execute(
            "INSERT INTO incident_followups (ticket_id, text, created_at) VALUES ($1, $2, $3)",
            tid,
            "Alert on payment failure rate per method",
            clock.now(),
        )
        assert await draft.post(conn, rooms, tid, clock.now(), actor_id=DEWI, payments_failed=4)
    drafts = await documents(roster, tid, ".md")
    assert len(drafts) == 2
    assert "Alert on payment failure rate per method" in drafts[1]
