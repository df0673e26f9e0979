"""Outgoing mail (pure): a reply in the customer's thread, and the texts only e-mail needs.

Every reply is `Re: [QC-000123] <their subject>`, answers their last message (`In-Reply-To`)
and carries the whole thread (`References`), so mail clients keep one conversation and the
customer's answer finds its ticket again by either.
"""

from __future__ import annotations

import re
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime, formataddr, make_msgid
from html import unescape

from services.i18n import gettext as _
from services.tickets.model import ticket_number

REPLY_PREFIX_RE = re.compile(r"^\s*((re|fw|fwd|aw|bls|balas|tr)\s*:\s*|\[\s*QC-?\d+\s*\]\s*)+",
                             re.IGNORECASE)  # fmt: skip
TAG_RE = re.compile(r"<[^>]*>")
MAX_REFERENCES = 20


def telegram_html_to_text(text: str) -> str:
    """The desk's texts are Telegram HTML (`<b>`, `<i>`, escaped user text, real newlines)."""
    return unescape(TAG_RE.sub("", text))


def reply_subject(ticket_id: int, subject: str) -> str:
    bare = REPLY_PREFIX_RE.sub("", subject).strip() or _("Your QuickCart support request")
    return f"Re: [{ticket_number(ticket_id)}] {bare}"


def reply_subject_plain(subject: str) -> str:
    bare = REPLY_PREFIX_RE.sub("", subject).strip() or _("Your QuickCart support request")
    return f"Re: {bare}"


def footer(ticket_id: int) -> str:
    return _(
        "To add to ticket {number}, simply reply to this e-mail (please keep [{number}] in "
        "the subject)."
    ).format(number=ticket_number(ticket_id))


def new_message_id(domain: str) -> str:
    return make_msgid(idstring="qc", domain=domain)


def reply(
    *, sender: str, display_name: str, recipient: str, subject: str, body: str,
    message_id: str, in_reply_to: str | None, references: tuple[str, ...], now: datetime,
) -> EmailMessage:  # fmt: skip
    message = EmailMessage()
    message["From"] = formataddr((display_name, sender))
    message["To"] = recipient
    message["Subject"] = subject
    message["Date"] = format_datetime(now)
    message["Message-ID"] = message_id
    if in_reply_to:
        message["In-Reply-To"] = in_reply_to
    if references:
        message["References"] = " ".join(references[-MAX_REFERENCES:])
    # Outlook's and Exchange's auto-responders must not answer us (a loop starts there)
    message["X-Auto-Response-Suppress"] = "All"
    message.set_content(body)
    return message


def signature_name() -> str:
    return _("QuickCart Support")


def body(text: str, ticket_id: int, display_name: str, address: str) -> str:
    """The text, then the signature block (`-- `) with the way back into the ticket."""
    who = f"{display_name} · {address}" if address else display_name
    return f"{text.strip()}\n\n-- \n{who}\n{footer(ticket_id)}\n"


def rate_by_reply() -> str:
    return _("To rate, reply to this e-mail with just a number from 1 to 5.")


RATING_RE = re.compile(r"^\s*([1-5])\s*(/\s*5)?\s*(stars?|bintang)?\s*[.!]?\s*$", re.IGNORECASE)


def rating_in(text: str) -> int | None:
    """A reply that is only a rating ("5", "4/5", "5 bintang")."""
    found = RATING_RE.match(text)
    return int(found.group(1)) if found else None


def attachment_refused(names: list[str], limit_mb: int, count: int) -> str:
    return _(
        "We could not accept these attachments: {names}. Each e-mail may carry at most "
        "{count} files of at most {limit} MB each. Please send them in another e-mail, "
        "smaller, or as links."
    ).format(limit=limit_mb, names=", ".join(names), count=count)


def too_large(limit_mb: int) -> str:
    return _(
        "Your e-mail is larger than {limit} MB, so we could not take it in. Please send it "
        "again without the large attachments, or with links to them."
    ).format(limit=limit_mb)


def slow_down() -> str:
    return _(
        "We have received many e-mails from you in the last hour. Further e-mails this hour "
        "are kept but not added to a ticket; please wait for our answer."
    )


def unreadable() -> str:
    return _(
        "We could not read your e-mail: its content is damaged or in a form we cannot open, so "
        "it was not added to a ticket. Please send it again as plain text."
    )
