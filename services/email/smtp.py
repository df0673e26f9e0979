"""Replies leave by SMTP (aiosmtplib): one queued row at a time, composed when it leaves (the
thread as it stands then), stored as sent exactly as it left. A refused recipient is given up
and kept as failed; a server that is down or hangs is retried with a growing pause.
"""

from __future__ import annotations

import asyncio
import contextlib
import mimetypes
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from email.message import EmailMessage

import aiosmtplib
import asyncpg
from loguru import logger

from services.clock import Clock
from services.email import compose, outbound, store, tls
from services.email.config import EmailConfig
from services.storage.db import transaction
from services.storage.types import Executor
from services.tickets.config import DeskConfig

# A file staff sent in the topic, fetched from Telegram when the reply leaves: (bytes, name).
FileFetcher = Callable[[str], Awaitable[tuple[bytes, str]]]

IDLE_LOOK_SECONDS = 5.0


def compose_row(
    cfg: EmailConfig, row: store.Outgoing, thread: store.Thread, now: datetime
) -> EmailMessage:
    """The queued text as a reply in the ticket's thread."""
    subject = row.subject
    if row.ticket_id is not None:
        subject = compose.reply_subject(row.ticket_id, subject or thread.subject)
    return compose.reply(
        sender=cfg.address,
        display_name=cfg.display_name,
        recipient=row.recipient,
        subject=subject,
        body=row.body,
        message_id=compose.new_message_id(cfg.domain),
        in_reply_to=thread.last_message_id,
        references=thread.message_ids,
        now=now,
    )


def _refusal(exc: aiosmtplib.SMTPRecipientsRefused) -> str:
    return "; ".join(f"{r.code} {r.message}" for r in exc.recipients) or str(exc)


def retry_pause(attempts: int) -> timedelta:
    return timedelta(seconds=min(30 * 2**attempts, 3600))


class MailSender:
    def __init__(
        self, pool: asyncpg.Pool, cfg: EmailConfig, clock: Clock,
        fetch_file: FileFetcher | None = None, desk: DeskConfig | None = None,
    ) -> None:  # fmt: skip
        """`desk`: where a reply given up is told (its ticket's topic)."""
        self.pool, self.cfg, self.clock, self.fetch_file = pool, cfg, clock, fetch_file
        self.desk = desk
        self.stopping = asyncio.Event()
        self.wake = asyncio.Event()

    async def stop(self) -> None:
        self.stopping.set()
        self.wake.set()

    async def run(self) -> None:
        async with self.pool.acquire() as listener:
            await listener.add_listener(store.NOTIFY_CHANNEL, self._notified)
            try:
                while not self.stopping.is_set():
                    while await self.send_one():
                        if self.stopping.is_set():
                            return
                    self.wake.clear()
                    if self.stopping.is_set():  # stopped while sending: its wake was cleared
                        return
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self.wake.wait(), IDLE_LOOK_SECONDS)
            finally:
                with contextlib.suppress(Exception):
                    await listener.remove_listener(store.NOTIFY_CHANNEL, self._notified)

    def _notified(self, *_: object) -> None:
        self.wake.set()

    async def send_one(self) -> bool:
        """Send the next due reply; False when none is due."""
        now = self.clock.now()
        async with transaction(self.pool) as conn:
            rows = await store.claim_pending(conn, now, limit=1)
            if not rows:
                return False
            row = rows[0]
            thread = (
                await store.thread(conn, row.ticket_id)
                if row.ticket_id is not None
                else store.Thread(row.recipient, row.subject, None, ())
            )
            try:
                message = compose_row(self.cfg, row, thread, now)
                if row.tg_file_id and self.fetch_file is not None:
                    data, name = await asyncio.wait_for(
                        self.fetch_file(row.tg_file_id), self.cfg.timeout
                    )
                    kind = mimetypes.guess_type(name)[0] or "application/octet-stream"
                    main, sub = kind.split("/", 1)
                    message.add_attachment(data, maintype=main, subtype=sub, filename=name)
                await self._send(message, row.recipient)
            except aiosmtplib.SMTPRecipientsRefused as exc:
                await store.attempt_failed(conn, row.id, f"refused: {exc}", now, retry_in=None)
                logger.warning("reply e-mail {} refused by the server: {}", row.id, exc)
                await self._given_up(conn, row, _refusal(exc))
                return True
            except (OSError, TimeoutError, aiosmtplib.SMTPException) as exc:
                last = row.attempts + 1 >= self.cfg.send_attempts
                await store.attempt_failed(
                    conn,
                    row.id,
                    repr(exc),
                    now,
                    retry_in=None if last else retry_pause(row.attempts),
                )
                told = tls.refusal(exc, self.cfg.smtp, "outgoing mail server")
                if told is not None:  # a certificate is not a passing fault: said plainly
                    logger.error("reply e-mail {} not sent ({}): {}", row.id,
                                 "given up" if last else "will retry", told)  # fmt: skip
                else:
                    logger.warning("reply e-mail {} not sent ({}): {}", row.id,
                                   "given up" if last else "will retry", exc)  # fmt: skip
                if last:
                    await self._given_up(conn, row, told or str(exc) or type(exc).__name__)
                return False  # the server is unwell: the rest wait for the next look
            await store.sent(
                conn, row.id, message_id=str(message["Message-ID"]),
                subject=str(message["Subject"]), raw=message.as_bytes(), now=now,
            )  # fmt: skip
            return True

    async def _given_up(self, conn: Executor, row: store.Outgoing, reason: str) -> None:
        if self.desk is not None and row.ticket_id is not None:
            await outbound.undelivered(conn, self.desk, row.ticket_id, row.recipient, reason)

    async def _send(self, message: EmailMessage, recipient: str) -> None:
        server = self.cfg.smtp
        await aiosmtplib.send(
            message,
            sender=self.cfg.address,
            recipients=[recipient],
            hostname=server.host,
            port=server.port,
            username=server.user,
            password=server.password,
            use_tls=server.tls,
            # smtp://: STARTTLS whenever the server offers it (aiosmtplib's default), checked
            # like smtps:// against the system's CAs and EMAIL_CA_FILE
            tls_context=self.cfg.tls_context(),
            timeout=self.cfg.timeout,
        )
