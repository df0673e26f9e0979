"""A customer ties their e-mail address to their Telegram account (`/email` in the bot), so
both ways are one history: a code goes to the address, and only someone who reads that mail
can send it back. Their e-mail tickets then belong to their Telegram account (listed by
My tickets), and mail from that address opens tickets as them.
"""

from __future__ import annotations

import hmac
import json
import re
import secrets
from dataclasses import dataclass

import asyncpg
from redis.asyncio import Redis

from services import staff
from services.clock import Clock
from services.email import replies, store
from services.i18n import gettext as _
from services.i18n import use_locale
from services.storage.db import transaction
from services.tickets import store as tickets_store
from services.users import Person

ADDRESS_RE = re.compile(r"[^@\s<>()\[\],;:\"]{1,64}@[A-Za-z0-9.-]{1,255}\.[A-Za-z]{2,63}")
CODE_RE = re.compile(r"\d{6}")
CODE_SECONDS = 30 * 60
TRIES = 5  # wrong codes before the code is void
REQUESTS_PER_HOUR = 3  # codes sent per person: no mail cannon at someone else's address


@dataclass(eq=False)
class LinkError(Exception):
    """`reason`: bad_address | too_many | no_code | wrong_code | expired."""

    reason: str


@dataclass(frozen=True)
class Linked:
    address: str
    moved_tickets: int


def is_address(text: str) -> bool:
    return ADDRESS_RE.fullmatch(text.strip()) is not None


def is_code(text: str) -> bool:
    return CODE_RE.fullmatch(text.strip()) is not None


def _key(person_id: int) -> str:
    return f"qc:email:link:{person_id}"


async def request(
    pool: asyncpg.Pool, redis: Redis, clock: Clock, person: Person, address: str
) -> str:
    """Send a 6-digit code to `address`; returns the address as stored (lower-cased)."""
    address = address.strip().lower()
    if not is_address(address):
        raise LinkError("bad_address")
    hour = int(clock.now().timestamp() // 3600)
    count_key = f"qc:email:link-requests:{person.id}:{hour}"
    if int(await redis.incr(count_key)) > REQUESTS_PER_HOUR:
        raise LinkError("too_many")
    await redis.expire(count_key, 7200)
    code = f"{secrets.randbelow(10**6):06d}"
    await redis.set(
        _key(person.id), json.dumps({"address": address, "code": code, "tries": 0}),
        ex=CODE_SECONDS,
    )  # fmt: skip
    with use_locale(person.language or "id"):
        subject = _("Your QuickCart verification code")
        text = _(
            "Your code is {code}. Send it to the QuickCart bot in Telegram as /email {code} "
            "to link this address to your account. It is valid for 30 minutes. If you did not "
            "ask for it, ignore this e-mail."
        ).format(code=code)
    await replies.notice(pool, recipient=address, subject=subject, text=text, now=clock.now())
    return address


async def confirm(
    pool: asyncpg.Pool, redis: Redis, clock: Clock, person: Person, code: str,
    chat_id: int | None = None,
) -> Linked:  # fmt: skip
    held = await redis.get(_key(person.id))
    if held is None:
        raise LinkError("no_code")
    pending = json.loads(held)
    if not hmac.compare_digest(str(pending["code"]), code.strip()):
        pending["tries"] += 1
        if pending["tries"] >= TRIES:
            await redis.delete(_key(person.id))
            raise LinkError("expired")
        ttl = await redis.ttl(_key(person.id))
        await redis.set(_key(person.id), json.dumps(pending), ex=max(int(ttl), 1))
        raise LinkError("wrong_code")
    await redis.delete(_key(person.id))
    address = str(pending["address"])
    now = clock.now()
    async with transaction(pool) as conn:
        before = await store.link(conn, address, person.id, now)
        moved = 0
        if before is not None and before >= store.EMAIL_CUSTOMER_IDS:
            moved = await tickets_store.move_customer(conn, before, person.id)
        await staff.done(conn, person, "email.link", target=f"user:{person.id}", chat_id=chat_id,
                         address=address, moved_tickets=moved)  # fmt: skip
    return Linked(address, moved)
