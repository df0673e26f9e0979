"""Issue 13, the desk's findings on real PostgreSQL: the card follows the ticket and its incident
(one edit per card per minute at most), a missed response deadline is told once, an incident
and its ticket end and change priority together, long customer texts reach the topic whole, and
a person's name is printed once."""

from __future__ import annotations

from datetime import timedelta

import asyncpg
import pytest

from services import roster
from services.classification import Priority
from services.escalation import incidents, queries
from services.i18n import use_locale
from services.tickets import actions, history, store
from services.tickets.model import Incoming, NotAllowed, Ticket, TicketStatus
from services.users import Person, Role
from tests.integration.tickets.conftest import SUPPORT_CHAT, DeskWorld, IncidentDesk, make_staff

ADMIN_CHAT = -1001000000001
DEWI = 2002  # senior engineer, on call: the level after support


# DEFAULT_LOCALE en: staff without a language of their own, and the desk, read English.
pytestmark = pytest.mark.usefixtures("english_by_default")


@pytest.fixture
def world(world: DeskWorld, english_by_default: None) -> IncidentDesk:
    return IncidentDesk.beside(world, admin_chat_id=ADMIN_CHAT)


@pytest.fixture
async def dewi(pool: asyncpg.Pool) -> Person:
    person = await make_staff(pool, DEWI, "Dewi", ["senior_engineer"])
    await roster.set_on_call(pool, Role.SENIOR_ENGINEER, DEWI, set_by=None)
    return person


async def open_ticket(
    world: DeskWorld,
    customer: Person,
    description: str = "Pembayaran QRIS saya gagal tapi saldo sudah terpotong",
) -> int:
    return (await world.open_ticket(customer, description)).ticket.id


@pytest.fixture
async def ticket_id(world: IncidentDesk, budi: Person) -> int:
    """Budi's payment ticket (a test names it after its staff, so that they exist first): its id."""
    return await open_ticket(world, budi)


@pytest.fixture
async def ticket(world: IncidentDesk, ticket_id: int) -> Ticket:
    """That ticket as it was stored when opened (its deadlines)."""
    return await store.get(world.pool, ticket_id)


async def card_edits(pool: asyncpg.Pool, ticket_id: int) -> list[asyncpg.Record]:
    return await pool.fetch(
        """
        SELECT o.* FROM outbox o JOIN tickets t ON o.ref_id = t.card_outbox_id
        WHERE t.id = $1 AND o.kind = 'edit' ORDER BY o.id
        """,
        ticket_id,
    )


def at_once(row: asyncpg.Record) -> bool:
    """Queued without a later time of its own (not_before defaults to the insert's now())."""
    return bool(row["not_before"] == row["created_at"])


async def sent(pool: asyncpg.Pool, row_id: int) -> None:
    """What the delivery worker does with a row it sent."""
    await pool.execute("UPDATE outbox SET status = 'sent', sent_at = now() WHERE id = $1", row_id)


async def private_to(pool: asyncpg.Pool, user_id: int) -> list[str]:
    rows = await pool.fetch(
        "SELECT payload FROM outbox WHERE chat_id = $1 AND kind = 'text' ORDER BY id", user_id
    )
    return [r["payload"]["text"] for r in rows]


# -- 1. the card follows the ticket, one edit per card per minute at most ---------------------


async def test_the_card_follows_status_assignee_priority_and_level_at_once_for_a_person(
    world: IncidentDesk,
    rina: Person,
    admin: Person,
    dewi: Person,
    ticket_id: int,
) -> None:
    pool, clock, ctx = world.pool, world.clock, world.ctx
    t0 = clock.now()

    await world.act(actions.acknowledge, rina, ticket_id)
    [first] = await card_edits(pool, ticket_id)
    assert at_once(first)  # a button press shows at once
    assert "👀 acknowledged" in first["payload"]["text"]
    assert "Assignee: Rina" in first["payload"]["text"]
    await sent(pool, first["id"])

    # a person's next change, 10 s later, shows at once too
    clock.advance(seconds=10)
    await world.act(actions.assign, rina, ticket_id, assignee=dewi)
    edits = await card_edits(pool, ticket_id)
    assert len(edits) == 2 and at_once(edits[1])
    # more changes before that edit left fold into it: one edit, the newest text
    await world.act(actions.set_priority, rina, ticket_id, priority=Priority.P0)
    await incidents.escalate(pool, clock, ctx, ticket_id, admin)
    await incidents.acknowledge(pool, clock, ctx, ticket_id, dewi)
    edits = await card_edits(pool, ticket_id)
    assert len(edits) == 2
    text = edits[1]["payload"]["text"]
    assert "🔴 P0 Critical" in text
    assert "Assignee: Dewi" in text
    assert "Incident: level 2 of 5, Senior Engineer" in text
    assert "acknowledged by Dewi" in text
    await sent(pool, edits[1]["id"])

    # a person acting within 3 s of the last edit waits those 3 s, not a minute
    clock.advance(seconds=1)
    await world.act(actions.resolve, dewi, ticket_id)
    edits = await card_edits(pool, ticket_id)
    assert len(edits) == 3
    assert edits[2]["not_before"] == t0 + timedelta(seconds=13)
    assert "✅ resolved" in edits[2]["payload"]["text"]
    assert "Incident: resolved at level 2" in edits[2]["payload"]["text"]


async def test_what_the_clock_changes_waits_a_minute_and_a_person_pulls_it_forward(
    world: IncidentDesk,
    rina: Person,
    ticket: Ticket,
) -> None:
    pool, clock = world.pool, world.clock
    clock.set(ticket.response_due - timedelta(seconds=20))
    await world.act(actions.assign, rina, ticket.id, assignee=rina)
    [first] = await card_edits(pool, ticket.id)
    await sent(pool, first["id"])
    edited_at = clock.now()

    # the response deadline passes: the scan's edit waits a minute after the last edit
    clock.set(ticket.response_due + timedelta(seconds=10))
    await world.scan()
    edits = await card_edits(pool, ticket.id)
    assert len(edits) == 2 and edits[1]["not_before"] == edited_at + timedelta(minutes=1)
    assert "overdue" in edits[1]["payload"]["text"]

    # Rina acknowledges it: the waiting edit takes her change and leaves now
    await world.act(actions.acknowledge, rina, ticket.id)
    edits = await card_edits(pool, ticket.id)
    assert len(edits) == 2 and edits[1]["not_before"] == clock.now()
    assert "👀 acknowledged" in edits[1]["payload"]["text"]


async def test_the_topic_is_renamed_at_most_once_a_minute_with_the_newest_name(
    world: DeskWorld,
    budi: Person,
    rina: Person,
    ticket_id: int,
) -> None:
    """A staff answer (waiting) and the customer's reply (acknowledged) rename the topic back
    and forth; each rename is a line in the group, so they go a minute apart, newest name."""
    pool, clock = world.pool, world.clock
    created = await pool.fetchval(
        "SELECT id FROM outbox WHERE owner = $1 AND kind = 'create_topic'", f"ticket:{ticket_id}"
    )
    await pool.execute("UPDATE tickets SET topic_id = 77 WHERE id = $1", ticket_id)
    t0 = clock.now()
    await pool.execute(  # the topic was created now (the worker stamps sent_at from its clock)
        "UPDATE outbox SET status = 'sent', sent_at = $2 WHERE id = $1", created, t0
    )

    async def renames() -> list[asyncpg.Record]:
        return await pool.fetch(
            "SELECT * FROM outbox WHERE owner = $1 AND kind = 'edit_topic' ORDER BY id",
            f"ticket:{ticket_id}",
        )

    for round_ in range(5):
        clock.advance(seconds=5)
        answer = Incoming(SUPPORT_CHAT, 600 + round_, rina.id, "text", f"jawaban {round_}")
        await world.staff_message(rina, answer, topic_id=77)
        clock.advance(seconds=5)
        reply = Incoming(budi.id, 700 + round_, budi.id, "text", f"balasan {round_}")
        await world.customer_message(budi, reply)

    [rename] = await renames()
    assert rename["status"] == "pending"
    assert rename["not_before"] == t0 + timedelta(minutes=1)
    ticket = await store.get(pool, ticket_id)
    assert ticket.status is TicketStatus.ACKNOWLEDGED
    with use_locale("en"):
        from services.tickets.render import topic_title

        assert rename["payload"]["name"] == topic_title(ticket)


async def test_the_scan_refreshes_a_card_when_its_deadline_passes_and_not_before(
    world: IncidentDesk,
    rina: Person,
    ticket: Ticket,
) -> None:
    pool, clock = world.pool, world.clock
    clock.set(ticket.response_due - timedelta(minutes=1))
    await world.scan()
    assert await card_edits(pool, ticket.id) == []  # nothing changed yet

    clock.set(ticket.response_due + timedelta(minutes=2))
    await world.scan()
    [edit] = await card_edits(pool, ticket.id)
    assert "Response due: 2026-11-02 11:00 WIB · ⚠️ overdue by 2 min" in edit["payload"]["text"]
    await sent(pool, edit["id"])

    clock.advance(minutes=10)
    await world.scan()  # the card changes next an hour after the deadline
    assert len(await card_edits(pool, ticket.id)) == 1
    clock.set(ticket.response_due + timedelta(hours=1))
    await world.scan()
    edits = await card_edits(pool, ticket.id)
    assert len(edits) == 2
    assert "⚠️ overdue by 1 h 00 min" in edits[1]["payload"]["text"]


# -- 2. a missed response deadline is told once --------------------------------------------


async def test_a_p1_left_unanswered_tells_the_on_call_support_and_the_next_level_once(
    world: IncidentDesk,
    rina: Person,
    dewi: Person,
    ticket: Ticket,
) -> None:
    pool, clock = world.pool, world.clock
    assert ticket.priority is Priority.P1
    clock.set(ticket.response_due + timedelta(minutes=30))
    await world.scan()
    clock.advance(hours=2)
    await world.scan()  # again, later: nobody hears it twice

    for person in (rina, dewi):  # Rina: on-call support (no assignee); Dewi: the next level
        [notice] = await private_to(pool, person.id)
        assert notice.startswith(f"⏰ <b>{ticket.number}</b> was not answered in time")
        assert "⚠️ overdue by 30 min" in notice
    assert await private_to(pool, ADMIN_CHAT) == []
    events = [e for e in await history.timeline(pool, ticket.id) if e.kind == "response_breached"]
    assert len(events) == 1
    assert events[0].details["told"] == [rina.id, dewi.id]
    with use_locale("en"):
        page = await queries.timeline(pool, ticket.id)
    assert page is not None
    assert "Response deadline missed; told Rina, Dewi" in [line.text for line in page.lines]


async def test_the_assignee_is_told_rather_than_the_on_call_and_answering_in_time_tells_nobody(
    world: IncidentDesk,
    budi: Person,
    rina: Person,
    admin: Person,
    dewi: Person,
) -> None:
    pool, clock = world.pool, world.clock
    assigned = await open_ticket(world, budi)
    await world.act(actions.assign, rina, assigned, assignee=admin)
    answered = await open_ticket(world, budi, "Akun saya terkunci")
    reply = Incoming(SUPPORT_CHAT, 700, rina.id, "text", "Kami cek ya", author_name="Rina")
    await world.staff_message(rina, reply, ticket_id=answered)

    clock.advance(hours=3)  # past both tickets' response deadlines
    await world.scan()
    assert await private_to(pool, rina.id) == []
    [to_admin] = await private_to(pool, admin.id)
    assert f"QC-{assigned:06d}" in to_admin
    assert len(await private_to(pool, dewi.id)) == 1
    assert [e.kind for e in await history.timeline(pool, answered)].count("response_breached") == 0


# -- 5. a ticket and its incident end and change priority together ----------------------------


async def test_closing_resolving_and_reprioritising_carry_over_between_ticket_and_incident(
    world: IncidentDesk,
    budi: Person,
    rina: Person,
    admin: Person,
    dewi: Person,
) -> None:
    pool, clock, ctx = world.pool, world.clock, world.ctx
    closed = await open_ticket(world, budi)
    await incidents.escalate(pool, clock, ctx, closed, admin)  # an incident at level 2
    await world.act(actions.set_priority, rina, closed, priority=Priority.P2)
    [row] = await queries.open_incident_rows(pool, ctx)
    assert (row.view.priority, row.view.level) == ("P2", 2)

    with pytest.raises(NotAllowed):  # support alone may not end an incident, here either
        await world.act(actions.close, rina, closed)
    await world.act(actions.close, admin, closed)
    assert await queries.open_incident_rows(pool, ctx) == []

    resolved = await open_ticket(world, budi, "Akun saya terkunci")
    await incidents.escalate(pool, clock, ctx, resolved, admin)
    await incidents.resolve(pool, clock, ctx, resolved, dewi)
    ticket = await store.get(pool, resolved)
    assert ticket.status is TicketStatus.RESOLVED
    assert "resolved" in [e.kind for e in await history.timeline(pool, resolved)]
    stars = await pool.fetchval(
        "SELECT count(*) FROM outbox WHERE chat_id = $1 AND payload::text LIKE $2",
        budi.id,
        f"%tr:{resolved}:5%",
    )
    assert stars == 1  # Budi is asked to rate the ticket the incident's end resolved


# -- 6. long customer texts reach the topic whole ------------------------------------------


async def test_a_5000_character_description_is_quoted_on_the_card_and_whole_in_the_topic(
    world: DeskWorld, budi: Person
) -> None:
    pool = world.pool
    long = " ".join(f"kalimat{n:04d}" for n in range(455))  # 5,004 characters
    ticket_id = await open_ticket(world, budi, long)
    rows = await pool.fetch(
        "SELECT * FROM outbox WHERE chat_id = $1 AND kind = 'text' ORDER BY id", SUPPORT_CHAT
    )
    card, *parts = [r["payload"]["text"] for r in rows]
    assert "kalimat0454" not in card  # the card quotes the beginning
    assert "The whole description follows in this topic." in card
    assert [p.split(":\n", 1)[0] for p in parts] == [
        "💬 <b>Budi Santoso</b> (1/2)",
        "💬 <b>Budi Santoso</b> (2/2)",
    ]
    assert "".join(p.split(":\n", 1)[1] for p in parts) == long

    follow_up = " ".join(f"lanjut{n:04d}" for n in range(500))  # 5,499 characters
    message = Incoming(budi.id, 900, budi.id, "text", follow_up, author_name="Budi")
    await world.customer_message(budi, message)
    rows = await pool.fetch(
        "SELECT * FROM outbox WHERE chat_id = $1 AND kind = 'text' AND id > $2 ORDER BY id",
        SUPPORT_CHAT,
        rows[-1]["id"],
    )
    texts = [r["payload"]["text"] for r in rows]
    heads = [t.split(":\n", 1)[0] for t in texts]
    assert heads == ["💬 <b>Budi Santoso</b> (1/2)", "💬 <b>Budi Santoso</b> (2/2)"]
    assert all(len(t.split(":\n", 1)[1]) > 100 for t in texts)  # no empty header, no stub
    assert "".join(t.split(":\n", 1)[1] for t in texts) == follow_up
    [stored] = await history.messages(pool, ticket_id)
    assert stored.body == follow_up and stored.relay_outbox_id == rows[0]["id"]


# -- 14. a person is printed once --------------------------------------------------------------


async def test_the_sandbox_roster_names_each_person_once_and_the_card_too(
    world: DeskWorld,
    db_url: str,
    budi: Person,
) -> None:
    pool = world.pool
    from bot.sandbox_cast import seed_roster
    from handlers.admin import _line

    await seed_roster(db_url)
    with use_locale("en"):
        lines = {m.user_id: _line(m) for m in await roster.roster(pool)}
    assert lines[2002] == "• Dimas (<code>2002</code>): Senior Engineer 📟"
    assert lines[2001] == "• Sari (<code>2001</code>): Support Engineer 📟"

    sari = await roster.member(pool, 2001)
    assert sari is not None and sari.display_name == "Sari"
    ticket_id = await open_ticket(world, budi)
    boss = Person(id=2005, first_name="Ratna", roles=frozenset({"admin"}))
    target = Person(id=2001, first_name="Sari", roles=frozenset({"support_engineer"}))
    await world.act(actions.assign, boss, ticket_id, assignee=target)
    [edit] = await card_edits(pool, ticket_id)
    assert "\nAssignee: Sari\n" in edit["payload"]["text"]
