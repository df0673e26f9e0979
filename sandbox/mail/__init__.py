"""The sandbox's mail stand-in: the support mailbox (a tiny IMAP server) and the outgoing mail
server (aiosmtpd) in the sandbox's own process, so the e-mail channel can be tried in the
browser: the world panel writes as a customer and shows what the bot mailed back."""

from __future__ import annotations

import contextlib
from typing import Any

from aiosmtpd.smtp import SMTP, Envelope, Session

from sandbox.mail.imap import ImapServer
from sandbox.mail.store import MailError, MailStore

__all__ = ["MailError", "MailStandIn", "MailStore"]

SUPPORT_ADDRESS = "support@quickcart.test"
USER = "support"
PASSWORD = "sandbox-mail"  # loopback only; the bot's logs redact it like every URL password


class _Receiver:
    """aiosmtpd's handler: every mail the bot sends lands in the store."""

    def __init__(self, store: MailStore) -> None:
        self.store = store

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        content = envelope.content
        raw = content if isinstance(content, bytes) else str(content).encode()
        self.store.received(str(envelope.mail_from), [str(r) for r in envelope.rcpt_tos], raw)
        return "250 Message accepted for delivery"


class MailStandIn:
    def __init__(self, address: str = SUPPORT_ADDRESS) -> None:
        self.store = MailStore(address)
        self.imap = ImapServer(self.store, USER, PASSWORD)
        self._smtp: Any = None
        self.smtp_port = 0

    async def start(self, host: str = "127.0.0.1") -> None:
        import asyncio

        await self.imap.start(host)
        loop = asyncio.get_running_loop()
        receiver = _Receiver(self.store)
        self._smtp = await loop.create_server(
            lambda: SMTP(receiver, hostname="mail.sandbox.quickcart.test"), host, 0
        )
        self.smtp_port = self._smtp.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        await self.imap.stop()
        if self._smtp is not None:
            self._smtp.close()
            with contextlib.suppress(Exception):
                await self._smtp.wait_closed()

    @property
    def imap_url(self) -> str:
        return f"imap://{USER}:{PASSWORD}@127.0.0.1:{self.imap.port}/INBOX"

    @property
    def smtp_url(self) -> str:
        return f"smtp://127.0.0.1:{self.smtp_port}"
