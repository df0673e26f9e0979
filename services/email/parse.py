"""A raw e-mail as the desk needs it (pure): who wrote, what they wrote as text, what they
attached, which ticket it answers, and whether a machine rather than a person sent it.

Real mail is messy: Gmail sends multipart/alternative, Outlook HTML with `<o:p>`, Apple Mail
quoted-printable with inline images in multipart/related, forwarded messages as message/rfc822
parts, headers in RFC 2047 encoded words. `email.policy.default` decodes all of that; this
module only chooses.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.header import decode_header, make_header
from email.message import EmailMessage, Message
from email.parser import BytesHeaderParser
from email.policy import compat32
from email.utils import getaddresses, parseaddr
from html import unescape
from html.parser import HTMLParser

from services.text import storable

SUBJECT_NUMBER_RE = re.compile(r"\[\s*QC-?0*(\d{1,12})\s*\]", re.IGNORECASE)
MESSAGE_ID_RE = re.compile(r"<[^<>\s]+>")
AUTOMATIC_SENDERS = ("mailer-daemon", "postmaster", "noreply", "no-reply", "do-not-reply")


@dataclass(frozen=True)
class Attachment:
    filename: str
    content_type: str
    data: bytes
    inline: bool = False

    @property
    def size(self) -> int:
        return len(self.data)


@dataclass(frozen=True)
class ParsedMail:
    message_id: str
    sender: str  # lower-cased address, '' when none could be read
    sender_name: str
    subject: str
    text: str
    in_reply_to: tuple[str, ...] = ()
    references: tuple[str, ...] = ()
    attachments: tuple[Attachment, ...] = field(default_factory=tuple)
    automatic: str | None = None  # why a machine sent it: a loop must not be answered
    language: str | None = None  # what its headers say (Content-Language, Accept-Language)
    unreadable: str | None = None  # why nobody could read it (encrypted, only winmail.dat...)

    @property
    def ticket_number(self) -> int | None:
        """The ticket id a subject names ("Re: [QC-000123] …")."""
        found = SUBJECT_NUMBER_RE.search(self.subject)
        return int(found.group(1)) if found else None

    @property
    def thread_ids(self) -> tuple[str, ...]:
        """Message-IDs this one answers, nearest first."""
        return tuple(dict.fromkeys((*self.in_reply_to, *reversed(self.references))))


def parse(raw: bytes, *, fallback_id: str = "") -> ParsedMail:
    message = message_from_bytes(raw, policy=policy.default)
    assert isinstance(message, EmailMessage)
    name, address = parseaddr(_header(message, "From"))
    message_id = _ids(_header(message, "Message-ID"))
    text, attachments = _body(message)
    return ParsedMail(
        message_id=message_id[0] if message_id else fallback_id,
        sender=address.strip().lower() if "@" in address else "",
        sender_name=storable(" ".join(name.split())),
        subject=storable(" ".join(_header(message, "Subject").split())),
        text=storable(text),
        in_reply_to=_ids(_header(message, "In-Reply-To")),
        references=_ids(_header(message, "References")),
        attachments=tuple(attachments),
        automatic=automatic(message, address),
        language=header_language(message),
        unreadable=unreadable(message, raw, text, attachments),
    )


ENCRYPTED_TYPES = ("multipart/encrypted", "application/pkcs7-mime", "application/x-pkcs7-mime")
TNEF_TYPES = ("application/ms-tnef", "application/vnd.ms-tnef")
HEADER_END_RE = re.compile(rb"\r?\n\r?\n")


def unreadable(
    message: Message, raw: bytes, text: str, attachments: list[Attachment]
) -> str | None:
    """Why no person could read this mail, or None: encrypted to a key the desk does not have,
    Outlook's rich text sealed in winmail.dat, or a body with content of which nothing decodes
    (a charset nobody knows, broken base64)."""
    if message.get_content_type() in ENCRYPTED_TYPES:
        return "encrypted (S/MIME or PGP)"
    if text.strip():
        return None
    if attachments and all(a.content_type in TNEF_TYPES for a in attachments):
        return "only Outlook's winmail.dat (TNEF)"
    if not attachments:
        parts = HEADER_END_RE.split(raw, maxsplit=1)
        if len(parts) == 2 and parts[1].strip():
            return "nothing in its body could be decoded"
    return None


LANGUAGE_HEADER_RE = re.compile(r"^\s*(id|in|en)\b", re.IGNORECASE)


def header_language(message: Message) -> str | None:
    """'id' or 'en' when the mail client says so (Outlook and Apple Mail send
    `Content-Language`, Thunderbird `Accept-Language`; 'in' is Indonesian's old code)."""
    for name in ("Content-Language", "Accept-Language"):
        found = LANGUAGE_HEADER_RE.match(_header(message, name))
        if found:
            return "en" if found.group(1).lower() == "en" else "id"
    return None


@dataclass(frozen=True)
class Envelope:
    """What can be read of a mail whose body cannot: who sent it, about what, and whether a
    machine did (then it is never answered)."""

    sender: str
    subject: str
    automatic: str | None
    language: str | None


def envelope(raw: bytes) -> Envelope:
    """The headers alone, read leniently (the old compat32 parser: it takes what it can and
    never raises on a broken header); a mail whose headers cannot be read at all says nothing."""
    try:
        message = BytesHeaderParser(policy=compat32).parsebytes(raw)
        _, address = parseaddr(str(message.get("From", "")))
        subject = str(make_header(decode_header(str(message.get("Subject", "")))))
        sender = address.strip().lower() if "@" in address else ""
        return Envelope(
            sender=sender,
            subject=storable(" ".join(subject.split()))[:300],
            automatic=automatic(message, sender),
            language=header_language(message),
        )
    except Exception:  # whatever breaks here, the answer is "nothing readable"
        return Envelope("", "", "unreadable headers", None)


def automatic(message: Message, sender: str) -> str | None:
    """Why this message must not be answered (RFC 3834 and the headers real auto-responders
    send), or None for a person's mail."""
    auto = _header(message, "Auto-Submitted").strip().lower()
    if auto and auto != "no":
        return f"auto-submitted: {auto}"
    precedence = _header(message, "Precedence").strip().lower()
    if precedence in ("bulk", "junk", "list", "auto_reply"):
        return f"precedence: {precedence}"
    for name in ("X-Autoreply", "X-Autorespond", "X-Loop"):
        value = _header(message, name).strip().lower()
        if value:
            return f"{name.lower()}: {value}"
    if message.get_content_type() == "multipart/report":
        return "delivery report"
    if _header(message, "Return-Path").strip() == "<>":
        return "bounce (empty return path)"
    local = sender.split("@", 1)[0].lower()
    if local in AUTOMATIC_SENDERS or local.startswith("mailer-daemon"):
        return f"sender: {local}"
    if _header(message, "List-Id") or _header(message, "List-Unsubscribe"):
        return "mailing list"
    return None


def addresses(value: str) -> list[str]:
    return [a.lower() for _, a in getaddresses([value]) if "@" in a]


def _header(message: Message, name: str) -> str:
    try:
        value = message.get(name)
    except (ValueError, IndexError):  # a header the parser cannot fold: read it raw
        value = message.get_all(name, [""])[0] if hasattr(message, "get_all") else ""
    return str(value) if value is not None else ""


def _ids(value: str) -> tuple[str, ...]:
    return tuple(MESSAGE_ID_RE.findall(value))


def _body(message: EmailMessage) -> tuple[str, list[Attachment]]:
    """The text a person wrote (plain preferred, else HTML made text) and every attachment,
    inline images included; a forwarded message's own text follows, marked."""
    attachments: list[Attachment] = []
    texts: list[str] = []
    _walk(message, texts, attachments)
    return "\n\n".join(t for t in texts if t.strip()).strip(), attachments


def _walk(part: EmailMessage, texts: list[str], attachments: list[Attachment]) -> None:
    ctype = part.get_content_type()
    if ctype == "message/rfc822":
        inner = part.get_payload()
        inner = inner[0] if isinstance(inner, list) else inner
        if isinstance(inner, EmailMessage):
            header = f"---------- Forwarded message ----------\nFrom: {_header(inner, 'From')}\n"
            header += f"Subject: {_header(inner, 'Subject')}"
            texts.append(header)
            _walk(inner, texts, attachments)
        return
    if part.is_multipart():
        if ctype == "multipart/alternative":
            chosen = _alternative(part)
            for sub in part.iter_parts():
                assert isinstance(sub, EmailMessage)
                # the text of one alternative; the files of all (Apple Mail puts an inline
                # image only beside its HTML twin)
                _walk(sub, texts if sub is chosen else [], attachments)
            return
        for sub in part.iter_parts():
            assert isinstance(sub, EmailMessage)
            _walk(sub, texts, attachments)
        return
    disposition = part.get_content_disposition()
    filename = part.get_filename()
    if ctype in ("text/plain", "text/html") and disposition != "attachment" and not filename:
        content = _content(part)
        texts.append(html_to_text(content) if ctype == "text/html" else content)
        return
    data = part.get_payload(decode=True)
    if not isinstance(data, bytes):
        return
    name = filename or _default_name(ctype, len(attachments) + 1)
    attachments.append(
        Attachment(storable(name), ctype, data, inline=disposition == "inline" or not filename)
    )


def _alternative(part: EmailMessage) -> EmailMessage | None:
    """multipart/alternative: the plain text when there is one, else the richest."""
    parts = [p for p in part.iter_parts() if isinstance(p, EmailMessage)]
    for p in parts:
        if p.get_content_type() == "text/plain":
            return p
    return parts[-1] if parts else None


def _content(part: EmailMessage) -> str:
    try:
        content = part.get_content()
    except (LookupError, ValueError):  # an unknown charset: keep what can be read
        data = part.get_payload(decode=True)
        content = data.decode("utf-8", "replace") if isinstance(data, bytes) else ""
    return str(content).replace("\r\n", "\n")


def _default_name(ctype: str, n: int) -> str:
    ext = {"image/png": "png", "image/jpeg": "jpg", "image/gif": "gif", "application/pdf": "pdf"}
    return f"attachment-{n}.{ext.get(ctype, 'bin')}"


class _TextOfHtml(HTMLParser):
    BLOCKS = frozenset(
        {"p", "div", "br", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote",
         "table", "ul", "ol", "hr", "pre"}
    )  # fmt: skip
    SKIP = frozenset({"style", "script", "head", "title"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.out: list[str] = []
        self.skipping = 0
        self.href: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self.SKIP:
            self.skipping += 1
        elif tag in self.BLOCKS:
            self.out.append("\n")
            if tag == "li":
                self.out.append("- ")
        elif tag == "a":
            self.href = dict(attrs).get("href")
        elif tag == "img":
            alt = dict(attrs).get("alt")
            if alt:
                self.out.append(f"[{alt}]")

    def handle_endtag(self, tag: str) -> None:
        if tag in self.SKIP:
            self.skipping = max(0, self.skipping - 1)
        elif tag in self.BLOCKS:
            self.out.append("\n")
        elif tag == "a" and self.href:
            href, self.href = self.href, None
            if href.startswith(("http://", "https://")) and href not in "".join(self.out[-1:]):
                self.out.append(f" ({href})")

    def handle_data(self, data: str) -> None:
        if not self.skipping:
            self.out.append(re.sub(r"\s+", " ", data))


def html_to_text(html: str) -> str:
    """HTML mail as the text a person reads: blocks as lines, links kept, styles dropped."""
    parser = _TextOfHtml()
    parser.feed(html)
    parser.close()
    lines = [line.strip() for line in unescape("".join(parser.out)).split("\n")]
    text = "\n".join(lines)
    return re.sub(r"\n{3,}", "\n\n", text).strip()


QUOTE_START_RE = re.compile(
    r"^(On .{0,200} wrote:|Pada .{0,200} menulis:|-{2,} ?Original Message ?-{2,}|"
    r"-{2,} ?Pesan Asli ?-{2,}|From: .{0,200}|Dari: .{0,200})$",
    re.IGNORECASE,
)


def without_quote(text: str) -> str:
    """A reply's own words: what follows "On … wrote:" (Gmail, Apple Mail), an Outlook
    "From: …" block or `>` lines is the earlier conversation, already in the ticket."""
    kept: list[str] = []
    for line in text.split("\n"):
        if QUOTE_START_RE.match(line.strip()):
            break
        if line.lstrip().startswith(">"):
            continue
        kept.append(line)
    own = "\n".join(kept).strip()
    return own or text.strip()


def _wordlist(text: str) -> list[str]:
    return text.split()


INDONESIAN = frozenset(
    _wordlist(
        "yang dan di ke dari saya tidak ini itu untuk dengan sudah belum tolong mohon bisa apa "
        "ada pesanan bayar pembayaran terima kasih kami akun tapi karena juga atau masih "
        "gagal uang dana saldo kenapa bagaimana sampai selamat pagi siang sore malam bapak ibu"
    )
)
ENGLISH = frozenset(
    _wordlist(
        "the and is are to of my i you it this that for with have has not was please can could "
        "would order payment account thank thanks hello hi dear why how when what help"
    )
)


def guess_language(text: str, default: str = "id") -> str:
    """'en' when the words are plainly English, else Indonesian (the default of the shop)."""
    words = re.findall(r"[a-z]+", text.lower())[:400]
    indonesian = sum(1 for w in words if w in INDONESIAN)
    english = sum(1 for w in words if w in ENGLISH)
    if english >= 2 and english > indonesian:
        return "en"
    if indonesian >= 1 and indonesian >= english:
        return "id"
    return default
