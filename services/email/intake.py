"""A stored e-mail becomes part of the desk: a new ticket on the e-mail channel, or a message in
the ticket it answers. Loops are not answered, mail bombs not ticketed, oversized attachments
refused with a reply; whatever the verdict, the raw message stays stored (store.py).
"""

from __future__ import annotations

import base64
import re
from dataclasses import dataclass, replace

import asyncpg
from loguru import logger
from redis.asyncio import Redis
from redis.exceptions import ConnectionError as RedisConnectionError

from services import users
from services.classification import classify
from services.clock import Clock
from services.email import compose, outbound, refusals, replies, store
from services.email.config import EmailConfig
from services.email.parse import (
    Attachment,
    ParsedMail,
    envelope,
    guess_language,
    parse,
    without_quote,
)
from services.email.refusals import Refusal
from services.i18n import gettext as _
from services.i18n import use_locale
from services.sla import Channel
from services.storage.db import transaction
from services.storage.types import Executor
from services.text import esc, shorten
from services.tickets import actions, desk
from services.tickets import outbound as desk_outbound
from services.tickets import store as tickets_store
from services.tickets.config import DeskConfig
from services.tickets.model import (
    Incoming,
    NotAllowed,
    RateLimited,
    Ticket,
    TicketError,
    TicketStatus,
)
from services.users import Person

MB = 1024 * 1024
# Failures of the moment (PostgreSQL or Redis unreachable): the message waits, it is not judged.
TRANSIENT = (
    OSError,
    TimeoutError,
    asyncpg.PostgresConnectionError,
    asyncpg.InterfaceError,
    RedisConnectionError,
)


@dataclass(frozen=True)
class Handled:
    email_id: int
    status: str  # ticketed | ignored | limited | refused
    ticket_id: int | None = None
    reason: str | None = None
    refusal: Refusal | None = None  # why it made no ticket: audited, answered, counted


async def handle_stored(
    pool: asyncpg.Pool, redis: Redis, cfg: DeskConfig, ecfg: EmailConfig, clock: Clock,
    *, limit: int | None = None,
) -> list[Handled]:  # fmt: skip
    """Take in every stored message not handled yet (each in its own transaction): a storm
    of mail is worked through at once, not a batch per look at the mailbox."""
    done: list[Handled] = []
    while True:
        async with transaction(pool) as conn:
            item = await store.claim_stored(conn)
            if item is None:
                return done
            try:
                if item.reason and item.reason.startswith(store.TOO_LARGE):
                    result = too_large(item.id, item.raw, item.reason)
                else:
                    result = await take_in(pool, redis, cfg, ecfg, clock, item.id, item.raw)
            except TRANSIENT:
                raise  # a store is down: the message stays stored and is taken in later
            except Exception as exc:  # a message the desk cannot take: kept, marked, logged
                logger.exception("e-mail {} could not be taken in", item.id)
                result = _failed(item.id, item.raw, exc)
            if result.status != "ticketed":  # a ticketed one was marked with its ticket
                await store.mark(conn, item.id, result.status, clock.now(), reason=result.reason)
            if result.refusal is not None:  # with the verdict: audited, answered, counted
                await refusals.record(conn, redis, cfg, ecfg, clock.now(), item.id,
                                      result.refusal)  # fmt: skip
        done.append(result)
        if limit is not None and len(done) >= limit:
            return done


async def take_in(
    pool: asyncpg.Pool, redis: Redis, cfg: DeskConfig, ecfg: EmailConfig, clock: Clock,
    email_id: int, raw: bytes,
) -> Handled:  # fmt: skip
    mail = parse(raw, fallback_id=f"<stored-{email_id}@{ecfg.domain}>")

    def refuse(status: str, kind: refusals.Kind, reason: str, *, machine: bool = False) -> Handled:
        refusal = refusals.Refusal(
            kind, reason, sender=mail.sender, subject=mail.subject, text=mail.text[:2000],
            automatic=machine or mail.automatic is not None, language=mail.language,
        )  # fmt: skip
        return Handled(email_id, status, reason=reason, refusal=refusal)

    if not mail.sender:
        return refuse("ignored", "no_sender", "no sender address")
    if mail.sender == ecfg.address:
        return refuse("ignored", "loop", "loop: sent by the support address itself", machine=True)
    if mail.automatic:
        if is_bounce(mail):
            await _bounced(pool, cfg, ecfg, mail, raw)
        return refuse("ignored", "loop", f"loop: {mail.automatic}")
    if mail.unreadable:
        return refuse("refused", "unreadable", f"unreadable: {mail.unreadable}")
    customer = await _customer(pool, mail, cfg, clock)
    if not await _within_rate(redis, ecfg, clock, mail.sender):
        return refuse("limited", "bomb", "too many e-mails from this sender")
    mail, whole = _within_text_limit(mail, ecfg)
    fitting = [a for a in mail.attachments if a.size <= ecfg.max_attachment_bytes]
    kept = fitting[: ecfg.max_attachments] + whole
    refused = [a for a in mail.attachments if a.size > ecfg.max_attachment_bytes]
    refused += fitting[ecfg.max_attachments :]  # one mail must not flood the topic with files
    recorded: list[int] = []

    async def within(conn: Executor, ticket: Ticket) -> None:
        """In the desk's transaction: the stored message now belongs to this ticket, its
        attachments are kept and shown in the topic, refused ones named there and answered."""
        await store.mark(conn, email_id, "ticketed", clock.now(), ticket_id=ticket.id)
        recorded.append(ticket.id)
        await _attachments(conn, cfg, ecfg, ticket, email_id, mail, kept, refused)

    target = await _ticket_answered(pool, mail, customer)
    text = without_quote(mail.text) if target is not None else _description(mail)
    incoming = Incoming(
        chat_id=store.EMAIL_SOURCE_CHAT, message_id=email_id, author_id=customer.id,
        kind="text", text=text or mail.subject or "-", author_name=customer.first_name,
    )  # fmt: skip
    stars = compose.rating_in(text) if target is not None else None
    if target is not None and stars is not None and await _rate(pool, cfg, clock, customer,
                                                                target, stars):  # fmt: skip
        await store.mark(pool, email_id, "ticketed", clock.now(), ticket_id=target,
                         reason=f"rating {stars}")  # fmt: skip
        return Handled(email_id, "ticketed", target, reason=f"rating {stars}")
    try:
        if target is not None:
            done = await desk.customer_message(
                pool, redis, cfg, clock, customer=customer, incoming=incoming,
                ticket_id=target, within=within,
            )  # fmt: skip
            if done.outcome in ("relayed", "reopened"):
                return Handled(email_id, "ticketed", recorded[0] if recorded else target)
        description = _description(mail)
        category = classify(description, rules=cfg.classification).category
        opened = await desk.open_ticket(
            pool, redis, cfg, clock, customer=customer, category=category,
            description=description, channel=Channel.EMAIL, within=within,
        )  # fmt: skip
        return Handled(email_id, "ticketed", opened.ticket.id)
    except RateLimited:
        return refuse("limited", "bomb", "the desk's ticket or message limit")
    except NotAllowed:
        return refuse("refused", "banned", "the sender is banned")


def too_large(email_id: int, raw: bytes, reason: str) -> Handled:
    """A message over `max_message_bytes`, stored by its headers alone (inbound.py)."""
    found = envelope(raw)
    refusal = refusals.Refusal(
        "too_large", reason, sender=found.sender, subject=found.subject,
        automatic=found.automatic is not None, language=found.language,
    )  # fmt: skip
    return Handled(email_id, "refused", reason=reason, refusal=refusal)


def _failed(email_id: int, raw: bytes, exc: Exception) -> Handled:
    """The desk could not take this message. When the message itself cannot be parsed, it is
    unreadable (its sender is told); else the desk failed on it (a bug, a broken row): staff are
    told, the sender is not. Either way it stays stored to be looked at."""
    found = envelope(raw)
    reason = repr(exc)[:300]
    try:
        parse(raw)
    except Exception:  # the message is what breaks
        refusal = Refusal("unreadable", f"unreadable: {reason}", sender=found.sender,
                          subject=found.subject, automatic=found.automatic is not None,
                          language=found.language)  # fmt: skip
    else:
        refusal = Refusal("error", reason, sender=found.sender, subject=found.subject,
                          automatic=True)  # fmt: skip
    return Handled(email_id, "refused", reason=refusal.reason, refusal=refusal)


async def _rate(
    pool: asyncpg.Pool, cfg: DeskConfig, clock: Clock, customer: Person, ticket_id: int,
    stars: int,
) -> bool:  # fmt: skip
    """A reply of just "1".."5" to a resolved ticket is its rating (the stars of Telegram)."""
    ticket = await tickets_store.find(pool, ticket_id)
    if ticket is None or ticket.status not in (TicketStatus.RESOLVED, TicketStatus.CLOSED):
        return False
    try:
        await actions.rate(pool, cfg, clock, customer=customer, ticket_id=ticket_id, stars=stars)
    except TicketError:
        return False
    return True


def is_bounce(mail: ParsedMail) -> bool:
    """A delivery failure (not an out-of-office reply, which also answers our mail)."""
    reason = mail.automatic or ""
    return reason == "delivery report" or reason.startswith("bounce") or reason in (
        "sender: mailer-daemon", "sender: postmaster",
    )  # fmt: skip


DIAGNOSTIC_RE = re.compile(rb"^(?:Diagnostic-Code|Status):\s*(.{1,200})$", re.MULTILINE | re.I)


async def _bounced(
    pool: asyncpg.Pool, cfg: DeskConfig, ecfg: EmailConfig, mail: ParsedMail, raw: bytes
) -> None:
    """A bounce of one of our answers: its ticket's topic is told the customer never got it."""
    ours = re.findall(rb"<[^<>\s]{1,200}@" + re.escape(ecfg.domain.encode()) + rb">", raw)
    found = await store.outgoing_by_ids(pool, tuple(dict.fromkeys(i.decode() for i in ours)))
    if found is None:
        return
    ticket_id, recipient = found
    diagnostic = DIAGNOSTIC_RE.findall(raw)
    reason = diagnostic[-1].decode(errors="replace").strip() if diagnostic else mail.subject
    async with transaction(pool) as conn:
        await outbound.undelivered(conn, cfg, ticket_id, recipient, f"bounce: {reason}")


def _within_text_limit(mail: ParsedMail, ecfg: EmailConfig) -> tuple[ParsedMail, list[Attachment]]:
    """A text longer than a desk message should be (a log pasted whole, a 1 MB newsletter) is
    cut for the topic, and the whole text goes along as a file: staff can read every word."""
    if len(mail.text) <= ecfg.max_text_chars:
        return mail, []
    whole = Attachment("email-text.txt", "text/plain", mail.text.encode())
    cut = mail.text[: ecfg.max_text_chars].rstrip() + "\n[…]"
    return replace(mail, text=cut), [whole]


def _description(mail: ParsedMail) -> str:
    body = mail.text.strip()
    if mail.subject and not body.startswith(mail.subject):
        return f"{mail.subject}\n\n{body}".strip()
    return body or mail.subject


async def _within_rate(redis: Redis, ecfg: EmailConfig, clock: Clock, sender: str) -> bool:
    """A mail bomb: more than `messages_per_hour` from one address in a clock hour."""
    hour = int(clock.now().timestamp() // 3600)
    key = f"qc:email:rate:{sender}:{hour}"
    count = int(await redis.incr(key))
    if count == 1:
        await redis.expire(key, 7200)
    return count <= ecfg.messages_per_hour


async def _customer(pool: asyncpg.Pool, mail: ParsedMail, cfg: DeskConfig, clock: Clock) -> Person:
    """The person behind the address: the one it was first seen as (or linked to), else a new
    customer named as their mail names them, speaking the language their text is in."""
    async with transaction(pool) as conn:
        user_id = await store.customer_of(conn, mail.sender)
        if user_id is None:
            user_id = await store.new_customer_id(conn)
            # staff read the address wherever the desk names the customer (card, topic title)
            name = f"✉️ {mail.sender_name} ({mail.sender})" if mail.sender_name else mail.sender
            await users.touch(conn, user_id, first_name=name, username=None)
            language = guess_language(f"{mail.subject}\n{mail.text}", cfg.staff_locale)
            await users.set_language(conn, user_id, language)
            user_id = await store.add_address(conn, mail.sender, user_id, clock.now())
        person = await users.get(conn, user_id)
    assert person is not None
    return person


async def _ticket_answered(pool: asyncpg.Pool, mail: ParsedMail, customer: Person) -> int | None:
    """The ticket this mail answers: by the Message-IDs it replies to, else by the number in
    its subject, and only a ticket of this customer (a number cannot open another's ticket)."""
    found = await store.ticket_of_thread(pool, mail.thread_ids)
    if found is None:
        found = mail.ticket_number
    if found is None:
        return None
    ticket = await tickets_store.find(pool, found)
    return found if ticket is not None and ticket.customer_id == customer.id else None


async def _attachments(
    conn: Executor, cfg: DeskConfig, ecfg: EmailConfig, ticket: Ticket, email_id: int,
    mail: ParsedMail, kept: list[Attachment], refused: list[Attachment],
) -> None:  # fmt: skip
    for item in kept:
        await store.add_attachment(
            conn, email_id, filename=item.filename, content_type=item.content_type, data=item.data
        )
        caption = f"📎 {esc(shorten(item.filename, 200))} · {_size(item.size)}"
        payload = {
            "document": {"base64": base64.b64encode(item.data).decode(), "filename": item.filename},
            "caption": caption,
            "parse_mode": desk_outbound.HTML,
        }
        await desk_outbound.to_topic(conn, ticket, cfg, "document", payload)
    if not refused:
        return
    names = [f"{a.filename} ({_size(a.size)})" for a in refused]
    limit = ecfg.max_attachment_bytes // MB
    with use_locale(await desk_outbound.desk_language(conn, cfg)):
        note = _(
            "E-mail attachments refused (over {limit} MB, or beyond {count} files): {names}"
        ).format(limit=limit, count=ecfg.max_attachments, names=", ".join(names))
    await desk_outbound.to_topic(conn, ticket, cfg, "text", desk_outbound.html(esc(note)))
    with use_locale(ticket.language):
        text = compose.attachment_refused(names, limit, ecfg.max_attachments)
    await replies.queue(
        conn, ticket_id=ticket.id, customer_id=ticket.customer_id, language=ticket.language,
        payload={"text": esc(text)},
    )  # fmt: skip


def _size(size: int) -> str:
    if size >= MB:
        return f"{size / MB:.1f} MB"
    return f"{max(1, size // 1024)} KB"
