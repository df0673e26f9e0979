"""The e-mail channel against real servers: Debian's Dovecot (the support mailbox, IMAP) and
aiosmtpd (where replies land), with the real PostgreSQL and Redis of every integration test."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from typing import Any

import asyncpg
import pytest
from redis.asyncio import Redis

from services.clock import FrozenClock
from services.email import intake
from services.email.config import EmailConfig
from services.email.inbound import connect, fetch_new
from services.email.smtp import MailSender
from services.tickets.config import DeskConfig
from tests.integration.conftest import SUPPORT_CHAT as SUPPORT_CHAT
from tests.mailservers import DOVECOT, NO_DOVECOT, SUPPORT, Dovecot, SmtpInbox, dovecot, smtp_inbox

if DOVECOT is None:  # said once, plainly, in the test report
    print(f"tests/integration/email skipped: {NO_DOVECOT}")
pytestmark = pytest.mark.skipif(DOVECOT is None, reason=NO_DOVECOT)


@pytest.fixture
def clock() -> FrozenClock:
    # Monday 2026-11-02 07:00 in Jakarta: before business hours, so the e-mail channel's
    # 8 business hours end the same day at 17:00, well before the 24 h of a P3
    return FrozenClock(datetime(2026, 11, 2, 0, 0, tzinfo=UTC))


@pytest.fixture(scope="session")
def dovecot_server() -> Iterator[Dovecot]:
    with dovecot() as server:
        yield server


@pytest.fixture
def mailbox(dovecot_server: Dovecot) -> Dovecot:
    return dovecot_server.mailbox()


@pytest.fixture
async def inbox() -> AsyncIterator[SmtpInbox]:
    async with smtp_inbox() as server:
        yield server


@pytest.fixture
def ecfg(mailbox: Dovecot, inbox: SmtpInbox) -> EmailConfig:
    built = EmailConfig.from_urls(SUPPORT, mailbox.url, inbox.url, timeout=10.0)
    assert built is not None
    return built


@dataclass
class Channel:
    """One turn of the channel's workers, run by hand: read the mailbox, take in, send."""

    pool: asyncpg.Pool
    redis: Redis
    cfg: DeskConfig
    ecfg: EmailConfig
    clock: FrozenClock
    mailbox: Dovecot
    inbox: SmtpInbox

    async def fetch(self) -> None:
        """The mailbox's new mail stored (the IMAP half alone; nothing taken in yet)."""
        client = await connect(self.ecfg)
        try:
            await fetch_new(self.pool, client, self.ecfg, self.clock)
        finally:
            await client.logout()

    async def take_in(self) -> list[intake.Handled]:
        """What is stored and not handled yet, taken in by the desk."""
        return await intake.handle_stored(self.pool, self.redis, self.cfg, self.ecfg, self.clock)

    async def read(self) -> list[intake.Handled]:
        await self.fetch()
        return await self.take_in()

    async def send(self) -> int:
        sender = MailSender(self.pool, self.ecfg, self.clock)
        sent = 0
        while await sender.send_one():
            sent += 1
        return sent

    async def turn(self) -> list[intake.Handled]:
        handled = await self.read()
        await self.send()
        return handled

    def customer_writes(self, text: str, **mail: Any) -> str:
        """A person's mail (`customer_mail`'s fields) put in the support mailbox: its
        Message-ID."""
        raw, message_id = customer_mail(text, **mail)
        self.mailbox.deliver(raw)
        return message_id

    def with_limits(self, **limits: object) -> Channel:
        return replace(self, ecfg=replace(self.ecfg, **limits))  # type: ignore[arg-type]


@pytest.fixture
def channel(
    pool: asyncpg.Pool, redis_client: Redis, cfg: DeskConfig, ecfg: EmailConfig,
    clock: FrozenClock, mailbox: Dovecot, inbox: SmtpInbox,
) -> Channel:  # fmt: skip
    return Channel(pool, redis_client, cfg, ecfg, clock, mailbox, inbox)


def customer_mail(
    text: str, *, sender: str = "Budi Santoso <budi.santoso@gmail.com>",
    subject: str = "Program afiliasi", in_reply_to: str | None = None,
    references: str | None = None, attachments: tuple[tuple[str, bytes], ...] = (),
    headers: dict[str, str] | None = None,
) -> tuple[bytes, str]:  # fmt: skip
    """A person's mail as their client would send it; (raw, its Message-ID)."""
    message = EmailMessage()
    message["From"] = sender
    message["To"] = SUPPORT
    message["Subject"] = subject
    message["Date"] = format_datetime(datetime(2026, 11, 2, 0, 0, tzinfo=UTC))
    message_id = make_msgid(domain="mail.example")
    message["Message-ID"] = message_id
    if in_reply_to:
        message["In-Reply-To"] = in_reply_to
    if references:
        message["References"] = references
    for name, value in (headers or {}).items():
        message[name] = value
    message.set_content(text)
    for name, data in attachments:
        message.add_attachment(data, maintype="application", subtype="octet-stream", filename=name)
    return message.as_bytes(), message_id
