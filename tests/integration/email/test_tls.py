"""The mail channel over TLS, against real servers: Debian's Dovecot with a certificate the
test makes (openssl: a CA, a server certificate for 127.0.0.1) on imaps and with STARTTLS on
its plain port, and aiosmtpd on smtps and requiring STARTTLS. The client trusts the test CA
through EMAIL_CA_FILE; trusting another CA, or meeting a certificate for another host name, the
connection is refused and the log says why."""

from __future__ import annotations

import asyncio
import contextlib
import tempfile
from collections.abc import AsyncIterator, Iterator
from dataclasses import replace
from pathlib import Path

import aiosmtplib
import pytest
from loguru import logger

from services.email import tls
from services.email.config import EmailConfig
from services.email.inbound import MailboxReader, connect, fetch_new
from services.email.smtp import MailSender
from tests.integration.email.conftest import Channel, customer_mail
from tests.mailservers import (
    NO_OPENSSL,
    OPENSSL,
    SUPPORT,
    Certs,
    Dovecot,
    SmtpInbox,
    dovecot,
    make_certs,
    server_tls,
    smtp_inbox,
)
from tests.waiting import at_most

pytestmark = pytest.mark.skipif(OPENSSL is None, reason=NO_OPENSSL)


@pytest.fixture(scope="module")
def certs() -> Certs:
    return make_certs(Path(tempfile.mkdtemp(prefix="qc-certs-")))


@pytest.fixture(scope="module")
def tls_dovecot(certs: Certs) -> Iterator[Dovecot]:
    with dovecot(certs) as server:
        yield server


@pytest.fixture
def tls_mailbox(tls_dovecot: Dovecot) -> Dovecot:
    return tls_dovecot.mailbox()


def config(imap_url: str, smtp_url: str, ca_file: Path | None) -> EmailConfig:
    built = EmailConfig.from_urls(
        SUPPORT, imap_url, smtp_url, timeout=10.0, ca_file=str(ca_file) if ca_file else None
    )
    assert built is not None
    return built


@contextlib.contextmanager
def logged() -> Iterator[list[str]]:
    lines: list[str] = []
    sink = logger.add(lambda message: lines.append(str(message)), level="WARNING")
    try:
        yield lines
    finally:
        logger.remove(sink)


def encrypted(client: object) -> bool:
    transport = client.protocol.transport  # type: ignore[attr-defined]
    return transport.get_extra_info("ssl_object") is not None


@pytest.mark.parametrize("how", ["imaps", "starttls"])
async def test_the_mailbox_is_read_over_tls_trusting_the_ca_of_email_ca_file(
    channel: Channel, tls_mailbox: Dovecot, certs: Certs, how: str
) -> None:
    url = tls_mailbox.imaps_url if how == "imaps" else tls_mailbox.url
    ecfg = config(url, channel.inbox.url, certs.ca)
    raw, message_id = customer_mail("Apakah ada program afiliasi?")
    tls_mailbox.deliver(raw)
    client = await connect(ecfg)
    try:
        assert encrypted(client)  # imap:// was upgraded: the server offers STARTTLS
        [fetched] = await fetch_new(channel.pool, client, ecfg, channel.clock)
    finally:
        await client.logout()
    stored = await channel.pool.fetchval(
        "SELECT message_id FROM email_messages WHERE id = $1", fetched.email_id
    )
    assert stored == message_id


@pytest.mark.parametrize("how", ["imaps", "starttls"])
async def test_a_certificate_from_an_untrusted_ca_is_refused_and_the_log_says_why(
    channel: Channel, tls_mailbox: Dovecot, certs: Certs, how: str
) -> None:
    url = tls_mailbox.imaps_url if how == "imaps" else tls_mailbox.url
    ecfg = config(url, channel.inbox.url, certs.other_ca)  # trusts somebody else's CA
    tls_mailbox.deliver(customer_mail("Halo")[0])

    async def take_in() -> None:
        return None

    reader = MailboxReader(channel.pool, ecfg, channel.clock, take_in)
    with logged() as lines:
        task = asyncio.create_task(reader.run())
        try:
            await at_most(5, lambda: lines)
        finally:
            await reader.stop()
            await asyncio.wait_for(task, 10)
    assert lines, "nothing was logged"
    assert f"support mailbox 127.0.0.1:{ecfg.imap.port}: TLS certificate refused" in lines[0]
    assert "unable to get local issuer certificate" in lines[0]
    assert "EMAIL_CA_FILE" in lines[0] and "ERROR" in lines[0]
    assert await channel.pool.fetchval("SELECT count(*) FROM email_messages") == 0
    assert "\\Seen" not in tls_mailbox.flags()[0]  # nothing read: still new on the server


async def test_without_email_ca_file_a_self_signed_server_is_refused(
    channel: Channel, tls_mailbox: Dovecot
) -> None:
    ecfg = config(tls_mailbox.imaps_url, channel.inbox.url, None)  # the system's CAs only
    with pytest.raises(OSError) as raised:
        await connect(ecfg)
    told = tls.refusal(raised.value, ecfg.imap, "support mailbox")
    assert told is not None and "TLS certificate refused" in told


@pytest.fixture(params=["smtps", "starttls"])
async def tls_smtp(certs: Certs, request: pytest.FixtureRequest) -> AsyncIterator[SmtpInbox]:
    """aiosmtpd on smtps, or on a plain port that takes no mail before STARTTLS."""
    async with smtp_inbox(server_tls(certs), starttls=request.param == "starttls") as inbox:
        yield inbox


@pytest.fixture
async def foreign_smtps(certs: Certs) -> AsyncIterator[SmtpInbox]:
    """A certificate of the trusted CA, but for mail.example.org, not the host we dial."""
    async with smtp_inbox(server_tls(certs, foreign=True)) as inbox:
        yield inbox


async def queue_answer(channel: Channel) -> None:
    channel.customer_writes("Apakah ada program afiliasi?")
    await channel.read()  # a ticket, and its acknowledgement queued for SMTP


async def test_replies_leave_over_tls_smtps_or_starttls(
    channel: Channel, certs: Certs, tls_smtp: SmtpInbox
) -> None:
    inbox = tls_smtp
    await queue_answer(channel)
    ecfg = replace(channel.ecfg, smtp=config(channel.mailbox.url, inbox.url, certs.ca).smtp,
                   ca_file=str(certs.ca))  # fmt: skip
    assert await MailSender(channel.pool, ecfg, channel.clock).send_one()
    [acknowledgement] = await inbox.wait_for(1)
    assert acknowledgement["To"] == "budi.santoso@gmail.com"


async def test_an_smtp_server_with_a_certificate_for_another_host_is_refused(
    channel: Channel, certs: Certs, foreign_smtps: SmtpInbox
) -> None:
    await queue_answer(channel)
    ecfg = replace(channel.ecfg, smtp=config(channel.mailbox.url, foreign_smtps.url, None).smtp,
                   ca_file=str(certs.ca))  # fmt: skip
    with logged() as lines:
        assert not await MailSender(channel.pool, ecfg, channel.clock).send_one()
    assert foreign_smtps.messages == []
    row = await channel.pool.fetchrow(
        "SELECT status, last_error FROM email_messages WHERE direction = 'out'"
    )
    assert row["status"] == "pending"  # kept, tried again later: the operator may fix it
    [line] = lines
    assert f"outgoing mail server 127.0.0.1:{foreign_smtps.port}: TLS certificate refused" in line
    assert "IP address mismatch" in line or "hostname mismatch" in line.lower()


def test_aiosmtplib_is_told_to_verify() -> None:
    """The context given to aiosmtplib checks certificates and host names (its own default
    would too; ours adds EMAIL_CA_FILE and must not loosen anything)."""
    context = EmailConfig.from_urls(SUPPORT, "imaps://h", "smtps://h")
    assert context is not None
    built = context.tls_context()
    assert built.check_hostname and built.verify_mode.name == "CERT_REQUIRED"
    assert aiosmtplib.SMTP  # the client the sender uses
