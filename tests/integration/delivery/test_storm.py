"""A storm: more than a group's limit lets out in a minute is folded into one digest."""

from __future__ import annotations

from typing import Any

import asyncpg

from sandbox.telegram import EmulatorClient
from services.delivery import Limits, metrics
from services.outbox import OutboxMessage, enqueue
from tests.cast import BUDI

from .conftest import FAST, StartWorker, wait_for_rows

# A group that may be sent 2 messages in any 2 s: 60 a minute.
SLOW_GROUP = FAST.limits.model_copy(update={"group_per_minute": 2, "group_window_seconds": 2})


def alert(chat_id: int, n: int) -> OutboxMessage:
    return OutboxMessage(
        chat_id,
        "text",
        {"text": f"<b>🔥 HighLatency</b> db-{n}\np95 above 2s", "parse_mode": "HTML"},
        coalesce_key="alerts",
        owner=f"alert_group:{n}",
    )


def done(rows: list[dict[str, Any]]) -> bool:
    return bool(rows) and all(r["status"] in ("sent", "coalesced") for r in rows)


async def test_two_hundred_alerts_reach_the_group_within_seconds_as_a_digest_losing_none(
    pool: asyncpg.Pool, tg: EmulatorClient, start_worker: StartWorker
) -> None:
    await tg.set_limits(enabled=True, group_per_minute=60)
    group = (await tg.create_chat("Ops alerts", members=[BUDI]))["id"]
    before = metrics.COALESCED._value.get()
    worker = await start_worker(limits=Limits(**SLOW_GROUP.model_dump()))
    for n in range(5):
        await enqueue(pool, alert(group, n))
    await wait_for_rows(pool, lambda rs: sum(r["status"] == "sent" for r in rs) >= 2)
    for n in range(5, 200):
        await enqueue(pool, alert(group, n))

    rows = await wait_for_rows(pool, done, timeout=15)
    digest_done = await pool.fetchval(
        "SELECT bool_and(rendered_items = items AND message_id IS NOT NULL) FROM outbox_digests"
    )
    if not digest_done:
        await worker.wait_idle()
        await wait_for_rows(pool, done)

    sent = [r for r in rows if r["status"] == "sent"]
    coalesced = [r for r in rows if r["status"] == "coalesced"]
    digest = await pool.fetchrow("SELECT * FROM outbox_digests")
    assert len(sent) + len(coalesced) == 200
    assert len(coalesced) >= 150 and digest["items"] == len(coalesced)
    assert metrics.COALESCED._value.get() - before == len(coalesced)
    shown = await tg.wait_for_edit(
        group,
        digest["message_id"],
        predicate=lambda m: m["text"].startswith(f"{len(coalesced)} "),
        after_edit_count=-1,
        timeout=5,
    )
    assert shown["text"].count("HighLatency db-") == FAST.digest_lines
    stats = await tg.stats()
    assert stats["retry_after_total"] == 0
    assert stats["sends"]["sendMessage"] == len(sent) + 1
