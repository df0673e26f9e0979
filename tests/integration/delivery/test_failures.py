"""Permanent refusals go back to the feature that owns the row; migrations are followed."""

from __future__ import annotations

from typing import Any

import asyncpg

from sandbox.telegram import EmulatorClient
from services.delivery import DeliveryHook, DeliveryHooks, OutboxRow, PermanentError
from services.outbox import OutboxMessage, enqueue
from services.storage.types import Executor
from tests.cast import ALICE, BUDI

from .conftest import StartWorker, wait_for_rows


class TicketDesk(DeliveryHook):
    """What the support desk would do: remember, and recreate a topic that was deleted."""

    def __init__(self) -> None:
        self.failed: list[tuple[int, str]] = []
        self.sent: list[tuple[int, dict[str, Any]]] = []
        self.migrated: list[tuple[int, int]] = []

    async def on_sent(self, db: Executor, row: OutboxRow, result: dict[str, Any]) -> None:
        self.sent.append((row.id, result))

    async def on_failed(self, db: Executor, row: OutboxRow, error: PermanentError) -> None:
        self.failed.append((row.id, error.reason))
        if error.reason == "thread_not_found":
            topic = await enqueue(
                db, OutboxMessage(row.chat_id, "create_topic", {"name": "#12 (reopened)"})
            )
            await enqueue(
                db, OutboxMessage(row.chat_id, "text", row.payload, thread_ref=topic, owner="x:1")
            )

    async def on_migrated(self, db: Executor, old_chat_id: int, new_chat_id: int) -> None:
        self.migrated.append((old_chat_id, new_chat_id))


def text(chat_id: int, body: str, **fields: Any) -> OutboxMessage:
    return OutboxMessage(chat_id, "text", {"text": body}, **fields)


def settled(rows: list[dict[str, Any]]) -> bool:
    return bool(rows) and all(r["status"] in ("sent", "failed") for r in rows)


async def test_a_customer_who_blocked_the_bot_is_recorded_and_handed_back_not_retried(
    pool: asyncpg.Pool, tg: EmulatorClient, start_worker: StartWorker
) -> None:
    await tg.block(ALICE)
    desk = TicketDesk()
    hooks = DeliveryHooks()
    hooks.register("ticket", desk)
    blocked = await enqueue(pool, text(ALICE, "Your ticket #12 was answered", owner="ticket:12"))
    await enqueue(pool, text(BUDI, "Your ticket #13 was answered", owner="ticket:13"))
    await start_worker(hooks=hooks)

    rows = await wait_for_rows(pool, settled)

    assert [(r["status"], r["failure"], r["attempts"]) for r in rows] == [
        ("failed", "forbidden", 1),
        ("sent", None, 1),
    ]
    assert "blocked" in rows[0]["last_error"]
    assert desk.failed == [(blocked, "forbidden")]
    assert [row_id for row_id, _ in desk.sent] == [rows[1]["id"]]


async def test_a_deleted_topic_is_handed_back_and_the_owner_recreates_it(
    pool: asyncpg.Pool, tg: EmulatorClient, start_worker: StartWorker
) -> None:
    forum = (await tg.create_chat("Support", is_forum=True, members=[BUDI]))["id"]
    desk = TicketDesk()
    hooks = DeliveryHooks()
    hooks.register("ticket", desk)
    created = await enqueue(pool, OutboxMessage(forum, "create_topic", {"name": "#12"}))
    worker = await start_worker(hooks=hooks)
    first = await wait_for_rows(pool, settled)
    thread_id = first[0]["result"]["message_thread_id"]
    await tg.delete_topic(forum, thread_id)

    lost = await enqueue(
        pool, text(forum, "Budi: any news?", thread_ref=created, owner="ticket:12")
    )
    rows = await wait_for_rows(pool, lambda rs: len(rs) == 4 and settled(rs))
    await worker.wait_idle()

    assert desk.failed == [(lost, "thread_not_found")]
    new_topic = rows[2]["result"]["message_thread_id"]
    assert new_topic != thread_id
    notes = [m["text"] for m in await tg.messages(forum, new_topic) if m.get("text")]
    assert notes == ["Budi: any news?"]


async def test_a_group_upgraded_to_a_supergroup_gets_its_messages_at_the_new_id(
    pool: asyncpg.Pool, tg: EmulatorClient, start_worker: StartWorker
) -> None:
    group = (await tg.create_chat("On-call", type="group", members=[BUDI]))["id"]
    new_id = await tg.migrate(group)
    desk = TicketDesk()
    hooks = DeliveryHooks()
    hooks.register("alert_group", desk)
    for n in range(3):
        await enqueue(pool, text(group, f"alert {n}", owner=f"alert_group:{n}"))
    await start_worker(hooks=hooks)

    rows = await wait_for_rows(pool, settled)

    assert [(r["status"], r["chat_id"]) for r in rows] == [("sent", new_id)] * 3
    texts = [m["text"] for m in await tg.messages(new_id) if m.get("text")]
    assert texts == ["alert 0", "alert 1", "alert 2"]
    assert desk.migrated == [(group, new_id)]


async def test_an_undeliverable_row_without_an_owner_is_told_to_the_operator_once(
    pool: asyncpg.Pool, tg: EmulatorClient, start_worker: StartWorker
) -> None:
    admin = (await tg.create_chat("Admins", members=[BUDI]))["id"]
    await enqueue(pool, text(-100999, "to a chat that does not exist"))
    await start_worker(admin_chat_id=admin)

    rows = await wait_for_rows(pool, lambda rs: len(rs) == 2 and settled(rs))

    assert (rows[0]["status"], rows[0]["failure"]) == ("failed", "chat_not_found")
    assert rows[1]["dedup_key"] == f"delivery-failed:{rows[0]['id']}"
    notice = await tg.wait_for_message(admin)
    assert "-100999" in notice["text"] and "chat_not_found" in notice["text"]


async def test_a_send_that_keeps_failing_is_given_up_after_max_age_and_the_operator_told(
    pool: asyncpg.Pool, tg: EmulatorClient, start_worker: StartWorker
) -> None:
    admin = (await tg.create_chat("Admins", members=[BUDI]))["id"]
    await tg.set_faults(error_rate=1.0, error_status=503, methods=["sendMessage"])
    await enqueue(pool, text(ALICE, "will not make it"))
    await start_worker(admin_chat_id=admin, max_age=0.5)

    rows = await wait_for_rows(pool, lambda rs: rs[0]["status"] == "failed")
    await tg.set_faults(error_rate=0.0)
    notice = await tg.wait_for_message(admin)

    assert rows[0]["failure"] == "max_age" and rows[0]["attempts"] >= 2
    assert "Service Unavailable" in rows[0]["last_error"]
    assert "max_age" in notice["text"]
