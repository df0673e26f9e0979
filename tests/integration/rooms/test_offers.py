"""A room update on a customer-facing incident is offered to the affected customers (real
PostgreSQL): sent once however it is pressed (twice, at once, late), only by someone allowed
(refusals audited), an older or resolved offer sends nothing, and the summary and postmortem
count the linked customers."""

from __future__ import annotations

import asyncio

import asyncpg
import pytest

from services.clock import FrozenClock
from services.escalation.incidents import resolve
from services.massincident.config import MassContext, MassRules
from services.postmortem import build
from services.rooms import actions, offers, store
from services.rooms.config import RoomsContext
from services.rooms.render_offers import RoomOffer
from services.staff import NotAllowed
from tests.cast import person
from tests.integration.escalation.conftest import DEWI, SARI, TONO
from tests.integration.massincident.affected import (
    CICI,
    add_customers,
    customers_write,
    declare_payment_outage,
)
from tests.integration.rooms.conftest import open_room


@pytest.fixture
async def people(roster: asyncpg.Pool) -> asyncpg.Pool:
    await add_customers(roster)
    return roster


@pytest.fixture
def mctx(rooms: RoomsContext) -> MassContext:
    return MassContext(rooms.escalation, MassRules(card_edit_seconds=0))


async def incident(
    db: asyncpg.Pool, rooms: RoomsContext, mctx: MassContext, clock: FrozenClock, *,
    public: bool = True,
) -> int:  # fmt: skip
    tid = await open_room(db, clock, rooms, "Pakasir down", "P1")  # the room opens
    if not public:
        return tid
    await declare_payment_outage(db, clock, mctx, tid)
    await customers_write(db, mctx, clock, "pembayaran gagal")
    return tid


async def update(db: asyncpg.Pool, rooms: RoomsContext, clock: FrozenClock, tid: int, text: str):
    return await actions.post_update(
        db, clock, rooms, tid, await person(db, DEWI), text, chat_id=rooms.chat_id
    )


async def offer_rows(db: asyncpg.Pool) -> list[asyncpg.Record]:
    return list(await db.fetch("SELECT * FROM incident_room_offers ORDER BY id"))


async def fanned_out(db: asyncpg.Pool) -> int:
    return int(await db.fetchval("SELECT count(*) FROM outbox WHERE owner LIKE 'pubupd:%'"))


async def test_send_fans_the_update_out_once_and_the_offer_says_who_and_to_how_many(
    people: asyncpg.Pool, rooms: RoomsContext, mctx: MassContext
) -> None:
    db, clock = people, FrozenClock()
    tid = await incident(db, rooms, mctx, clock)
    await db.execute("UPDATE tickets SET customer_blocked_at = now() WHERE customer_id = $1", CICI)
    await update(db, rooms, clock, tid, "Failover <b>done</b> & payments recovering")
    [offer] = await offer_rows(db)
    assert offer["customers"] == 2 and offer["decision"] is None
    message = await db.fetchrow("SELECT * FROM outbox WHERE id = $1", offer["outbox_id"])
    assert message["chat_id"] == rooms.chat_id and message["owner"] == f"room:{tid}"
    buttons = [b for row in message["payload"]["reply_markup"]["inline_keyboard"] for b in row]
    assert [b["callback_data"] for b in buttons] == [
        RoomOffer(offer["id"], "send").pack(), RoomOffer(offer["id"], "int").pack()
    ]  # fmt: skip
    assert buttons[0]["text"] == "Kirim ke 2 pelanggan"  # the incidents chat speaks Indonesian
    assert "Failover &lt;b&gt;done&lt;/b&gt; &amp; payments" in message["payload"]["text"]
    assert await fanned_out(db) == 0  # nothing reaches customers before someone says so

    # A support engineer may keep it internal but not send it: refused, audited, nothing sent.
    with pytest.raises(NotAllowed):
        await offers.send(db, clock, rooms, mctx, offer["id"], await person(db, SARI), chat_id=-5)
    refused = await db.fetchval(
        "SELECT count(*) FROM audit_log WHERE actor_id = $1 AND action = 'incident.update' "
        "AND NOT allowed",
        SARI,
    )
    assert refused == 1 and await fanned_out(db) == 0

    # Two presses at once (two people, or a double tap): one fan-out.
    dewi, tono = await person(db, DEWI), await person(db, TONO)
    results = await asyncio.gather(
        offers.send(db, clock, rooms, mctx, offer["id"], dewi, chat_id=-5),
        offers.send(db, clock, rooms, mctx, offer["id"], tono, chat_id=-5),
        return_exceptions=True,
    )
    done = [r for r in results if isinstance(r, offers.Decided)]
    taken = [r for r in results if isinstance(r, offers.OfferDecided)]
    assert len(done) == 1 and len(taken) == 1, results
    assert (done[0].sent_to, done[0].blocked) == (2, 1)
    assert await fanned_out(db) == 2
    # ...and a late press, of either button, finds it decided.
    with pytest.raises(offers.OfferDecided) as late:
        await offers.send(db, clock, rooms, mctx, offer["id"], tono, chat_id=-5)
    assert late.value.decision == "sent"
    with pytest.raises(offers.OfferDecided):
        await offers.keep_internal(db, clock, rooms, offer["id"], tono, chat_id=-5)
    assert await fanned_out(db) == 2
    [offer] = await offer_rows(db)
    assert (offer["decision"], offer["sent_to"], offer["blocked"]) == ("sent", 2, 1)
    edit = await db.fetchval(
        "SELECT payload->>'text' FROM outbox WHERE kind = 'edit' AND ref_id = $1",
        offer["outbox_id"],
    )
    sender = "Dewi" if offer["decided_by"] == DEWI else "Tono"
    assert f"Dikirim ke 2 pelanggan oleh {sender}" in edit, edit
    assert "1 pelanggan terkait memblokir bot" in edit, edit
    assert await db.fetchval(
        "SELECT count(*) FROM ticket_events WHERE ticket_id = $1 AND kind = 'public_update'", tid
    ) == 1  # fmt: skip


async def test_an_older_or_resolved_offer_sends_nothing_and_internal_only_is_recorded(
    people: asyncpg.Pool, rooms: RoomsContext, mctx: MassContext
) -> None:
    db, clock = people, FrozenClock()
    tid = await incident(db, rooms, mctx, clock)
    sari, dewi = await person(db, SARI), await person(db, DEWI)
    await update(db, rooms, clock, tid, "Investigating")
    await update(db, rooms, clock, tid, "Fix deployed")
    first, second = await offer_rows(db)
    with pytest.raises(offers.OfferSuperseded):
        await offers.send(db, clock, rooms, mctx, first["id"], dewi, chat_id=-5)
    decided = await offers.keep_internal(db, clock, rooms, second["id"], sari, chat_id=-5)
    assert decided.decision == "internal"
    edit = await db.fetchval(
        "SELECT payload->>'text' FROM outbox WHERE kind = 'edit' AND ref_id = $1",
        second["outbox_id"],
    )
    assert "Tetap internal, diputuskan oleh Sari" in edit, edit
    with pytest.raises(offers.OfferDecided):
        await offers.send(db, clock, rooms, mctx, second["id"], dewi, chat_id=-5)
    # An offer left open when the incident resolves: the customers heard of the fix already.
    await update(db, rooms, clock, tid, "All good")
    third = (await offer_rows(db))[-1]
    await resolve(db, clock, rooms.escalation, tid, dewi)
    before = await fanned_out(db)  # the resolution's own fan-out
    with pytest.raises(offers.NotCustomerFacing):
        await offers.send(db, clock, rooms, mctx, third["id"], dewi, chat_id=-5)
    assert await fanned_out(db) == before
    assert (await offer_rows(db))[-1]["decision"] is None
    # Forged data: an offer that does not exist.
    with pytest.raises(offers.NoSuchOffer):
        await offers.send(db, clock, rooms, mctx, 10**12, dewi, chat_id=-5)
    # After the resolution an update is not offered any more.
    await update(db, rooms, clock, tid, "Postmortem on Friday")
    assert len(await offer_rows(db)) == 3


async def test_an_internal_incident_offers_nothing(
    people: asyncpg.Pool, rooms: RoomsContext, mctx: MassContext
) -> None:
    db, clock = people, FrozenClock()
    tid = await incident(db, rooms, mctx, clock, public=False)
    await update(db, rooms, clock, tid, "Looking into it")
    assert await offer_rows(db) == []
    assert await db.fetchval("SELECT count(*) FROM outbox WHERE payload::text LIKE '%ro:%'") == 0


async def test_the_summary_and_the_postmortem_count_the_linked_customers(
    people: asyncpg.Pool, rooms: RoomsContext, mctx: MassContext
) -> None:
    db, clock = people, FrozenClock()
    tid = await incident(db, rooms, mctx, clock)
    await update(db, rooms, clock, tid, "Investigating")  # the summary is edited
    room = await store.get(db, tid)
    assert room is not None and room.summary_text is not None
    assert "Pelanggan terdampak: 3" in room.summary_text, room.summary_text
    pm = await build.build(db, tid)
    assert pm is not None and pm.customers == 3
    # The staff member who raised it with /incident is not a customer.
    other = await incident(db, rooms, mctx, clock, public=False)
    pm = await build.build(db, other)
    assert pm is not None and pm.customers == 0
