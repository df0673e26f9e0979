"""The storm's common case, a short text into an open ticket, in one statement
(services/tickets/quick_relay.py): the same outcome as the general path, once, and nothing
when the ticket changed since it was read."""

from __future__ import annotations

from dataclasses import replace

import asyncpg
from redis.asyncio import Redis

from services.clock import FrozenClock
from services.outbox import NOTIFY_CHANNEL
from services.tickets import desk, history, quick_relay, store
from services.tickets.config import DeskConfig
from services.tickets.model import TicketStatus
from services.users import Person
from tests.integration.tickets.conftest import observed_pool
from tests.integration.tickets.test_desk import open_payment_ticket, rows, text_from
from tests.waiting import at_most


async def test_a_short_text_into_an_open_ticket_is_recorded_copied_and_wakes_delivery(
    pool: asyncpg.Pool, db_url: str, redis_client: Redis, cfg: DeskConfig, clock: FrozenClock,
    budi: Person,
) -> None:  # fmt: skip
    opened = await open_payment_ticket(pool, redis_client, cfg, clock, budi)
    before = await rows(pool, opened.ticket.id)
    woken: list[str] = []
    listener = await asyncpg.connect(db_url)
    await listener.add_listener(NOTIFY_CHANNEL, lambda *args: woken.append(args[3]))
    counted, statements = await observed_pool(db_url)
    try:
        incoming = text_from(budi, "Sudah saya transfer <lagi> & belum masuk")
        done = await desk.customer_message(
            counted, redis_client, cfg, clock, customer=budi, incoming=incoming
        )
        await at_most(2.5, lambda: woken)
    finally:
        await counted.close()
        await listener.close()
    assert done.outcome == "relayed"
    assert len(statements) == 2  # the tickets read, then the one statement

    copies = (await rows(pool, opened.ticket.id))[len(before) :]
    assert len(copies) == 1
    copy = copies[0]
    assert copy["chat_id"] == opened.ticket.support_chat_id or cfg.support_chat_id
    assert copy["thread_ref"] == before[0]["id"]  # the topic being created
    assert "Sudah saya transfer &lt;lagi&gt; &amp; belum masuk" in copy["payload"]["text"]
    assert woken == [f"{copy['chat_id']}:{copy['topic_key']}"]
    messages = await history.messages(pool, opened.ticket.id)
    assert messages[-1].body == incoming.text
    assert messages[-1].relay_outbox_id == copy["id"]
    events = await history.timeline(pool, opened.ticket.id)
    assert events[-1].kind == "customer_message"
    assert events[-1].details == {"message": messages[-1].id, "kind": "text"}

    # the same Telegram message again (an update handled twice after a crash): nothing more
    again = await desk.customer_message(
        pool, redis_client, cfg, clock, customer=budi, incoming=incoming
    )
    assert again.outcome == "relayed"
    assert len(await rows(pool, opened.ticket.id)) == len(before) + 1
    assert len(await history.messages(pool, opened.ticket.id)) == len(messages)


async def test_a_ticket_changed_since_it_was_read_is_left_to_the_general_path(
    pool: asyncpg.Pool, redis_client: Redis, cfg: DeskConfig, clock: FrozenClock, budi: Person
) -> None:
    opened = await open_payment_ticket(pool, redis_client, cfg, clock, budi)
    read = await store.get(pool, opened.ticket.id)
    count = len(await rows(pool, opened.ticket.id))
    # a staff member answered meanwhile: the ticket waits for the customer now
    await store.update(pool, read.id, clock.now(), status=TicketStatus.WAITING)
    incoming = text_from(budi, "Halo?")
    assert await quick_relay.relay_at_once(pool, read, cfg, incoming, clock.now()) is None
    assert len(await rows(pool, opened.ticket.id)) == count
    assert [m.body for m in await history.messages(pool, read.id)].count("Halo?") == 0

    # the general path takes it: the waiting ticket is acknowledged, the copy queued
    done = await desk.customer_message(
        pool, redis_client, cfg, clock, customer=budi, incoming=incoming
    )
    assert done.outcome == "relayed"
    assert (await store.get(pool, read.id)).status is TicketStatus.ACKNOWLEDGED
    assert "Halo?" in (await rows(pool, read.id))[-1]["payload"]["text"]
    queued = len(await rows(pool, read.id))
    fresh = replace(read, status=TicketStatus.ACKNOWLEDGED)
    assert await quick_relay.relay_at_once(pool, fresh, cfg, incoming, clock.now()) is True
    assert len(await rows(pool, read.id)) == queued  # the same message: copied once


async def test_the_copy_goes_where_the_locked_ticket_says_not_where_it_was_read(
    pool: asyncpg.Pool, redis_client: Redis, cfg: DeskConfig, clock: FrozenClock, budi: Person
) -> None:
    opened = await open_payment_ticket(pool, redis_client, cfg, clock, budi)
    read = await store.get(pool, opened.ticket.id)
    assert read.topic_id is None and read.topic_outbox_id is not None
    # its topic was created between the read and the statement
    await store.topic_created(pool, read.id, 77, read.topic_outbox_id, clock.now())
    incoming = text_from(budi, "Halo?")
    assert await quick_relay.relay_at_once(pool, read, cfg, incoming, clock.now()) is True
    copy = (await rows(pool, read.id))[-1]
    assert copy["thread_id"] == 77 and copy["thread_ref"] is None and copy["topic_key"] == 77
    assert "Halo?" in copy["payload"]["text"]
