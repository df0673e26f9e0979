"""A storm's bulk in one round trip (desk.text_into_sole_ticket, quick_relay.relay_into_sole):
a short text from a customer whose one active ticket is open goes in with one statement, its
copy exactly where the general path would put it; anything else is left untouched for the
mass-incident side and the desk, and the abuse limit counts the message once."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta

import asyncpg
import pytest
from redis.asyncio import Redis

from services import users
from services.classification import Category
from services.clock import FrozenClock
from services.massincident import store as mass_store
from services.storage.types import Executor
from services.tickets import desk, history, store
from services.tickets.config import DeskConfig
from services.tickets.model import Ticket, TicketStatus
from services.users import Person
from tests.integration.conftest import desk_config
from tests.integration.tickets.conftest import observed_pool
from tests.integration.tickets.test_desk import open_payment_ticket, rows, text_from

# what places a copy: everything but the words
_PLACE = ("chat_id", "thread_id", "thread_ref", "ref_id", "kind", "owner", "priority", "topic_key")


async def _general_path(conn: Executor, ticket: Ticket) -> None:
    """`within` for desk.customer_message: forces its transaction, where the copy is placed
    by the Python code (outbound.staff_chat, topic_target, outbox.topic_key)."""


async def _topic_known(pool: asyncpg.Pool, ticket: Ticket, clock: FrozenClock) -> None:
    await store.topic_created(pool, ticket.id, 77, ticket.topic_outbox_id or 0, clock.now())


async def _no_topics_only_a_card(pool: asyncpg.Pool, ticket: Ticket, clock: FrozenClock) -> None:
    card = await pool.fetchval(
        "INSERT INTO outbox (chat_id, kind, payload) VALUES ($1, 'text', '{}') RETURNING id",
        ticket.support_chat_id,
    )
    await pool.execute(
        "UPDATE tickets SET topic_outbox_id = NULL, card_outbox_id = $2 WHERE id = $1",
        ticket.id,
        card,
    )


async def _the_desks_chat(pool: asyncpg.Pool, ticket: Ticket, clock: FrozenClock) -> None:
    await pool.execute("UPDATE tickets SET support_chat_id = NULL WHERE id = $1", ticket.id)


async def _topic_being_created(pool: asyncpg.Pool, ticket: Ticket, clock: FrozenClock) -> None:
    pass


Placing = Callable[[asyncpg.Pool, Ticket, FrozenClock], Awaitable[None]]


@pytest.mark.parametrize(
    "placing", [_topic_being_created, _topic_known, _no_topics_only_a_card, _the_desks_chat]
)
async def test_the_copy_goes_where_the_general_path_puts_it(
    pool: asyncpg.Pool, redis_client: Redis, cfg: DeskConfig, clock: FrozenClock, budi: Person,
    placing: Placing,
) -> None:  # fmt: skip
    opened = await open_payment_ticket(pool, redis_client, cfg, clock, budi)
    await placing(pool, opened.ticket, clock)
    before = len(await rows(pool, opened.ticket.id))

    quick = text_from(budi, "Sudah saya transfer <lagi> & belum masuk")
    assert await desk.text_into_sole_ticket(
        pool, redis_client, cfg, clock, customer=budi, incoming=quick
    )
    general = text_from(budi, "Masih belum masuk juga")
    done = await desk.customer_message(
        pool, redis_client, cfg, clock, customer=budi, incoming=general, within=_general_path
    )
    assert done.outcome == "relayed"

    copies = (await rows(pool, opened.ticket.id))[before:]
    assert len(copies) == 2
    fast, slow = copies
    assert {k: fast[k] for k in _PLACE} == {k: slow[k] for k in _PLACE}
    assert fast["payload"]["text"] == slow["payload"]["text"].replace(
        "Masih belum masuk juga", "Sudah saya transfer &lt;lagi&gt; &amp; belum masuk"
    )
    assert fast["payload"]["parse_mode"] == slow["payload"]["parse_mode"]
    messages = await history.messages(pool, opened.ticket.id)
    assert [m.body for m in messages[-2:]] == [quick.text, general.text]
    assert messages[-2].relay_outbox_id == fast["id"]
    events = await history.timeline(pool, opened.ticket.id)
    assert [e.kind for e in events[-2:]] == ["customer_message", "customer_message"]
    assert events[-2].details == {"message": messages[-2].id, "kind": "text"}


async def test_one_statement_and_the_same_message_once(
    pool: asyncpg.Pool, db_url: str, redis_client: Redis, cfg: DeskConfig, clock: FrozenClock,
    budi: Person,
) -> None:  # fmt: skip
    opened = await open_payment_ticket(pool, redis_client, cfg, clock, budi)
    before = len(await rows(pool, opened.ticket.id))
    unlimited = desk_config(limits_enabled=False)
    counted, statements = await observed_pool(db_url)
    incoming = text_from(budi, "Halo, ada kabar?")
    try:
        for _ in range(2):  # the second time: an update handled again after a crash
            assert await desk.text_into_sole_ticket(
                counted, redis_client, unlimited, clock, customer=budi, incoming=incoming
            )
    finally:
        await counted.close()
    assert len(statements) == 2  # one statement each time
    assert len(await rows(pool, opened.ticket.id)) == before + 1
    bodies = [m.body for m in await history.messages(pool, opened.ticket.id)]
    assert bodies.count("Halo, ada kabar?") == 1


async def _second_ticket(pool: asyncpg.Pool, redis: Redis, cfg: DeskConfig, clock: FrozenClock,
                         budi: Person, ticket: Ticket) -> None:  # fmt: skip
    await desk.open_ticket(
        pool, redis, cfg, clock, customer=budi, category=Category.ORDER,
        description="Pesanan INV2 belum sampai",
    )  # fmt: skip


async def _live_link(pool: asyncpg.Pool, redis: Redis, cfg: DeskConfig, clock: FrozenClock,
                     budi: Person, ticket: Ticket) -> None:  # fmt: skip
    parent = await users.touch(pool, 9101, first_name="Rina")
    incident = await desk.open_ticket(
        pool, redis, cfg, clock, customer=parent, category=Category.PAYMENT,
        description="QRIS down",
    )  # fmt: skip
    now = clock.now()
    await mass_store.insert_linked(
        pool, parent_id=incident.ticket.id, customer_id=budi.id, priority="P1",
        category="payment", subject="QRIS", description="QRIS", language="id",
        classification={}, now=now, resolution_due=now + timedelta(hours=4),
    )  # fmt: skip


async def _waiting(pool: asyncpg.Pool, redis: Redis, cfg: DeskConfig, clock: FrozenClock,
                   budi: Person, ticket: Ticket) -> None:  # fmt: skip
    await store.update(pool, ticket.id, clock.now(), status=TicketStatus.WAITING)


async def _resolved(pool: asyncpg.Pool, redis: Redis, cfg: DeskConfig, clock: FrozenClock,
                    budi: Person, ticket: Ticket) -> None:  # fmt: skip
    await store.update(
        pool, ticket.id, clock.now(), status=TicketStatus.RESOLVED, resolved_at=clock.now()
    )


Changing = Callable[[asyncpg.Pool, Redis, DeskConfig, FrozenClock, Person, Ticket], Awaitable[None]]


@pytest.mark.parametrize("changing", [_second_ticket, _live_link, _waiting, _resolved])
async def test_anything_but_one_open_ticket_is_left_untouched(
    pool: asyncpg.Pool, redis_client: Redis, cfg: DeskConfig, clock: FrozenClock, budi: Person,
    changing: Changing,
) -> None:  # fmt: skip
    opened = await open_payment_ticket(pool, redis_client, cfg, clock, budi)
    await changing(pool, redis_client, cfg, clock, budi, opened.ticket)
    outbox = await pool.fetchval("SELECT count(*) FROM outbox")
    stored = await pool.fetchval("SELECT count(*) FROM ticket_messages")
    incoming = text_from(budi, "Halo?")
    assert not await desk.text_into_sole_ticket(
        pool, redis_client, cfg, clock, customer=budi, incoming=incoming
    )
    assert await pool.fetchval("SELECT count(*) FROM outbox") == outbox
    assert await pool.fetchval("SELECT count(*) FROM ticket_messages") == stored


async def test_what_it_does_not_try(
    pool: asyncpg.Pool, redis_client: Redis, cfg: DeskConfig, clock: FrozenClock, budi: Person
) -> None:
    await open_payment_ticket(pool, redis_client, cfg, clock, budi)
    stored = await pool.fetchval("SELECT count(*) FROM ticket_messages")
    long_text = "kata " * 1200  # two parts in the topic: the general path labels them
    banned = Person(
        id=budi.id, first_name=budi.first_name, full_name=budi.full_name,
        banned_until=clock.now() + timedelta(days=1),
    )  # fmt: skip
    unnamed = Person(id=budi.id, first_name=budi.first_name)  # not read from the database
    for who, incoming in [
        (budi, text_from(budi, long_text)),
        (banned, text_from(budi, "Halo?")),
        (unnamed, text_from(budi, "Halo?")),
    ]:
        assert not await desk.text_into_sole_ticket(
            pool, redis_client, cfg, clock, customer=who, incoming=incoming
        )
    assert await pool.fetchval("SELECT count(*) FROM ticket_messages") == stored
    assert budi.full_name == "Budi Santoso"  # as the ticket card shows the customer


async def test_the_abuse_limit_counts_a_message_once_on_either_path(
    pool: asyncpg.Pool, redis_client: Redis, clock: FrozenClock, budi: Person
) -> None:
    cfg = desk_config(messages_per_minute=3)
    opened = await open_payment_ticket(pool, redis_client, cfg, clock, budi)
    key = f"qc:limit:messages:{budi.id}"
    for n in range(3):
        await store.update(pool, opened.ticket.id, clock.now(), status=TicketStatus.WAITING)
        incoming = text_from(budi, f"pesan {n}")
        # checked (and counted) first, not taken: a waiting ticket is the general path's
        assert not await desk.text_into_sole_ticket(
            pool, redis_client, cfg, clock, customer=budi, incoming=incoming
        )
        done = await desk.customer_message(
            pool, redis_client, cfg, clock, customer=budi, incoming=incoming
        )
        assert done.outcome == "relayed"
        assert await redis_client.zcard(key) == n + 1
    refused = text_from(budi, "pesan 4")
    assert not await desk.text_into_sole_ticket(
        pool, redis_client, cfg, clock, customer=budi, incoming=refused
    )
    assert await redis_client.zcard(key) == 3
