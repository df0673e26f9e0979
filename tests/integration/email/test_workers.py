"""The channel's two workers as they run in the bot: the mailbox reader waits with IDLE (a mail
is read when it arrives, not at the next poll), the sender retries a server that is down."""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import replace
from datetime import timedelta

from services.email import intake
from services.email.config import server
from services.email.inbound import MailboxReader
from services.email.smtp import MailSender
from tests.integration.email.conftest import Channel
from tests.mailservers import smtp_inbox
from tests.net import free_port
from tests.waiting import eventually


async def test_the_reader_takes_a_mail_in_when_it_arrives_not_at_the_next_poll(
    channel: Channel,
) -> None:
    ecfg = replace(channel.ecfg, poll_seconds=600)  # only IDLE can bring it in time

    async def take_in() -> object:
        return await intake.handle_stored(channel.pool, channel.redis, channel.cfg, ecfg,
                                          channel.clock)  # fmt: skip

    reader = MailboxReader(channel.pool, ecfg, channel.clock, take_in)
    task = asyncio.create_task(reader.run())
    try:
        await asyncio.wait_for(reader.looked.wait(), 15)  # looked once, now waiting in IDLE
        assert reader.idle_supported is True
        await asyncio.sleep(0.3)
        channel.customer_writes("Apakah ada program afiliasi?")

        async def ticketed() -> bool:
            return bool(await channel.pool.fetchval(
                "SELECT count(*) FROM email_messages WHERE status = 'ticketed'"
            ))  # fmt: skip

        await eventually("the mail ticketed", ticketed, 15)
        assert "\\Seen" in channel.mailbox.flags()[0]
    finally:
        await reader.stop()
        await asyncio.wait_for(task, 15)


async def test_a_reader_whose_server_is_down_retries_and_does_not_crash(channel: Channel) -> None:
    down = replace(channel.ecfg, imap=server(f"imap://u:p@127.0.0.1:{free_port()}/INBOX", "imap"))

    async def take_in() -> object:
        return []

    reader = MailboxReader(channel.pool, down, channel.clock, take_in)
    task = asyncio.create_task(reader.run())
    await asyncio.sleep(1.5)
    assert not task.done()  # still trying, not crashed
    await reader.stop()
    await asyncio.wait_for(task, 10)


async def test_a_reply_waits_while_the_smtp_server_is_down_and_leaves_when_it_is_back(
    channel: Channel,
) -> None:
    port = free_port()
    down = channel.with_limits(smtp=server(f"smtp://127.0.0.1:{port}", "smtp"), timeout=3.0)
    channel.customer_writes("Apakah ada program afiliasi?")
    await down.read()
    assert await down.send() == 0
    row = await channel.pool.fetchrow(
        "SELECT status, attempts, last_error, next_attempt_at FROM email_messages"
        " WHERE direction = 'out'"
    )
    assert (row["status"], row["attempts"]) == ("pending", 1)
    assert row["last_error"]
    assert row["next_attempt_at"] == channel.clock.now() + timedelta(seconds=30)

    async with smtp_inbox() as back:
        later = replace(down, ecfg=replace(down.ecfg, smtp=server(back.url, "smtp")))
        assert await later.send() == 0  # not before its time
        channel.clock.advance(seconds=31)
        assert await later.send() == 1
        [ack] = back.messages
        assert ack["Subject"] == "Re: [QC-000001] Program afiliasi"
    sent = await channel.pool.fetchrow(
        "SELECT status, attempts, message_id, raw FROM email_messages WHERE direction = 'out'"
    )
    assert (sent["status"], sent["attempts"]) == ("sent", 2)
    assert sent["message_id"] == ack["Message-ID"]
    assert f"Message-ID: {ack['Message-ID']}".encode() in bytes(sent["raw"])


async def test_the_sender_worker_sends_what_the_desk_queues(channel: Channel) -> None:
    sender = MailSender(channel.pool, channel.ecfg, channel.clock)
    task = asyncio.create_task(sender.run())
    try:
        channel.customer_writes("Apakah ada program afiliasi?")
        await channel.read()
        [ack] = await channel.inbox.wait_for(1)
        assert ack["Subject"] == "Re: [QC-000001] Program afiliasi"
    finally:
        await sender.stop()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(task, 10)


async def test_a_stop_that_arrives_while_a_reply_is_sent_ends_the_sender_at_once(
    channel: Channel,
) -> None:
    """The app shuts down while the sender is busy: it stops then, not after its idle look."""

    class StoppedWhileSending(MailSender):
        async def send_one(self) -> bool:
            await self.stop()  # shutdown, while this "send" was on its way
            return False

    sender = StoppedWhileSending(channel.pool, channel.ecfg, channel.clock)
    # the idle look is 5 s away: a stop whose wake was cleared after the send waits it out
    await asyncio.wait_for(sender.run(), 3)
