"""A customer's waiting texts into their ticket at once (services/tickets/run_relay.py): in
order, in one statement after the person's touch, one copy holding each message's copy as it
would be alone; once however often the run is handled; and nothing at all where the desk's
first free-text handler would not take the message."""

from __future__ import annotations

import itertools
from typing import Any

import asyncpg
import pytest
from redis.asyncio import Redis

from services import users
from services.clock import FrozenClock
from services.outbox import NOTIFY_CHANNEL, PRIORITY_INTERACTIVE
from services.text import TELEGRAM_TEXT_LIMIT, visible_length
from services.tickets import desk, history, limits, run_relay, store
from services.tickets.config import DeskConfig
from services.tickets.model import TicketStatus
from services.tickets.render import customer_text_in_topic
from services.users import Person
from tests.integration.conftest import desk_config
from tests.integration.tickets.conftest import observed_pool
from tests.integration.tickets.test_desk import open_payment_ticket, rows
from tests.waiting import at_most

_ids = itertools.count(5000)


def update(person: Person, text: str | None, **message: Any) -> dict[str, Any]:
    """A private message from `person` as Telegram sends it."""
    n = next(_ids)
    body: dict[str, Any] = {
        "message_id": n,
        "date": 0,
        "chat": {"id": person.id, "type": "private", "first_name": person.first_name},
        "from": {"id": person.id, "is_bot": False, "first_name": "Budi", "last_name": "Santoso",
                 "username": "budi"},
    }  # fmt: skip
    if text is not None:
        body["text"] = text
    return {"update_id": n, "message": body | message}


def relay(pool: asyncpg.Pool, redis: Redis, cfg: DeskConfig, clock: FrozenClock) -> Any:
    async def run(updates: list[dict[str, Any]]) -> int:
        return await run_relay.relay_run(pool, redis, cfg, clock, updates)

    return run


async def test_waiting_texts_go_in_at_once_in_order_as_one_copy_and_once(
    pool: asyncpg.Pool, db_url: str, redis_client: Redis, cfg: DeskConfig, clock: FrozenClock,
    budi: Person,
) -> None:  # fmt: skip
    opened = await open_payment_ticket(pool, redis_client, cfg, clock, budi)
    before = await rows(pool, opened.ticket.id)
    texts = ["Halo <b>admin</b> & tim", "sudah 2 jam 😤", "x" * 1000, "تم الدفع", "tolong"]
    run = [update(budi, text) for text in texts]
    woken: list[str] = []
    listener = await asyncpg.connect(db_url)
    await listener.add_listener(NOTIFY_CHANNEL, lambda *args: woken.append(args[3]))
    counted, statements = await observed_pool(db_url)
    try:
        assert await relay(counted, redis_client, cfg, clock)(run) == 5
        await at_most(2.5, lambda: woken)
    finally:
        await counted.close()
        await listener.close()
    # the person's touch, then the run (asyncpg learns the new connection's array types once)
    ours = [q for q in statements if "pg_catalog" not in q and "set_config(" not in q]
    assert len(ours) == 2, ours

    (copy,) = (await rows(pool, opened.ticket.id))[len(before) :]
    alone = [customer_text_in_topic("Budi Santoso", text)[0] for text in texts]
    assert copy["payload"]["text"] == "\n\n".join(alone)
    assert copy["payload"]["parse_mode"] == "HTML"
    assert "Halo &lt;b&gt;admin&lt;/b&gt; &amp; tim" in copy["payload"]["text"]
    assert copy["thread_ref"] == before[0]["id"]  # the topic being created, as for one message
    assert copy["priority"] == PRIORITY_INTERACTIVE
    assert woken == [f"{copy['chat_id']}:{copy['topic_key']}"]
    messages = (await history.messages(pool, opened.ticket.id))[-5:]
    assert [m.body for m in messages] == texts
    assert [m.source_message_id for m in messages] == [u["message"]["message_id"] for u in run]
    assert {m.relay_outbox_id for m in messages} == {copy["id"]}
    events = (await history.timeline(pool, opened.ticket.id))[-5:]
    assert [e.details for e in events] == [{"message": m.id, "kind": "text"} for m in messages]

    # Handled again after a crash, with two more that arrived meanwhile: only those two.
    more = [update(budi, "masih belum"), update(budi, "halo?")]
    assert await relay(pool, redis_client, cfg, clock)(run + more) == 7
    new = (await rows(pool, opened.ticket.id))[len(before) + 1 :]
    assert [r["payload"]["text"] for r in new] == [
        "\n\n".join(customer_text_in_topic("Budi Santoso", t)[0] for t in ("masih belum", "halo?"))
    ]
    assert len(await history.messages(pool, opened.ticket.id)) == len(messages) + 2


async def test_the_run_stops_where_the_first_free_text_handler_would_not_take_it(
    pool: asyncpg.Pool, redis_client: Redis, cfg: DeskConfig, clock: FrozenClock, budi: Person
) -> None:
    await open_payment_ticket(pool, redis_client, cfg, clock, budi)
    go = relay(pool, redis_client, cfg, clock)
    photo = update(budi, None, photo=[{"file_id": "p", "file_unique_id": "p", "width": 1,
                                       "height": 1}])  # fmt: skip
    assert await go([update(budi, "satu"), update(budi, "dua"), update(budi, "/help"),
                     update(budi, "tiga")]) == 2  # fmt: skip
    assert await go([update(budi, "/start"), update(budi, "satu")]) == 0
    assert await go([photo, update(budi, "satu")]) == 0
    assert (
        await go([{"update_id": next(_ids), "edited_message": update(budi, "x")["message"]}]) == 0
    )
    group = update(budi, "halo", chat={"id": -100500, "type": "supergroup", "title": "g"})
    assert await go([group]) == 0
    bot = update(budi, "halo")
    bot["message"]["from"]["is_bot"] = True
    assert await go([bot]) == 0
    renamed = update(budi, "dua")
    renamed["message"]["from"]["first_name"] = "Budiman"
    assert await go([update(budi, "satu"), renamed]) == 1  # the rename is touched on its own


async def test_a_copy_holds_what_fits_one_telegram_message(
    pool: asyncpg.Pool, redis_client: Redis, cfg: DeskConfig, clock: FrozenClock, budi: Person
) -> None:
    await open_payment_ticket(pool, redis_client, cfg, clock, budi)
    go = relay(pool, redis_client, cfg, clock)
    # 2,000 characters each: two copies fit in 4,096, a third does not
    assert await go([update(budi, c * 2000) for c in "abc"]) == 2
    # emoji take two UTF-16 units each, as Telegram counts: 3,800 units, and a label of 17
    # ("💬 Budi Santoso:" and its line break) each; 2 for the blank line between
    label = visible_length(customer_text_in_topic("Budi Santoso", "")[0])
    assert label == 17
    room = TELEGRAM_TEXT_LIMIT - (3800 + label) - 2 - label
    assert await go([update(budi, "😀" * 1900), update(budi, "b" * room)]) == 2
    assert await go([update(budi, "😀" * 1900), update(budi, "b" * (room + 1))]) == 1
    # a text whose copy takes two messages goes the general path, which splits it
    assert await go([update(budi, "d" * 4090), update(budi, "e")]) == 0


@pytest.mark.parametrize(
    "case", ["staff", "banned", "in a conversation", "waiting", "two tickets", "no ticket"]
)
async def test_nothing_is_stored_where_the_desk_must_decide(
    case: str, pool: asyncpg.Pool, redis_client: Redis, cfg: DeskConfig, clock: FrozenClock,
    budi: Person,
) -> None:  # fmt: skip
    if case != "no ticket":
        opened = await open_payment_ticket(pool, redis_client, cfg, clock, budi)
    if case == "staff":
        await pool.execute(
            "INSERT INTO staff (user_id, display_name, roles) VALUES ($1, 'Budi', '{support}')",
            budi.id,
        )
    elif case == "banned":
        await users.set_banned(pool, budi.id, clock.now().replace(year=2030))
    elif case == "in a conversation":
        await users.set_private_state(pool, budi.id, True)
    elif case == "waiting":
        await store.update(pool, opened.ticket.id, clock.now(), status=TicketStatus.WAITING)
    elif case == "two tickets":
        await desk.open_ticket(
            pool, redis_client, cfg, clock, customer=budi,
            category=opened.ticket.category, description="pesanan kedua belum sampai",
        )  # fmt: skip
    messages = await pool.fetchval("SELECT count(*) FROM ticket_messages")
    queued = await pool.fetchval("SELECT count(*) FROM outbox")
    assert await relay(pool, redis_client, cfg, clock)([update(budi, "halo")]) == 0
    assert await pool.fetchval("SELECT count(*) FROM ticket_messages") == messages
    assert await pool.fetchval("SELECT count(*) FROM outbox") == queued


async def test_the_abuse_limit_counts_a_run_as_its_messages_once(
    pool: asyncpg.Pool, redis_client: Redis, clock: FrozenClock, budi: Person
) -> None:
    cfg = desk_config(messages_per_minute=3)
    await open_payment_ticket(pool, redis_client, cfg, clock, budi)
    run = [update(budi, f"pesan {n}") for n in range(5)]
    assert await relay(pool, redis_client, cfg, clock)(run) == 3  # the 4th is refused
    key = f"qc:limit:messages:{budi.id}"
    assert await redis_client.zcard(key) == 3
    # the desk's own check of a message counted here does not count it again
    named = f"{budi.id}:{run[0]['message']['message_id']}"
    assert (await limits.message(redis_client, budi.id, cfg.support, clock, event=named)).allowed
    refused = f"{budi.id}:{run[3]['message']['message_id']}"
    assert not (
        await limits.message(redis_client, budi.id, cfg.support, clock, event=refused)
    ).allowed
    assert await redis_client.zcard(key) == 3
    # the refused ones, handled again as a run, are still refused: nothing taken
    assert await relay(pool, redis_client, cfg, clock)(run[3:]) == 0
