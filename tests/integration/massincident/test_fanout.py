"""Fan-outs against real PostgreSQL: each linked customer in their language, a missing notice
language falling back (and the card saying so), blocked customers counted and not sent to,
the delivery hook counting what left, refusals audited."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import asyncpg
import pytest

from services import audit
from services.clock import FrozenClock
from services.delivery.errors import FORBIDDEN, PermanentError
from services.delivery.rows import OutboxRow
from services.escalation.incidents import open_incident
from services.massincident import declare, fanout, intake, propose
from services.massincident import store_updates as updates
from services.massincident.config import MassContext, MassRules
from services.massincident.delivery import FanOutDeliveryHook
from services.staff import NotAllowed
from services.tickets.model import Incoming
from tests.cast import SARI, person
from tests.integration.escalation.conftest import TONO, make_roster
from tests.integration.massincident.affected import (
    ANI,
    BOB,
    CICI,
    add_customers,
    customers_write,
    declare_payment_outage,
    mass_context,
)


@pytest.fixture
async def roster(pool: asyncpg.Pool) -> asyncpg.Pool:
    await make_roster(pool)
    await add_customers(pool)
    return pool


@pytest.fixture
def mctx() -> MassContext:
    return mass_context(MassRules(card_edit_seconds=0))


async def linked_incident(db: asyncpg.Pool, mctx: MassContext, clock: FrozenClock) -> int:
    opened = await open_incident(
        db, clock, mctx.escalation, source="staff", title="Pakasir down", priority="P1"
    )
    tid = opened.incident.ticket_id
    await declare_payment_outage(db, clock, mctx, tid)
    # staff remove the proposed English notice: English customers get the Indonesian one
    public = await declare.set_notice(db, clock, mctx, tid, await person(db, TONO), "en", "")
    assert public.missing_language == "en"
    await customers_write(db, mctx, clock, "payment failed / pembayaran gagal")
    return tid


def row_of(record: Any) -> OutboxRow:
    return OutboxRow.from_record(record)


async def test_an_update_reaches_each_linked_customer_in_their_language_and_counts_the_blocked(
    roster: asyncpg.Pool, mctx: MassContext
) -> None:
    clock = FrozenClock()
    tid = await linked_incident(roster, mctx, clock)
    bob_notice = await roster.fetchval(
        "SELECT payload->>'text' FROM outbox WHERE chat_id = $1 AND dedup_key LIKE 'pubnotice:%'",
        BOB,
    )
    assert "Pembayaran sedang gangguan." in bob_notice  # no English notice: the Indonesian one
    card = await roster.fetchval(
        "SELECT payload->>'text' FROM outbox WHERE owner = $1 ORDER BY id DESC LIMIT 1",
        f"pubcard:{tid}:a",
    )
    assert "No English notice" in card or "Belum ada pemberitahuan bahasa Inggris" in card, card
    await roster.execute(
        "UPDATE tickets SET customer_blocked_at = now() WHERE customer_id = $1", CICI
    )

    sent = await fanout.send_customer_update(
        roster, clock, mctx, tid, "id: Sedang dipulihkan <b>&</b> en: Recovering now",
        await person(roster, TONO), chat_id=-7,
    )  # fmt: skip
    assert (sent.total, sent.queued, sent.blocked) == (3, 2, 1)
    rows = {
        r["chat_id"]: r
        for r in await roster.fetch(
            "SELECT * FROM outbox WHERE owner = $1", f"pubupd:{sent.update_id}"
        )
    }
    assert set(rows) == {ANI, BOB}
    assert "Sedang dipulihkan &lt;b&gt;&amp;&lt;/b&gt;" in rows[ANI]["payload"]["text"]
    assert "Recovering now" in rows[BOB]["payload"]["text"]
    assert "Update on the known issue" in rows[BOB]["payload"]["text"]

    hook = FanOutDeliveryHook(mctx, clock)
    await hook.on_sent(roster, row_of(rows[ANI]), {"message_id": 5})
    await hook.on_failed(roster, row_of(rows[BOB]), PermanentError(FORBIDDEN, "blocked"))
    progress = await updates.progress_of(roster, sent.update_id)
    assert progress is not None
    assert (progress.sent, progress.blocked, progress.failed, progress.total) == (1, 2, 0, 3)
    assert progress.finished_at is not None
    assert await roster.fetchval(
        "SELECT customer_blocked_at IS NOT NULL FROM tickets WHERE customer_id = $1", BOB
    )
    # the next update is not even queued for Bob and Cici
    again = await fanout.send_customer_update(
        roster, clock, mctx, tid, "Masih dipulihkan", await person(roster, TONO)
    )
    assert (again.total, again.queued, again.blocked) == (3, 1, 2)
    timeline = (
        "SELECT kind FROM ticket_events WHERE ticket_id = $1 AND kind LIKE 'public%' ORDER BY id"
    )
    events = [r["kind"] for r in await roster.fetch(timeline, tid)]
    assert events == ["public_declared", "public_notice_changed", "public_update", "public_update"]


async def test_a_support_engineer_may_not_update_customers_and_it_is_audited(
    roster: asyncpg.Pool, mctx: MassContext
) -> None:
    clock = FrozenClock()
    tid = await linked_incident(roster, mctx, clock)
    with pytest.raises(NotAllowed):
        await fanout.send_customer_update(
            roster, clock, mctx, tid, "hello", await person(roster, SARI), chat_id=-7
        )
    refused = await audit.entries_since(
        roster, clock.now() - timedelta(days=1), action_prefix="incident.update", allowed=False
    )
    assert [e.actor_id for e in refused] == [SARI]
    assert await roster.fetchval("SELECT count(*) FROM public_updates") == 0


async def _payment_tickets(db: asyncpg.Pool, clock: FrozenClock, n: int) -> None:
    for i in range(n):
        uid = 1200 + i
        await db.execute("INSERT INTO users (id, first_name) VALUES ($1, 'C')", uid)
        await db.execute(
            """INSERT INTO tickets (customer_id, priority, category, channel, subject, description,
                                    created_at, updated_at, response_due, resolution_due)
               VALUES ($1, 'P1', 'payment', 'bot', 'gagal', 'gagal', $2, $2, $2, $2)""",
            uid,
            clock.now() - timedelta(minutes=1),
        )


async def test_a_firing_payment_alert_makes_three_payment_tickets_a_proposal_once(
    roster: asyncpg.Pool, mctx: MassContext
) -> None:
    clock = FrozenClock()
    await _payment_tickets(roster, clock, 3)
    assert await propose.scan(roster, mctx, clock) == []  # three alone are not a storm
    await roster.execute(
        """INSERT INTO alerts (fingerprint, source, alertname, labels, state)
           VALUES ('f1', 'alertmanager', 'PakasirDown', '{}', 'firing')"""
    )
    made = await propose.scan(roster, mctx, clock)
    assert [(p.category, p.tickets, p.alert) for p in made] == [("payment", 3, "PakasirDown")]
    texts = await roster.fetch(
        "SELECT chat_id, payload->>'text' AS t FROM outbox WHERE owner LIKE 'pubprop:%'"
    )
    assert len(texts) == 2 and all("PakasirDown" in r["t"] for r in texts)
    clock.advance(minutes=2)
    assert await propose.scan(roster, mctx, clock) == []  # once per window


async def test_customers_writing_about_payments_without_tickets_are_proposed_too(
    roster: asyncpg.Pool, mctx: MassContext
) -> None:
    clock = FrozenClock()
    for i in range(10):
        uid = 1300 + i
        await roster.execute("INSERT INTO users (id, first_name) VALUES ($1, 'C')", uid)
        taken = await intake.customer_wrote(
            roster, mctx, clock, customer=await person(roster, uid),
            incoming=Incoming(chat_id=uid, message_id=1, author_id=uid, kind="text",
                              text="Pembayaran QRIS gagal terus"),
        )  # fmt: skip
        assert taken is None  # nothing declared: the desk's usual way
    # one customer writing three times is one customer
    for n in range(2, 4):
        await intake.customer_wrote(
            roster, mctx, clock, customer=await person(roster, 1300),
            incoming=Incoming(chat_id=1300, message_id=n, author_id=1300, kind="text",
                              text="bayar gagal"),
        )  # fmt: skip
    made = await propose.scan(roster, mctx, clock)
    assert [(p.category, p.tickets, p.alert) for p in made] == [("payment", 10, None)]
    clock.advance(minutes=11)
    await propose.scan(roster, mctx, clock)
    assert await roster.fetchval("SELECT count(*) FROM public_signals") == 0  # forgotten
