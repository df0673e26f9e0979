"""A private text to a staff member who never pressed Start is refused by Telegram; the person
is marked, the admin chat told once, and the text itself posted there for them (not lost)."""

from __future__ import annotations

import asyncpg

from sandbox.telegram import EmulatorClient
from services import roster, users
from services.delivery import DeliveryHooks
from services.delivery.not_started import NotStartedWatch
from services.outbox import OutboxMessage, enqueue
from services.users import Role
from tests.cast import SARI

from .conftest import StartWorker, wait_for_rows

DONE = ("sent", "failed")  # "sending" is not done: the message may not be there yet


async def test_a_refused_notice_is_posted_in_the_admin_chat_for_the_person(
    pool: asyncpg.Pool, tg: EmulatorClient, start_worker: StartWorker
) -> None:
    await tg.create_user(SARI, "Sari")  # never wrote to the bot
    admin = await tg.create_chat(type="supergroup", title="Admin", members=[SARI])
    await users.touch(pool, SARI, first_name="Sari")
    await roster.add_member(
        pool, user_id=SARI, display_name="Sari", roles=[Role.SUPPORT_ENGINEER], added_by=None
    )
    hooks = DeliveryHooks()
    hooks.watch(NotStartedWatch(admin["id"]))
    await start_worker(hooks=hooks)
    await enqueue(
        pool,
        OutboxMessage(
            chat_id=SARI,
            kind="text",
            payload={"text": "⏰ QC-000001 belum dibalas", "parse_mode": "HTML"},
            owner="ticket:1",
        ),
    )
    await wait_for_rows(pool, lambda rs: len(rs) == 3 and all(r["status"] in DONE for r in rs))
    posted = [m["text"] for m in await tg.messages(admin["id"])]
    assert len(posted) == 2 and all("Sari" in t for t in posted)  # told once, and...
    assert sum("⏰ QC-000001 belum dibalas" in t for t in posted) == 1  # ...the notice itself
    assert (await roster.member(pool, SARI)).not_started  # type: ignore[union-attr]
