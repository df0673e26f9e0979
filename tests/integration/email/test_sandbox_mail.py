"""The sandbox's mail stand-in (sandbox/mail: a tiny IMAP server and aiosmtpd in-process) serves
the bot's own mailbox reader and SMTP sender as Dovecot and a real SMTP server do: a customer's
mail written in the panel becomes a ticket, the acknowledgement lands where the panel shows it,
and answering that acknowledgement returns to the same ticket. IDLE wakes the reader at once."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import asyncpg
import pytest
from redis.asyncio import Redis

from sandbox.mail import MailError, MailStandIn
from services.clock import FrozenClock
from services.email import intake
from services.email.config import EmailConfig
from services.email.inbound import MailboxReader, connect, fetch_new
from services.email.smtp import MailSender
from services.tickets.config import DeskConfig


@pytest.fixture
async def mail() -> AsyncIterator[MailStandIn]:
    stand_in = MailStandIn()
    await stand_in.start()
    yield stand_in
    await stand_in.stop()


@pytest.fixture
def ecfg(mail: MailStandIn) -> EmailConfig:
    built = EmailConfig.from_urls(
        mail.store.address, mail.imap_url, mail.smtp_url, timeout=5.0, poll_seconds=30.0
    )
    assert built is not None
    return built


async def turn(
    pool: asyncpg.Pool, redis: Redis, cfg: DeskConfig, ecfg: EmailConfig, clock: FrozenClock
) -> list[intake.Handled]:
    client = await connect(ecfg)
    try:
        await fetch_new(pool, client, ecfg, clock)
    finally:
        await client.logout()
    handled = await intake.handle_stored(pool, redis, cfg, ecfg, clock)
    sender = MailSender(pool, ecfg, clock)
    while await sender.send_one():
        pass
    return handled


async def test_a_mail_written_in_the_panel_is_a_ticket_and_its_answer_threads_back(
    mail: MailStandIn, ecfg: EmailConfig, pool: asyncpg.Pool, redis_client: Redis,
    cfg: DeskConfig, clock: FrozenClock,
) -> None:  # fmt: skip
    mail.store.customer_writes(
        sender="budi.santoso@gmail.com", name="Budi Santoso", subject="Pesanan belum sampai",
        text="Pesanan saya belum sampai sudah 5 hari.",
    )  # fmt: skip
    [handled] = await turn(pool, redis_client, cfg, ecfg, clock)
    assert handled.status == "ticketed"
    assert mail.store.inbox[0].flags == {"\\Seen"}  # stored by the bot, then flagged
    [acknowledgement] = mail.store.sent
    assert acknowledgement.to == ["budi.santoso@gmail.com"]
    assert acknowledgement.subject == "Re: [QC-000001] Pesanan belum sampai"
    view = mail.store.view()
    assert view["inbox"][0]["read_by_bot"] and view["sent"][0]["subject"].startswith("Re: [QC")

    mail.store.customer_writes(
        sender="budi.santoso@gmail.com", subject=acknowledgement.subject,
        text="Nomor pesanan ORD-20261102-7F3K9Q", in_reply_to=acknowledgement.message_id,
    )  # fmt: skip
    [reply] = await turn(pool, redis_client, cfg, ecfg, clock)
    assert reply.status == "ticketed" and reply.ticket_id == handled.ticket_id
    assert await pool.fetchval("SELECT count(*) FROM tickets") == 1


async def test_idle_wakes_the_reader_when_a_mail_arrives(
    mail: MailStandIn, ecfg: EmailConfig, pool: asyncpg.Pool, clock: FrozenClock
) -> None:
    taken = asyncio.Event()

    async def take_in() -> None:
        if await pool.fetchval("SELECT count(*) FROM email_messages") > 0:
            taken.set()

    reader = MailboxReader(pool, ecfg, clock, take_in)
    task = asyncio.create_task(reader.run())
    try:
        await asyncio.wait_for(reader.looked.wait(), 10)
        assert reader.idle_supported
        mail.store.customer_writes(sender="siti@example.id", subject="Halo", text="Halo")
        await asyncio.wait_for(taken.wait(), 10)  # well before the 30 s poll
    finally:
        await reader.stop()
        await asyncio.wait_for(task, 10)


@pytest.mark.parametrize(
    ("sender", "subject", "text"),
    [("not an address", "x", "y"), ("a@b.c", "", "   "), ("a@b.c", "x", "y" * 20_001)],
)
def test_the_panel_form_refuses_what_no_mail_client_would_send(
    sender: str, subject: str, text: str
) -> None:
    stand_in = MailStandIn()
    with pytest.raises(MailError):
        stand_in.store.customer_writes(sender=sender, subject=subject, text=text)
    assert stand_in.store.inbox == []
