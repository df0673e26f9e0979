"""A customer's texts that waited in the inbox, into their one open ticket at once, one copy.

In a storm the inbox hands a conversation's waiting updates over as a run (services/inbox).
The leading plain texts of a customer's run go into their one open ticket in one statement,
as `quick_relay.relay_into_sole` takes one, and their copies into the ticket's topic as one
message: each copy exactly as it would be alone, one after the other, while they fit in one
Telegram message. That is DESIGN's storm rule (one message rather than one per item into a
group, whose budget is 20 sends a minute), and the cost of a message falls as its backlog
grows. In calm weather a run is one message, and its copy is the one it always was.

Only what the desk's first free-text handler (handlers/relay.py `first`) would take goes this
way: a private text, not a command, from a person with no roles, no conversation state (the
`private_state` mark, bot/fsm.py), no ban, within the abuse limit, whose one active ticket is
normal and open or acknowledged. Anything else is declined (0) with nothing stored but the
person's touch, and the inbox hands those updates over the usual way, one by one.

Handled again after a crash (the run relayed, the inbox not yet told), nothing is copied
twice: a Telegram message already in the ticket is skipped, and the copy holds only the
messages this statement recorded.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import asyncpg
from redis.asyncio import Redis

from services import outbox, users
from services.clock import Clock
from services.message import html
from services.outbox import NOTIFY_CHANNEL, PRIORITY_INTERACTIVE
from services.storage.types import Executor
from services.text import TELEGRAM_TEXT_LIMIT, visible_length
from services.tickets import limits
from services.tickets import render as staff_render
from services.tickets.config import DeskConfig
from services.tickets.model import EventKind, Incoming
from services.tickets.quick_relay import PLACE, PLACED_AND_QUEUED, QUICK_VALUES, SOLE_TICKET

FOLD_SEPARATOR = "\n\n"


@dataclass(frozen=True)
class Sender:
    id: int
    first_name: str
    last_name: str | None
    username: str | None


def plain_text(update: dict[str, Any]) -> tuple[Sender, Incoming] | None:
    """The update as a customer's free text in private (what `not_free_text` lets through to
    the free-text routers, with a text), read from the update as Telegram sent it; else None."""
    message = update.get("message")
    if not isinstance(message, dict):
        return None
    chat, user, text = message.get("chat"), message.get("from"), message.get("text")
    if not isinstance(chat, dict) or chat.get("type") != "private":
        return None
    if not isinstance(user, dict) or user.get("is_bot") or "sender_chat" in message:
        return None
    if not isinstance(text, str) or not text or text.startswith("/"):
        return None
    try:
        sender = Sender(
            int(user["id"]), str(user["first_name"]), user.get("last_name"), user.get("username")
        )
        incoming = Incoming(
            chat_id=int(chat["id"]),
            message_id=int(message["message_id"]),
            author_id=sender.id,
            kind="text",
            text=text,
            author_name=sender.first_name,
        )
    except (KeyError, TypeError, ValueError):
        return None
    return sender, incoming


def leading_texts(updates: Sequence[dict[str, Any]]) -> tuple[Sender, list[Incoming]] | None:
    """The run's leading free texts by one sender (as they named themselves then)."""
    first = plain_text(updates[0]) if updates else None
    if first is None:
        return None
    sender, texts = first[0], [first[1]]
    for update in updates[1:]:
        nxt = plain_text(update)
        if nxt is None or nxt[0] != sender:
            break
        texts.append(nxt[1])
    return sender, texts


def fold(customer_name: str, texts: Sequence[Incoming]) -> list[str]:
    """The copies of the leading texts that fit one Telegram message together (each as it
    would be alone; a text whose copy takes two messages stops the fold, and goes alone)."""
    copies: list[str] = []
    length = 0
    for incoming in texts:
        parts = staff_render.customer_text_in_topic(customer_name, incoming.text or "")
        if len(parts) != 1:
            break
        added = visible_length(parts[0]) + (len(FOLD_SEPARATOR) if copies else 0)
        if length + added > TELEGRAM_TEXT_LIMIT:
            break
        copies.append(parts[0])
        length += added
    return copies


async def relay_run(
    pool: asyncpg.Pool,
    redis: Redis,
    cfg: DeskConfig,
    clock: Clock,
    updates: Sequence[dict[str, Any]],
) -> int:
    """How many leading updates of the run are now in the customer's ticket, their copy
    queued as one message (or were, before); 0: none goes this way, nothing stored."""
    run = leading_texts(updates)
    if run is None:
        return 0
    sender, texts = run
    now = clock.now()
    person = await users.touch(
        pool,
        sender.id,
        first_name=sender.first_name,
        last_name=sender.last_name,
        username=sender.username,
    )
    if person.is_staff or person.private_state or person.banned_at(now) or not person.full_name:
        return 0
    allowed = await limits.messages(
        redis, person.id, cfg.support, clock, events=[t.key for t in texts]
    )
    copies = fold(person.full_name, texts[:allowed])
    if not copies:
        return 0
    taken = texts[: len(copies)]
    placed = await _relay(pool, cfg, person.id, taken, copies, now)
    return len(taken) if placed else 0


# $1 customer, $2 statuses, $3 the desk's support chat, $4 author, $5 texts, $6 source chat,
# $7 source messages, $8 now, $9 event kind, $10 the copies, $11 the copy's payload (its text
# replaced), $12 priority, $13 NOTIFY channel. The copy's place is quick_relay's, and the
# outbox row is the one quick_relay queues for one message, its text the folded copies.
_RUN = f"""
WITH {SOLE_TICKET}, {PLACE}, incoming AS (
    SELECT * FROM unnest($5::text[], $7::bigint[], $10::text[]) WITH ORDINALITY
        AS i(body, source_message_id, copy, n)
), copy_row AS (
    SELECT nextval('outbox_id_seq') AS id FROM place
), m AS (
    INSERT INTO ticket_messages (ticket_id, direction, author_id, kind, body, file_id,
                                 source_chat_id, source_message_id, relay_outbox_id, created_at)
    SELECT p.id, 'in', $4, 'text', i.body, NULL, $6, i.source_message_id, c.id, $8
    FROM place p, copy_row c, incoming i
    ORDER BY i.n
    ON CONFLICT (source_chat_id, source_message_id) DO NOTHING
    RETURNING id, ticket_id, relay_outbox_id, source_message_id
), e AS (
    INSERT INTO ticket_events (ticket_id, at, actor_id, kind, details)
    SELECT ticket_id, $8, $4, $9, jsonb_build_object('message', id, 'kind', 'text')
    FROM m ORDER BY id
), folded AS (
    SELECT min(m.relay_outbox_id) AS id, string_agg(i.copy, $14 ORDER BY i.n) AS text
    FROM m JOIN incoming i USING (source_message_id)
    HAVING count(*) > 0
), q AS (
    INSERT INTO outbox (id, chat_id, thread_id, thread_ref, ref_id, kind, payload, owner,
                        priority, not_before, topic_key)
    SELECT f.id, p.chat_id, p.thread_id, p.thread_ref, p.ref_id, 'text',
           $11::jsonb || jsonb_build_object('text', f.text), 'ticket:' || p.id, $12, now(),
           coalesce(p.thread_id, -p.thread_ref, 0)
    FROM folded f, place p
    RETURNING chat_id, topic_key
)
{PLACED_AND_QUEUED.format(channel="$13")}"""


async def _relay(
    db: Executor, cfg: DeskConfig, customer_id: int, texts: Sequence[Incoming],
    copies: Sequence[str], now: datetime,
) -> bool:  # fmt: skip
    payload = html("")  # its text is the folded copies: jsonb's || keeps the right-hand key
    row = await db.fetchrow(
        _RUN, customer_id, QUICK_VALUES, cfg.support_chat_id, customer_id,
        [t.text for t in texts], texts[0].chat_id, [t.message_id for t in texts], now,
        EventKind.CUSTOMER_MESSAGE.value, list(copies), payload, PRIORITY_INTERACTIVE,
        NOTIFY_CHANNEL, FOLD_SEPARATOR,
    )  # fmt: skip
    assert row is not None
    outbox.note_answers(row["queued"] or ())
    return bool(row["placed"])
