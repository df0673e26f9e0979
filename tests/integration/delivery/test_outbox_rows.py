"""The outbox's shortcuts write the rows the long form wrote: a text (with its dedup key), an
edit of an earlier row (answering a person unless told otherwise), a row into a topic that
Telegram has not made yet."""

from __future__ import annotations

import asyncpg

from services import outbox
from services.message import html
from tests.cast import ALICE


async def _row(pool: asyncpg.Pool, row_id: int | None) -> asyncpg.Record:
    assert row_id is not None
    row = await pool.fetchrow("SELECT * FROM outbox WHERE id = $1", row_id)
    assert row is not None
    return row


async def test_a_text_is_queued_once_per_dedup_key_with_its_fields(pool: asyncpg.Pool) -> None:
    first = await outbox.send_text(
        pool, ALICE, html("<b>Q3</b> report"), dedup_key="q3", owner="report", priority=8
    )
    again = await outbox.send_text(pool, ALICE, html("<b>Q3</b> report"), dedup_key="q3")

    row = await _row(pool, first)
    assert again is None
    assert (row["chat_id"], row["kind"], row["owner"], row["priority"]) == (
        ALICE, "text", "report", 8,
    )  # fmt: skip
    assert row["payload"] == {"text": "<b>Q3</b> report", "parse_mode": "HTML"}


async def test_an_edit_refers_to_its_row_and_answers_a_person_unless_told(
    pool: asyncpg.Pool,
) -> None:
    sent = await outbox.send_text(pool, ALICE, html("v1"), priority=outbox.PRIORITY_REPORT)
    edit = await _row(pool, await outbox.edit_message(pool, ALICE, sent, html("v2"), owner="o"))
    slow = await _row(
        pool,
        await outbox.edit_message(pool, ALICE, sent, html("v3"), priority=outbox.PRIORITY_REPORT),
    )

    assert (edit["kind"], edit["ref_id"], edit["owner"]) == ("edit", sent, "o")
    assert edit["priority"] == outbox.PRIORITY_INTERACTIVE
    assert slow["priority"] == outbox.PRIORITY_REPORT


async def test_a_row_into_a_topic_waits_for_the_row_that_creates_it(pool: asyncpg.Pool) -> None:
    group = -100123
    topic_row = await outbox.enqueue(
        pool, outbox.OutboxMessage(group, "create_topic", {"name": "QC-000001"})
    )

    assert outbox.in_topic(None, topic_row) == (None, topic_row)
    assert outbox.in_topic(77, topic_row) == (77, None)  # once Telegram made it
    thread_id, thread_ref = outbox.in_topic(None, topic_row)
    row = await _row(
        pool,
        await outbox.send_text(
            pool, group, html("card"), thread_id=thread_id, thread_ref=thread_ref
        ),
    )
    assert (row["thread_id"], row["thread_ref"]) == (None, topic_row)
    assert row["topic_key"] == -topic_row
