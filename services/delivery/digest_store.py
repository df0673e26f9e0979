"""Storms: same-kind notifications folded into one digest message, edited as more arrive.

Every folded row stays in the outbox (status 'coalesced', `digest_id` set); the digest
lists them by count and first lines. A digest takes new items while they keep coming
(`digest_quiet`) and for at most `digest_max_age`; after that a new digest is started, so
the chat is notified again.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from services.delivery.config import DeliveryConfig
from services.delivery.requests import text_of
from services.delivery.rows import COLUMNS, OutboxRow
from services.i18n import gettext as _
from services.i18n import ngettext
from services.storage.types import Executor
from services.text import esc

COALESCIBLE_KINDS = frozenset({"text", "photo", "document", "copy"})


def may_coalesce(row: OutboxRow) -> bool:
    return bool(row.coalesce_key) and row.thread_ref is None and row.kind in COALESCIBLE_KINDS


@dataclass(frozen=True)
class Digest:
    id: int
    chat_id: int
    thread_id: int | None
    coalesce_key: str
    items: int
    rendered_items: int
    message_id: int | None

    @classmethod
    def from_record(cls, record: Any) -> Digest:
        return cls(**{name: record[name] for name in cls.__dataclass_fields__})


async def coalesce(
    db: Executor, row: OutboxRow, now: datetime, config: DeliveryConfig
) -> tuple[int, list[OutboxRow]]:
    """Fold `row` and every due pending row like it into the chat's open digest.

    Call inside a transaction. Returns the digest id and the rows folded.
    """
    digest_id: int | None = await db.fetchval(
        """
        SELECT id FROM outbox_digests
        WHERE chat_id = $1 AND coalesce_key = $2 AND thread_id IS NOT DISTINCT FROM $3
          AND last_item_at > $4 AND opened_at > $5
        ORDER BY id DESC LIMIT 1
        FOR UPDATE
        """,
        row.chat_id,
        row.coalesce_key,
        row.thread_id,
        now - timedelta(seconds=config.digest_quiet),
        now - timedelta(seconds=config.digest_max_age),
    )
    if digest_id is None:
        digest_id = await db.fetchval(
            """
            INSERT INTO outbox_digests (chat_id, thread_id, coalesce_key, opened_at, last_item_at)
            VALUES ($1, $2, $3, $4, $4) RETURNING id
            """,
            row.chat_id,
            row.thread_id,
            row.coalesce_key,
            now,
        )
    records = await db.fetch(
        f"""
        UPDATE outbox SET status = 'coalesced', digest_id = $4, sent_at = $5,
                          claimed_lock = NULL
        WHERE id = $6
           OR (chat_id = $1 AND coalesce_key = $2 AND thread_id IS NOT DISTINCT FROM $3
               AND thread_ref IS NULL AND status = 'pending'
               AND (not_before <= $5 OR not_before = created_at)
               AND kind = ANY($7::text[]))
        RETURNING {COLUMNS}
        """,
        row.chat_id,
        row.coalesce_key,
        row.thread_id,
        digest_id,
        now,
        row.id,
        sorted(COALESCIBLE_KINDS),
    )
    folded = [OutboxRow.from_record(r) for r in records]
    await db.execute(
        "UPDATE outbox_digests SET items = items + $2, last_item_at = $3 WHERE id = $1",
        digest_id,
        len(folded),
        now,
    )
    assert digest_id is not None
    return digest_id, folded


async def claim_render(
    db: Executor, digest_id: int, now: datetime, config: DeliveryConfig
) -> Digest | None:
    """Take the right to (re)render a digest now, or None (up to date, or edited too lately)."""
    record = await db.fetchrow(
        """
        UPDATE outbox_digests SET last_render_at = $2, render_lease = $2 + interval '30 seconds'
        WHERE id = $1 AND rendered_items < items
          AND (render_lease IS NULL OR render_lease <= $2)
          AND (last_render_at IS NULL OR last_render_at <= $3)
        RETURNING id, chat_id, thread_id, coalesce_key, items, rendered_items, message_id
        """,
        digest_id,
        now,
        now - timedelta(seconds=config.digest_edit_interval),
    )
    return Digest.from_record(record) if record is not None else None


async def dirty(db: Executor, now: datetime, config: DeliveryConfig) -> list[int]:
    records = await db.fetch(
        """
        SELECT id FROM outbox_digests
        WHERE rendered_items < items AND (last_render_at IS NULL OR last_render_at <= $1)
          AND (render_lease IS NULL OR render_lease <= $2)
        ORDER BY id LIMIT 50
        """,
        now - timedelta(seconds=config.digest_edit_interval),
        now,
    )
    return [r["id"] for r in records]


async def rendered(
    db: Executor, digest_id: int, items: int, message_id: int | None, error: str | None = None
) -> None:
    await db.execute(
        """
        UPDATE outbox_digests
        SET rendered_items = greatest(rendered_items, $2), message_id = $3, last_error = $4,
            render_lease = NULL
        WHERE id = $1
        """,
        digest_id,
        items,
        message_id,
        error,
    )


async def render(db: Executor, digest: Digest, config: DeliveryConfig) -> tuple[str, int]:
    """The digest's HTML text and how many items it covers."""
    count: int = await db.fetchval("SELECT count(*) FROM outbox WHERE digest_id = $1", digest.id)
    records = await db.fetch(
        f"SELECT {COLUMNS} FROM outbox WHERE digest_id = $1 ORDER BY id LIMIT $2",
        digest.id,
        config.digest_lines,
    )
    lines = [f"• {esc(text_of(OutboxRow.from_record(r)))}" for r in records]
    return render_text(digest.coalesce_key, count, lines), count


def render_text(key: str, count: int, lines: list[str]) -> str:
    header = ngettext(
        "{count} notification ({key}) arrived in a burst and is grouped here:",
        "{count} notifications ({key}) arrived in a burst and are grouped here:",
        count,
    ).format(count=count, key=esc(key))
    body = [f"<b>{header}</b>", *lines]
    rest = count - len(lines)
    if rest > 0:
        body.append(
            ngettext("…and {count} more item.", "…and {count} more items.", rest).format(count=rest)
        )
    body.append(_("Nothing was dropped: every item is kept in the outbox."))
    return "\n".join(body)
