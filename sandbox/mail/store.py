"""The sandbox's mail, in memory: the support mailbox the bot reads over IMAP, and every mail the
bot sent over SMTP (its answers to customers), with what the world panel shows of both."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email import message_from_bytes, policy
from email.message import EmailMessage
from email.utils import format_datetime, formataddr, make_msgid, parseaddr
from typing import Any

MAX_KEPT = 200  # mails kept of each kind: a demo, not an archive
MAX_TEXT = 20_000


class MailError(ValueError):
    pass


@dataclass
class Stored:
    uid: int
    raw: bytes
    flags: set[str] = field(default_factory=set)
    seq: int = 0


@dataclass(frozen=True)
class Sent:
    """A mail the bot sent: its envelope and what its reader sees."""

    id: int
    mail_from: str
    to: list[str]
    subject: str
    text: str
    message_id: str
    in_reply_to: str
    references: str
    date: str


class MailStore:
    def __init__(self, support_address: str) -> None:
        self.address = support_address
        self.inbox: list[Stored] = []
        self.sent: list[Sent] = []
        self.next_uid = 1
        self.changed = asyncio.Event()
        self.notify: Any = lambda kind, payload: None  # the page's event bus, when mounted

    def _changed(self) -> None:
        old, self.changed = self.changed, asyncio.Event()
        old.set()

    def deliver(self, raw: bytes) -> Stored:
        """A mail arrives in the support mailbox (as an MTA would put it there)."""
        stored = Stored(self.next_uid, raw)
        self.next_uid += 1
        self.inbox.append(stored)
        del self.inbox[:-MAX_KEPT]
        for n, item in enumerate(self.inbox, start=1):
            item.seq = n
        self._changed()
        self.notify("mail_changed", {"uid": stored.uid})
        return stored

    def find(self, uid: int) -> Stored | None:
        return next((m for m in self.inbox if m.uid == uid), None)

    def received(self, mail_from: str, to: list[str], raw: bytes) -> Sent:
        """A mail the bot sent through the sandbox's SMTP server."""
        message = message_from_bytes(raw, policy=policy.default)
        assert isinstance(message, EmailMessage)
        body = message.get_body(preferencelist=("plain", "html"))
        text = body.get_content() if isinstance(body, EmailMessage) else ""
        sent = Sent(
            id=len(self.sent) + 1,
            mail_from=mail_from,
            to=to,
            subject=str(message.get("Subject", "")),
            text=str(text)[:MAX_TEXT],
            message_id=str(message.get("Message-ID", "")),
            in_reply_to=str(message.get("In-Reply-To", "")),
            references=str(message.get("References", "")),
            date=str(message.get("Date", "")),
        )
        self.sent.append(sent)
        del self.sent[:-MAX_KEPT]
        self.notify("mail_changed", {"sent": sent.id})
        return sent

    def customer_writes(
        self, *, sender: str, name: str = "", subject: str, text: str, in_reply_to: str = "",
        now: datetime | None = None,
    ) -> Stored:  # fmt: skip
        """The panel's form: a customer's mail to the support address, as their client would
        send it (answering one of the bot's mails threads it: In-Reply-To and References)."""
        _, address = parseaddr(sender)
        if "@" not in address or len(address) > 254:
            raise MailError("the sender must be an e-mail address like budi@example.com")
        if not text.strip() and not subject.strip():
            raise MailError("write a subject or a text")
        if len(text) > MAX_TEXT:
            raise MailError(f"the text is longer than {MAX_TEXT} characters")
        message = EmailMessage()
        message["From"] = formataddr((name.strip(), address)) if name.strip() else address
        message["To"] = self.address
        message["Subject"] = subject.strip()
        message["Date"] = format_datetime(now or datetime.now(UTC))
        message["Message-ID"] = make_msgid(domain=address.rsplit("@", 1)[1] or "example.com")
        answered = next((s for s in self.sent if s.message_id == in_reply_to), None)
        if answered is not None:
            message["In-Reply-To"] = answered.message_id
            message["References"] = f"{answered.references} {answered.message_id}".strip()
        message.set_content(text)
        return self.deliver(message.as_bytes())

    def view(self) -> dict[str, Any]:
        inbox = []
        for item in reversed(self.inbox[-30:]):
            message = message_from_bytes(item.raw, policy=policy.default)
            inbox.append(
                {
                    "uid": item.uid,
                    "from": str(message.get("From", "")),
                    "subject": str(message.get("Subject", "")),
                    "read_by_bot": "\\Seen" in item.flags,
                    "size": len(item.raw),
                }
            )
        sent = [
            {
                "id": s.id,
                "to": ", ".join(s.to),
                "subject": s.subject,
                "text": s.text,
                "message_id": s.message_id,
                "date": s.date,
            }
            for s in reversed(self.sent[-30:])
        ]
        return {"address": self.address, "inbox": inbox, "sent": sent}
