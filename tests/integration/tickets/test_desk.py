"""The desk on real PostgreSQL and Redis: Budi opens a ticket, Rina answers, the timeline and
the outbox hold every step."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import asyncpg
import pytest
from redis.asyncio import Redis

from services import audit
from services.classification import Priority
from services.clock import FrozenClock
from services.delivery.errors import FORBIDDEN, THREAD_NOT_FOUND, PermanentError
from services.delivery.rows import OutboxRow
from services.storage.db import transaction
from services.tickets import actions, desk, history, store
from services.tickets.config import DeskConfig
from services.tickets.delivery import TicketDeliveryHook
from services.tickets.model import (
    AlreadyResolved,
    Incoming,
    NotAllowed,
    RateLimited,
    Ticket,
    TicketStatus,
)
from services.users import Person
from tests.cast import BUDI
from tests.integration.tickets.conftest import SUPPORT_CHAT, DeskWorld

_message_ids = iter(range(500, 100000))


def text_from(person: Person, text: str, chat_id: int | None = None) -> Incoming:
    return Incoming(
        chat_id=chat_id if chat_id is not None else person.id,
        message_id=next(_message_ids),
        author_id=person.id,
        kind="text",
        text=text,
        author_name=person.first_name,
    )


async def rows(pool: asyncpg.Pool, ticket_id: int) -> list[asyncpg.Record]:
    return await pool.fetch(
        "SELECT * FROM outbox WHERE owner = $1 ORDER BY id", f"ticket:{ticket_id}"
    )


def as_row(record: asyncpg.Record) -> OutboxRow:
    columns = set(record.keys())  # `in record` would look at the values
    names = [name for name in OutboxRow.__dataclass_fields__ if name in columns]
    return OutboxRow(**{name: record[name] for name in names})


async def deliver(world: DeskWorld, record: asyncpg.Record, result: dict[str, Any]) -> None:
    """What the delivery worker does on success, without Telegram."""
    async with transaction(world.pool) as conn:
        await conn.execute(
            "UPDATE outbox SET status = 'sent', message_id = $2 WHERE id = $1",
            record["id"],
            result.get("message_id"),
        )
        await TicketDeliveryHook(world.cfg, world.clock).on_sent(conn, as_row(record), result)


async def fail(world: DeskWorld, record: asyncpg.Record, error: PermanentError) -> None:
    async with transaction(world.pool) as conn:
        await conn.execute("UPDATE outbox SET status = 'failed' WHERE id = $1", record["id"])
        await TicketDeliveryHook(world.cfg, world.clock).on_failed(conn, as_row(record), error)


async def topic_and_card_sent(
    world: DeskWorld, ticket: Ticket, topic: dict[str, Any], card: dict[str, Any]
) -> asyncpg.Record:
    """The ticket's topic and card delivered (Telegram answered `topic` and `card`): the topic's
    outbox row."""
    topic_row, card_row, _ = await rows(world.pool, ticket.id)
    await deliver(world, topic_row, topic)
    await deliver(world, card_row, card)
    return topic_row


async def open_payment_ticket(
    pool: asyncpg.Pool, redis: Redis, cfg: DeskConfig, clock: FrozenClock, budi: Person
) -> desk.Opened:
    """Budi's QRIS payment ticket (the other desk tests' opening too)."""
    return await DeskWorld(pool, redis, cfg, clock).open_ticket(
        budi,
        "Pembayaran QRIS saya gagal tapi saldo sudah terpotong <b>Rp50.000</b>",
        order_ref="INV2026110201",
    )


async def payment_ticket(world: DeskWorld, budi: Person) -> desk.Opened:
    return await open_payment_ticket(world.pool, world.redis, world.cfg, world.clock, budi)


@pytest.fixture
async def resolved(world: DeskWorld, budi: Person, rina: Person) -> Ticket:
    """Budi's payment ticket, resolved by Rina now."""
    ticket = (await payment_ticket(world, budi)).ticket
    await world.act(actions.resolve, rina, ticket.id)
    return ticket


async def test_budi_opens_a_payment_ticket_it_is_p1_and_a_topic_with_its_card_is_queued(
    world: DeskWorld, budi: Person
) -> None:
    pool, clock = world.pool, world.clock
    opened = await payment_ticket(world, budi)
    ticket = await store.get(pool, opened.ticket.id)
    assert ticket.number == f"QC-{ticket.id:06d}"
    assert ticket.priority is Priority.P1
    assert ticket.status is TicketStatus.OPEN
    assert ticket.response_due == clock.now() + timedelta(minutes=60)
    assert ticket.resolution_due == clock.now() + timedelta(hours=24)
    assert opened.response_minutes == 60

    sent = await rows(pool, ticket.id)
    assert [r["kind"] for r in sent] == ["create_topic", "text", "text"]
    topic, card, confirmation = sent
    assert topic["chat_id"] == SUPPORT_CHAT
    assert topic["payload"]["name"] == f"🆕 {ticket.number} · P1 · Budi Santoso"
    assert card["thread_ref"] == topic["id"]
    assert "&lt;b&gt;Rp50.000&lt;/b&gt;" in card["payload"]["text"]
    assert card["payload"]["reply_markup"]["inline_keyboard"][0][0]["callback_data"] == (
        f"tk:{ticket.id}:ack"
    )
    assert confirmation["chat_id"] == BUDI
    assert "dalam 1 jam" in confirmation["payload"]["text"]  # Budi reads Bahasa Indonesia

    kinds = [e.kind for e in await history.timeline(pool, ticket.id)]
    assert kinds == ["created", "classified"]


async def test_the_whole_conversation_is_stored_and_relayed_both_ways(
    world: DeskWorld, budi: Person, rina: Person
) -> None:
    pool, clock = world.pool, world.clock
    ticket = (await payment_ticket(world, budi)).ticket
    await topic_and_card_sent(
        world,
        ticket,
        {"message_thread_id": 77, "name": "x"},
        {"message_id": 900, "chat_id": SUPPORT_CHAT},
    )
    ticket = await store.get(pool, ticket.id)
    assert (ticket.topic_id, ticket.card_message_id) == (77, 900)

    clock.advance(minutes=5)
    reply = text_from(rina, "Halo Budi, kami cek dulu ya", chat_id=SUPPORT_CHAT)
    after = await world.staff_message(rina, reply, topic_id=77)
    assert after is not None
    assert after.first_response_at == clock.now()
    assert after.status is TicketStatus.WAITING
    assert after.assignee_id == rina.id

    note = text_from(rina, "// cek di dashboard Pakasir", chat_id=SUPPORT_CHAT)
    await world.staff_message(rina, note, topic_id=77)

    clock.advance(minutes=3)
    photo = Incoming(BUDI, 4242, BUDI, "photo", "bukti transfer", "file-1", "Budi")
    delivered = await world.customer_message(budi, photo)
    assert delivered.outcome == "relayed"
    assert delivered.ticket is not None
    assert delivered.ticket.status is TicketStatus.ACKNOWLEDGED

    sent = await rows(pool, ticket.id)
    to_budi = [r for r in sent if r["chat_id"] == BUDI and r["kind"] == "text"]
    assert to_budi[-1]["payload"]["text"].startswith("Halo Budi, kami cek dulu ya\n\n— <i>Rina</i>")
    assert all("dashboard" not in r["payload"].get("text", "") for r in sent)  # notes stay
    copies = [r for r in sent if r["kind"] == "copy"]
    assert copies[-1]["thread_id"] == 77
    assert copies[-1]["payload"]["from_chat_id"] == BUDI
    assert copies[-1]["payload"]["message_id"] == 4242

    messages = await history.messages(pool, ticket.id)
    assert [m.direction for m in messages] == ["out", "note", "in"]
    assert messages[2].relay_outbox_id == copies[-1]["id"]
    await deliver(world, copies[-1], {"message_id": 901})
    assert (await history.messages(pool, ticket.id))[2].relay_message_id == 901

    clock.advance(minutes=30)
    resolved = await world.act(actions.resolve, rina, ticket.id)
    assert resolved.status is TicketStatus.RESOLVED
    rating_prompt = (await rows(pool, ticket.id))[-1]
    assert rating_prompt["chat_id"] == BUDI
    stars = rating_prompt["payload"]["reply_markup"]["inline_keyboard"][0]
    assert [b["callback_data"] for b in stars] == [f"tr:{ticket.id}:{n}" for n in range(1, 6)]

    rated = await actions.rate(pool, world.cfg, clock, customer=budi, ticket_id=ticket.id, stars=5)
    assert rated.rating == 5
    kinds = [e.kind for e in await history.timeline(pool, ticket.id)]
    assert kinds == [
        "created",
        "classified",
        "topic_created",
        "staff_reply",
        "note",
        "customer_message",
        "resolved",
        "rated",
    ]


async def test_a_resolved_ticket_reopens_within_seven_days_and_not_after(
    world: DeskWorld, budi: Person, rina: Person, resolved: Ticket
) -> None:
    ticket = resolved
    world.clock.advance(days=6, hours=23)
    again = await world.customer_message(budi, text_from(budi, "masih gagal"))
    assert again.outcome == "reopened"
    assert (await store.get(world.pool, ticket.id)).status is TicketStatus.ACKNOWLEDGED

    await world.act(actions.resolve, rina, ticket.id)
    world.clock.advance(days=7, minutes=1)
    late = await world.customer_message(budi, text_from(budi, "halo?"))
    assert late.outcome == "none"
    assert "reopened" in [e.kind for e in await history.timeline(world.pool, ticket.id)]


async def test_resolved_tickets_close_automatically_after_seven_days(
    world: DeskWorld, resolved: Ticket
) -> None:
    pool, cfg, clock, ticket = world.pool, world.cfg, world.clock, resolved
    clock.advance(days=6)
    assert await actions.auto_close(pool, cfg, clock) == []
    clock.advance(days=1, minutes=1)
    assert await actions.auto_close(pool, cfg, clock) == [ticket.id]
    closed = await store.get(pool, ticket.id)
    assert closed.status is TicketStatus.CLOSED
    events = await history.timeline(pool, ticket.id)
    assert events[-1].kind == "closed" and events[-1].details["automatic"] is True
    told = [r for r in await rows(pool, ticket.id) if r["chat_id"] == BUDI][-1]
    assert "telah ditutup" in told["payload"]["text"]


async def test_a_non_staff_member_pressing_resolve_is_refused_and_audited(
    world: DeskWorld, budi: Person, outsider: Person
) -> None:
    pool = world.pool
    ticket = (await payment_ticket(world, budi)).ticket
    with pytest.raises(NotAllowed):
        await world.act(actions.resolve, outsider, ticket.id, chat_id=SUPPORT_CHAT)
    assert (await store.get(pool, ticket.id)).status is TicketStatus.OPEN
    refused = await audit.entries_since(pool, world.clock.now() - timedelta(days=1), allowed=False)
    assert [(e.actor_id, e.action, e.target) for e in refused] == [
        (outsider.id, "ticket.resolve", f"ticket:{ticket.id}")
    ]


async def test_resolving_twice_says_so(world: DeskWorld, rina: Person, resolved: Ticket) -> None:
    with pytest.raises(AlreadyResolved):
        await world.act(actions.resolve, rina, resolved.id)


async def test_a_priority_override_moves_the_clocks_and_is_audited(
    world: DeskWorld, budi: Person, rina: Person
) -> None:
    pool = world.pool
    ticket = (await payment_ticket(world, budi)).ticket
    world.clock.advance(minutes=10)
    changed = await world.act(actions.set_priority, rina, ticket.id, priority=Priority.P0)
    assert changed.priority is Priority.P0
    assert changed.response_due == ticket.created_at + timedelta(minutes=15)
    entries = await audit.entries_since(pool, ticket.created_at, action_prefix="ticket.priority")
    assert entries[0].details == {"from": "P1", "to": "P0"}
    title = [r for r in await rows(pool, ticket.id) if r["kind"] == "edit_topic"][-1]
    assert title["payload"]["name"].startswith(f"🆕 {ticket.number} · P0 ·")


async def test_the_sixth_ticket_within_an_hour_is_refused_with_a_time(
    world: DeskWorld, budi: Person
) -> None:
    clock = world.clock
    for _ in range(5):
        await payment_ticket(world, budi)
        clock.advance(minutes=1)
    with pytest.raises(RateLimited) as refused:
        await payment_ticket(world, budi)
    first = clock.now() - timedelta(minutes=5)
    assert refused.value.retry_at == first + timedelta(hours=1)
    assert await world.pool.fetchval("SELECT count(*) FROM tickets") == 5
    clock.set(refused.value.retry_at + timedelta(seconds=1))
    await payment_ticket(world, budi)


async def test_a_banned_customer_cannot_open_a_ticket(
    world: DeskWorld, budi: Person, admin: Person, rina: Person
) -> None:
    pool, clock = world.pool, world.clock
    with pytest.raises(NotAllowed):
        await actions.ban(pool, clock, actor=rina, customer_id=budi.id)
    await actions.ban(pool, clock, actor=admin, customer_id=budi.id, days=1)
    from services import users

    banned = await users.get(pool, budi.id)
    assert banned is not None
    with pytest.raises(NotAllowed):
        await payment_ticket(world, banned)
    await actions.unban(pool, actor=admin, customer_id=budi.id)
    unbanned = await users.get(pool, budi.id)
    assert unbanned is not None and unbanned.banned_until is None
    actions_seen = [
        (e.action, e.allowed) for e in await audit.entries_since(pool, clock.now() - timedelta(1))
    ]
    assert actions_seen == [("ticket.ban", False), ("ticket.ban", True), ("ticket.unban", True)]


async def test_several_open_tickets_make_the_desk_ask_which_one(
    world: DeskWorld, budi: Person
) -> None:
    first = (await payment_ticket(world, budi)).ticket
    second = (await payment_ticket(world, budi)).ticket
    message = text_from(budi, "ini tentang yang mana?")
    asked = await world.customer_message(budi, message)
    assert asked.outcome == "choose"
    assert {t.id for t in asked.choices} == {first.id, second.id}
    chosen = await world.customer_message(budi, message, ticket_id=first.id)
    assert chosen.outcome == "relayed" and chosen.ticket is not None
    assert chosen.ticket.id == first.id


async def test_a_deleted_topic_is_recreated_and_the_message_sent_again(
    world: DeskWorld, budi: Person
) -> None:
    pool = world.pool
    ticket = (await payment_ticket(world, budi)).ticket
    topic_row = await topic_and_card_sent(
        world, ticket, {"message_thread_id": 77}, {"message_id": 900}
    )
    await world.customer_message(budi, text_from(budi, "halo"))
    relay = (await rows(pool, ticket.id))[-1]
    assert relay["thread_id"] == 77
    await fail(world, relay, PermanentError(THREAD_NOT_FOUND, "message thread not found"))

    after = await store.get(pool, ticket.id)
    assert after.topic_id is None and after.topic_outbox_id not in (None, topic_row["id"])
    new_rows = [r for r in await rows(pool, ticket.id) if r["id"] > relay["id"]]
    assert [r["kind"] for r in new_rows] == ["create_topic", "text", "text", "text"]
    new_topic, new_card, notice, resent = new_rows
    assert "replaces one that was deleted" in notice["payload"]["text"]
    assert new_card["thread_ref"] == new_topic["id"] == resent["thread_ref"]
    assert resent["payload"] == relay["payload"]
    assert (await history.messages(pool, ticket.id))[-1].relay_outbox_id == resent["id"]
    assert "topic_recreated" in [e.kind for e in await history.timeline(pool, ticket.id)]


async def test_a_customer_who_blocked_the_bot_is_marked_and_staff_are_told(
    world: DeskWorld, budi: Person, rina: Person
) -> None:
    pool = world.pool
    ticket = (await payment_ticket(world, budi)).ticket
    await topic_and_card_sent(world, ticket, {"message_thread_id": 77}, {"message_id": 900})
    reply = text_from(rina, "Halo?", chat_id=SUPPORT_CHAT)
    await world.staff_message(rina, reply, topic_id=77)
    to_budi = [r for r in await rows(pool, ticket.id) if r["chat_id"] == BUDI][-1]
    await fail(world, to_budi, PermanentError(FORBIDDEN, "bot was blocked by the user"))
    assert (await store.get(pool, ticket.id)).customer_blocked_at == world.clock.now()
    told = [r for r in await rows(pool, ticket.id) if r["id"] > to_budi["id"]]
    assert any("blocked the bot" in r["payload"]["text"] for r in told if r["kind"] == "text")
    assert any("blocked the bot" in r["payload"]["text"] for r in told if r["kind"] == "edit")


async def test_the_daily_job_closes_what_was_resolved_a_week_ago(
    world: DeskWorld, resolved: Ticket
) -> None:
    from jobs.cli import run_job
    from jobs.context import JobDeps

    ticket = resolved
    world.clock.advance(days=7, minutes=1)
    deps = JobDeps(pool=world.pool, clock=world.clock, support_chat_id=world.cfg.support_chat_id)
    run = await run_job("ticket_auto_close", deps)
    assert run.status.value == "ok"
    assert run.details["closed"] == [ticket.id]
    assert (await store.get(world.pool, ticket.id)).status is TicketStatus.CLOSED
