"""The e-mail channel's tables (migration 0020): raw messages both ways, the addresses customers
write from, their attachments. Plain functions over an executor."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from services.storage.types import Executor

# Incoming messages, keyed by their Message-ID; `source_chat_id` of an e-mail in
# ticket_messages (a chat id no Telegram chat has), the row id of email_messages its message id.
EMAIL_SOURCE_CHAT = -1
NOTIFY_CHANNEL = "email_out"
# Customers known only by an address get ids from here up (sequence email_customer_ids), far
# above any Telegram user id.
EMAIL_CUSTOMER_IDS = 8_000_000_000_000_000_001
ADVISORY_CLASS = 20_0001  # pg_try_advisory_xact_lock(class, email id): one intake per message


# `reason` of a message stored too large (headers only): the desk refuses it when taking it in.
TOO_LARGE = "too large"


@dataclass(frozen=True)
class Stored:
    id: int
    raw: bytes
    reason: str | None = None


@dataclass(frozen=True)
class Outgoing:
    id: int
    ticket_id: int | None
    recipient: str
    subject: str
    body: str
    attempts: int
    tg_file_id: str | None


async def store_incoming(
    db: Executor, *, message_id: str, sender: str, subject: str, raw: bytes, now: datetime,
    status: str = "stored", reason: str | None = None,
) -> int | None:  # fmt: skip
    """Keep a message whole before anything else happens to it. None: this Message-ID was
    stored before (fetched again after a crash between storing and flagging)."""
    row_id: int | None = await db.fetchval(
        """
        INSERT INTO email_messages (direction, message_id, sender, subject, raw, status, reason,
                                    created_at)
        VALUES ('in', $1, $2, $3, $4, $5, $6, $7)
        ON CONFLICT (message_id) WHERE direction = 'in' DO NOTHING
        RETURNING id
        """,
        message_id, sender, subject, raw, status, reason, now,
    )  # fmt: skip
    return row_id


async def claim_stored(db: Executor) -> Stored | None:
    """The oldest incoming message not handled yet, held for the caller's transaction by an
    advisory lock (not a row lock: the desk's own transaction marks the row while this one
    waits), so two replicas never take in the same message."""
    row = await db.fetchrow(
        """
        WITH waiting AS (
            SELECT id FROM email_messages WHERE status = 'stored' ORDER BY id LIMIT 20
        )
        SELECT m.id, m.raw, m.reason FROM email_messages m JOIN waiting USING (id)
        WHERE pg_try_advisory_xact_lock($1, m.id::integer) AND m.status = 'stored'
        ORDER BY m.id LIMIT 1
        """,
        ADVISORY_CLASS,
    )
    return Stored(row["id"], bytes(row["raw"]), row["reason"]) if row is not None else None


async def mark(
    db: Executor, email_id: int, status: str, now: datetime, *, reason: str | None = None,
    ticket_id: int | None = None,
) -> None:  # fmt: skip
    await db.execute(
        """
        UPDATE email_messages SET status = $2, reason = $3, ticket_id = coalesce($4, ticket_id),
                                  handled_at = $5
        WHERE id = $1
        """,
        email_id, status, reason, ticket_id, now,
    )  # fmt: skip


async def ticket_of_thread(db: Executor, message_ids: tuple[str, ...]) -> int | None:
    """The ticket a reply belongs to, by the Message-IDs it answers (ours or the customer's)."""
    if not message_ids:
        return None
    value: int | None = await db.fetchval(
        """
        SELECT ticket_id FROM email_messages
        WHERE message_id = ANY($1::text[]) AND ticket_id IS NOT NULL
        ORDER BY id DESC LIMIT 1
        """,
        list(message_ids),
    )
    return value


async def outgoing_by_ids(db: Executor, message_ids: tuple[str, ...]) -> tuple[int, str] | None:
    """(ticket, recipient) of one of our sent mails among these Message-IDs (a bounce)."""
    if not message_ids:
        return None
    row = await db.fetchrow(
        """
        SELECT ticket_id, recipient FROM email_messages
        WHERE direction = 'out' AND message_id = ANY($1::text[]) AND ticket_id IS NOT NULL
        ORDER BY id DESC LIMIT 1
        """,
        list(message_ids),
    )
    return (row["ticket_id"], row["recipient"]) if row is not None else None


@dataclass(frozen=True)
class Thread:
    """What a reply on a ticket needs: whom it goes to, what it answers, its subject."""

    recipient: str | None
    subject: str
    last_message_id: str | None
    message_ids: tuple[str, ...]


async def thread(db: Executor, ticket_id: int) -> Thread:
    rows = await db.fetch(
        """
        SELECT direction, message_id, sender, subject FROM email_messages
        WHERE ticket_id = $1 AND status IN ('ticketed', 'pending', 'sent', 'failed')
        ORDER BY id
        """,
        ticket_id,
    )
    incoming = [r for r in rows if r["direction"] == "in"]
    return Thread(
        recipient=incoming[-1]["sender"] if incoming else None,
        subject=incoming[0]["subject"] if incoming else "",
        last_message_id=incoming[-1]["message_id"] if incoming else None,
        message_ids=tuple(r["message_id"] for r in rows if r["message_id"]),
    )


async def customer_of(db: Executor, address: str) -> int | None:
    value: int | None = await db.fetchval(
        "SELECT user_id FROM email_addresses WHERE address = $1", address
    )
    return value


async def add_address(db: Executor, address: str, user_id: int, now: datetime) -> int:
    """The person behind an address (the one stored first, when two arrive together)."""
    value: int = await db.fetchval(
        """
        INSERT INTO email_addresses (address, user_id, created_at) VALUES ($1, $2, $3)
        ON CONFLICT (address) DO UPDATE SET address = EXCLUDED.address
        RETURNING user_id
        """,
        address,
        user_id,
        now,
    )
    return value


async def new_customer_id(db: Executor) -> int:
    value: int = await db.fetchval("SELECT nextval('email_customer_ids')")
    return value


async def link(db: Executor, address: str, user_id: int, now: datetime) -> int | None:
    """Tie an address to a (Telegram) person after they proved they read its mail; returns the
    person the address stood for before (their e-mail-only history moves with it)."""
    before: int | None = await db.fetchval(
        "SELECT user_id FROM email_addresses WHERE address = $1", address
    )
    await db.execute(
        """
        INSERT INTO email_addresses (address, user_id, verified_at, created_at)
        VALUES ($1, $2, $3, $3)
        ON CONFLICT (address) DO UPDATE SET user_id = $2, verified_at = $3
        """,
        address,
        user_id,
        now,
    )
    return before if before != user_id else None


async def addresses_of(db: Executor, user_id: int) -> list[str]:
    rows = await db.fetch(
        "SELECT address FROM email_addresses WHERE user_id = $1 ORDER BY address", user_id
    )
    return [r["address"] for r in rows]


async def add_attachment(
    db: Executor, email_id: int, *, filename: str, content_type: str, data: bytes
) -> int:
    value: int = await db.fetchval(
        """
        INSERT INTO email_attachments (email_id, filename, content_type, size, data)
        VALUES ($1, $2, $3, $4, $5) RETURNING id
        """,
        email_id, filename, content_type, len(data), data,
    )  # fmt: skip
    return value


async def queue_out(
    db: Executor, *, ticket_id: int | None, recipient: str, body: str,
    now: datetime | None = None, subject: str = "", tg_file_id: str | None = None,
) -> int:  # fmt: skip
    """A reply waiting for SMTP: its text now (in the customer's language), its headers when it
    leaves (the thread as it stands then, a Message-ID of the support domain)."""
    value: int = await db.fetchval(
        """
        INSERT INTO email_messages (direction, message_id, sender, subject, raw, status,
                                    ticket_id, recipient, next_attempt_at, created_at, tg_file_id)
        VALUES ('out', $1, '', $2, $3, 'pending', $4, $5, NULL, coalesce($6, now()), $7)
        RETURNING id
        """,
        "", subject, body.encode(), ticket_id, recipient, now, tg_file_id,
    )  # fmt: skip
    await db.execute("SELECT pg_notify($1, $2)", NOTIFY_CHANNEL, str(value))
    return value


async def claim_pending(db: Executor, now: datetime, limit: int = 10) -> list[Outgoing]:
    """Replies whose time has come, locked for the caller's transaction."""
    rows = await db.fetch(
        """
        SELECT id, ticket_id, recipient, subject, raw, attempts, tg_file_id FROM email_messages
        WHERE status = 'pending' AND (next_attempt_at IS NULL OR next_attempt_at <= $1)
        ORDER BY next_attempt_at NULLS FIRST, id LIMIT $2 FOR UPDATE SKIP LOCKED
        """,
        now,
        limit,
    )
    return [
        Outgoing(r["id"], r["ticket_id"], r["recipient"], r["subject"],
                 bytes(r["raw"]).decode(), r["attempts"], r["tg_file_id"])
        for r in rows
    ]  # fmt: skip


async def sent(
    db: Executor, email_id: int, *, message_id: str, subject: str, raw: bytes, now: datetime
) -> None:
    """The message as it left (headers and all) replaces the queued body."""
    await db.execute(
        """
        UPDATE email_messages SET status = 'sent', raw = $2, message_id = $3, subject = $4,
                                  attempts = attempts + 1, handled_at = $5, last_error = NULL
        WHERE id = $1
        """,
        email_id, raw, message_id, subject, now,
    )  # fmt: skip


async def attempt_failed(
    db: Executor, email_id: int, error: str, now: datetime, *, retry_in: timedelta | None
) -> None:
    """A failed SMTP attempt: retried later, or (retry_in None) given up and kept as failed."""
    await db.execute(
        """
        UPDATE email_messages
        SET attempts = attempts + 1, last_error = $2,
            status = CASE WHEN $4::interval IS NULL THEN 'failed' ELSE 'pending' END,
            next_attempt_at = CASE WHEN $4::interval IS NULL THEN next_attempt_at
                                   ELSE $3::timestamptz + $4::interval END,
            handled_at = CASE WHEN $4::interval IS NULL THEN $3::timestamptz ELSE handled_at END
        WHERE id = $1
        """,
        email_id, error[:500], now, retry_in,
    )  # fmt: skip


async def next_pending_at(db: Executor) -> datetime | None:
    """When the next retry is due (a row due at once has none: it is claimed straight away)."""
    value: datetime | None = await db.fetchval(
        "SELECT min(next_attempt_at) FROM email_messages WHERE status = 'pending'"
    )
    return value


async def attachments_of(db: Executor, email_id: int) -> list[tuple[int, str, str, int]]:
    rows = await db.fetch(
        "SELECT id, filename, content_type, size FROM email_attachments WHERE email_id = $1"
        " ORDER BY id",
        email_id,
    )
    return [(r["id"], r["filename"], r["content_type"], r["size"]) for r in rows]


async def lock_refusal_notice(db: Executor) -> None:
    """Held until the transaction ends: one writer of the refused-mail notice at a time."""
    await db.execute("SELECT pg_advisory_xact_lock($1, 0)", ADVISORY_CLASS)
