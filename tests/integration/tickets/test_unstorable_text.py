"""A NUL or a lone surrogate in a customer's words or name used to lose the message (PostgreSQL
refuses both in text and jsonb). Now the message is stored and relayed without them."""

from __future__ import annotations

import asyncpg
from redis.asyncio import Redis

from services import users
from services.classification import Category
from services.clock import FrozenClock
from services.tickets import desk, history, store
from services.tickets.config import DeskConfig
from services.tickets.model import Incoming
from tests.cast import BUDI

DEWI = 1005


async def test_a_name_with_nul_and_a_lone_surrogate_is_stored_without_them(
    pool: asyncpg.Pool,
) -> None:
    person = await users.touch(
        pool, DEWI, first_name="De\x00wi", last_name="Lest\ud800ari", username="de\x00wi"
    )
    assert person.first_name == "Dewi"
    row = await pool.fetchrow(
        "SELECT first_name, last_name, username FROM users WHERE id = $1", DEWI
    )
    assert row is not None
    assert row["first_name"] == "Dewi" and row["username"] == "dewi"
    assert row["last_name"].startswith("Lest") and row["last_name"].endswith("ari")
    assert "\x00" not in row["last_name"]


async def test_a_ticket_and_a_message_with_nul_are_stored_and_relayed(
    pool: asyncpg.Pool, redis_client: Redis, cfg: DeskConfig, clock: FrozenClock
) -> None:
    budi = await users.touch(pool, BUDI, first_name="Bu\x00di")
    opened = await desk.open_ticket(
        pool, redis_client, cfg, clock, customer=budi, category=Category.PAYMENT,
        description="Saldo\x00 terpotong tapi QRIS gagal", order_ref="INV2026\x00110201",
    )  # fmt: skip
    ticket = await store.get(pool, opened.ticket.id)
    assert ticket.description == "Saldo terpotong tapi QRIS gagal"
    assert ticket.order_ref == "INV2026110201"

    clock.advance(minutes=1)
    incoming = Incoming(
        BUDI, 4243, BUDI, "text", "Tolong\x00 dicek \ud83d\ude00", author_name="Bu\x00di"
    )
    done = await desk.customer_message(
        pool, redis_client, cfg, clock, customer=budi, incoming=incoming
    )
    assert done.outcome == "relayed"
    (stored,) = await history.messages(pool, ticket.id)
    assert stored.body == "Tolong dicek 😀"
    relay = await pool.fetchval(
        "SELECT payload->>'text' FROM outbox WHERE id = $1", stored.relay_outbox_id
    )
    assert "Tolong dicek 😀" in relay
