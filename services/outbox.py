"""The one port through which services send to Telegram: a row in the outbox table.

`enqueue` is a plain INSERT, so a caller that passes its transaction's connection commits
"ticket saved" and "notification queued" together. The delivery worker sends the rows.

Answers to a person (PRIORITY_INTERACTIVE and more urgent) queued while an update is handled
are noted (`noting_answers`): once the handler is done, and so its transactions committed, the
process that handled it asks its delivery worker to send them at once (bot/intake.py,
DeliveryWorker.express), rather than when a NOTIFY reaches a free worker slot.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal, TypedDict, Unpack

from services.storage.types import Executor

Kind = Literal[
    "text",
    "photo",
    "document",
    "copy",
    "edit",
    "edit_markup",
    "create_topic",
    "edit_topic",
    "close_topic",
    "reopen_topic",
    "pin",
]

# Priorities: lower leaves first, across chats and within a chat: a more urgent row overtakes
# the less urgent rows queued for the same chat, while rows of one priority keep their order
# (services/delivery/store.py). Pages and incident notices sit above every alert-group
# message, so a P0 is never queued behind an alert storm.
PRIORITY_P0 = 0  # P0 incident notices and pages
PRIORITY_P1 = 1  # P1 incident notices and pages; what the operator must hear (failed deliveries)
PRIORITY_INTERACTIVE = 2  # answers to people, edits after a button press
PRIORITY_P2 = 3  # notices and pages of lesser incidents
PRIORITY_ALERT_CRITICAL = 4  # alert-group messages, by severity: below every page and notice
PRIORITY_ALERT_WARNING = 5
PRIORITY_ALERT_INFO = 6
PRIORITY_DEFAULT = 5
PRIORITY_REPORT = 8

NOTIFY_CHANNEL = "outbox_new"

# Payload keys starting with "_" are for the bot itself and never reach Telegram. A private text
# to a staff member carries, under ADMIN_COPY, the same text rendered in the admin chat's
# language ({"language", "text", "reply_markup"}): if Telegram refuses it because the person
# never pressed Start, the copy posted in the admin chat for them speaks the chat's language
# (services/delivery/not_started.py).
PRIVATE_KEY_PREFIX = "_"
ADMIN_COPY = "_admin_copy"


@dataclass(frozen=True)
class OutboxMessage:
    """One thing to send. `payload` holds Bot API parameters of the method `kind` maps to.

    - text: {"text", "parse_mode"?, "reply_markup"?, ...} -> sendMessage (split when long)
    - photo / document: {"photo"|"document": file_id or {"path"|"base64", "filename"}, "caption"?}
    - copy: {"from_chat_id", "message_id", "caption"?} -> copyMessage
    - edit / edit_markup: edits the message sent by outbox row `ref_id` (or payload message_id)
    - create_topic: {"name", "icon_color"?}; rows with thread_ref pointing here go to that topic
    - pin: {"disable_notification"?}: pins the message sent by outbox row `ref_id`
    """

    chat_id: int
    kind: Kind
    payload: dict[str, Any]
    thread_id: int | None = None
    thread_ref: int | None = None
    ref_id: int | None = None
    dedup_key: str | None = None
    owner: str | None = None
    coalesce_key: str | None = None
    priority: int = PRIORITY_DEFAULT
    not_before: datetime | None = None
    id: int | None = None  # taken beforehand from outbox_id_seq, to be referenced in the same
    # statement that takes it (services/tickets/history.record_relayed); None: the next one


def topic_key(thread_id: int | None, thread_ref: int | None) -> int:
    """Which conversation of its chat a row belongs to (0040_outbox_conversations.sql): the
    topic's id, minus the create_topic row's id while the topic is being created, else 0."""
    if thread_id is not None:
        return thread_id
    if thread_ref is not None:
        return -thread_ref
    return 0


def in_topic(topic_id: int | None, topic_outbox_id: int | None) -> tuple[int | None, int | None]:
    """(thread_id, thread_ref) of a row into a forum topic: the topic once Telegram made it,
    else the create_topic row that makes it (the row waits for that one to be sent)."""
    if topic_id is not None:
        return topic_id, None
    return None, topic_outbox_id


# The NOTIFY payload of rows queued in bulk, many conversations at once (a fan-out to every
# affected customer): the delivery worker claims over every stream.
EVERY_CONVERSATION = "*"


def conversation(chat_id: int, topic: int) -> str:
    """The key of one ordered stream of rows (and the NOTIFY payload that wakes it)."""
    return f"{chat_id}:{topic}"


# One round trip: the row, and the NOTIFY that wakes a delivery worker for its conversation
# (delivered when the caller's transaction commits; nothing when the dedup_key was seen).
_ENQUEUE = """
WITH queued AS (
    INSERT INTO outbox (id, chat_id, thread_id, thread_ref, ref_id, kind, payload, dedup_key,
                        owner, coalesce_key, priority, not_before, topic_key)
    VALUES (coalesce($14::bigint, nextval('outbox_id_seq')), $1, $2, $3, $4, $5, $6, $7, $8,
            $9, $10, coalesce($11, now()), $12)
    ON CONFLICT (dedup_key) DO NOTHING
    RETURNING id, chat_id, topic_key
)
SELECT id, pg_notify($13, chat_id::text || ':' || topic_key::text) FROM queued
"""


# The conversations an update's handler queued answers for, while `noting_answers` is open.
_ANSWERS: ContextVar[set[str] | None] = ContextVar("outbox_answers", default=None)


@contextmanager
def noting_answers() -> Iterator[set[str]]:
    """Collect the conversations that answers to people are queued for inside this block
    (tasks it starts included): the caller sends them once the block's work has committed. A
    row whose transaction rolled back is simply not found then."""
    noted: set[str] = set()
    token = _ANSWERS.set(noted)
    try:
        yield noted
    finally:
        _ANSWERS.reset(token)


async def enqueue(db: Executor, message: OutboxMessage) -> int | None:
    """Insert one row; return its id, or None when its dedup_key was accepted before."""
    row_id: int | None = await db.fetchval(
        _ENQUEUE,
        message.chat_id,
        message.thread_id,
        message.thread_ref,
        message.ref_id,
        message.kind,
        message.payload,
        message.dedup_key,
        message.owner,
        message.coalesce_key,
        message.priority,
        message.not_before,
        topic_key(message.thread_id, message.thread_ref),
        NOTIFY_CHANNEL,
        message.id,
    )
    if row_id is not None and message.priority <= PRIORITY_INTERACTIVE:
        note_answers(
            [conversation(message.chat_id, topic_key(message.thread_id, message.thread_ref))]
        )
    return row_id


def note_answers(conversations: Iterable[str]) -> None:
    """Answers were queued for these conversations (by `enqueue`, or by a statement of a
    feature's own that inserts outbox rows): sent at once if `noting_answers` is open."""
    noted = _ANSWERS.get()
    if noted is not None:
        noted.update(conversations)


class Row(TypedDict, total=False):
    """An OutboxMessage's optional fields, for `send_text` and `edit_message`."""

    thread_id: int | None
    thread_ref: int | None
    dedup_key: str | None
    owner: str | None
    coalesce_key: str | None
    priority: int


async def send_text(
    db: Executor, chat_id: int, payload: dict[str, Any], **row: Unpack[Row]
) -> int | None:
    """Queue a message to `chat_id` (`payload`: sendMessage's parameters, as
    services.message.html makes them); the row's id, or None when its dedup_key was seen."""
    return await enqueue(db, OutboxMessage(chat_id, "text", payload, **row))


async def edit_message(
    db: Executor, chat_id: int, ref_id: int | None, payload: dict[str, Any], **row: Unpack[Row]
) -> int | None:
    """Queue an edit of the message that outbox row `ref_id` sent to `chat_id` (`payload`:
    editMessageText's parameters), as an answer to a person unless `row` says otherwise."""
    row.setdefault("priority", PRIORITY_INTERACTIVE)
    return await enqueue(db, OutboxMessage(chat_id, "edit", payload, ref_id=ref_id, **row))


async def message_id_of(db: Executor, outbox_id: int) -> int | None:
    """Telegram's message id for a row once it is sent."""
    value: int | None = await db.fetchval(
        "SELECT message_id FROM outbox WHERE id = $1 AND status = 'sent'", outbox_id
    )
    return value


async def reached(db: Executor, chat_id: int) -> bool:
    """Whether a message to this chat ever got through (a private chat the person started)."""
    found: bool = await db.fetchval(
        "SELECT EXISTS (SELECT 1 FROM outbox WHERE chat_id = $1 AND status = 'sent')", chat_id
    )
    return found


async def replace_pending(
    db: Executor,
    row_id: int,
    payload: dict[str, Any],
    *,
    ref_id: int | None = None,
    not_after: datetime | None = None,
) -> bool:
    """Give a row that has not left yet a newer payload: an edit that waits takes the newest
    text instead of a second edit queueing behind it. `ref_id`: only while the row still edits
    that message. `not_after`: a row waiting to leave later than this leaves then instead.
    False: it is being sent or was sent, or edits another message."""
    status: str = await db.execute(
        """
        UPDATE outbox SET payload = $2,
               not_before = CASE WHEN $4::timestamptz IS NOT NULL AND not_before > $4
                                 THEN $4 ELSE not_before END
        WHERE id = $1 AND status = 'pending' AND ($3::bigint IS NULL OR ref_id = $3)
        """,
        row_id,
        payload,
        ref_id,
        not_after,
    )
    return status.endswith(" 1")


@dataclass(frozen=True)
class Latest:
    """The newest row of an owner's kinds: what it says, whether it left, and when it did (or
    will)."""

    id: int
    kind: str
    status: str
    payload: dict[str, Any]
    at: datetime


async def latest(db: Executor, owner: str, kinds: tuple[Kind, ...]) -> Latest | None:
    row = await db.fetchrow(
        """
        SELECT id, kind, status, payload, coalesce(sent_at, not_before, created_at) AS at
        FROM outbox WHERE owner = $1 AND kind = ANY($2::text[])
        ORDER BY id DESC LIMIT 1
        """,
        owner,
        list(kinds),
    )
    if row is None:
        return None
    return Latest(row["id"], row["kind"], row["status"], dict(row["payload"] or {}), row["at"])
