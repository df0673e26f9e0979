"""The e-mail channel's settings: the support address, its mailbox and the outgoing server,
read from `SUPPORT_EMAIL`, `IMAP_URL`, `SMTP_URL` (the channel is off without them)."""

from __future__ import annotations

import ssl
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit


class EmailConfigError(ValueError):
    pass


@dataclass(frozen=True)
class Server:
    """`imap(s)://user:pass@host:port/MAILBOX` or `smtp(s)://user:pass@host:port`."""

    tls: bool
    host: str
    port: int
    user: str | None
    password: str | None
    path: str  # the IMAP mailbox

    def __repr__(self) -> str:  # never the password
        return f"Server(tls={self.tls}, host={self.host!r}, port={self.port}, user={self.user!r})"


DEFAULT_PORTS = {"imap": 143, "imaps": 993, "smtp": 25, "smtps": 465}


def server(url: str, kind: str) -> Server:
    parts = urlsplit(url)
    if parts.scheme not in (kind, kind + "s") or not parts.hostname:
        raise EmailConfigError(f"expected {kind}:// or {kind}s://host (got {parts.scheme}://)")
    return Server(
        tls=parts.scheme.endswith("s"),
        host=parts.hostname,
        port=parts.port or DEFAULT_PORTS[parts.scheme],
        user=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password else None,
        path=unquote(parts.path.lstrip("/")) or "INBOX",
    )


@dataclass(frozen=True)
class EmailConfig:
    address: str  # support@quickcart.id: From of every reply
    imap: Server
    smtp: Server
    display_name: str = "QuickCart Support"
    max_message_bytes: int = 25 * 1024 * 1024  # larger: headers kept, the sender told
    max_attachment_bytes: int = 10 * 1024 * 1024  # larger: refused with a reply
    max_attachments: int = 10  # files per mail posted in the topic; the rest refused likewise
    max_text_chars: int = 12_000  # longer: cut in the topic, the whole text attached as a file
    messages_per_hour: int = 20  # per sender: beyond it a mail bomb, kept but not ticketed
    poll_seconds: float = 60.0  # without IDLE; with IDLE, the longest wait between looks
    timeout: float = 30.0  # every IMAP / SMTP command
    send_attempts: int = 8
    # EMAIL_CA_FILE: a PEM file of CAs trusted beside the system's (a company CA, a server's
    # own self-signed certificate). Certificates and host names are always checked.
    ca_file: str | None = None

    def tls_context(self) -> ssl.SSLContext:
        """For imaps:// and smtps://, and for STARTTLS on imap:// and smtp:// when the server
        offers it: verified against the system's CAs and `ca_file`, the host name checked."""
        context = ssl.create_default_context(ssl.Purpose.SERVER_AUTH)
        if self.ca_file:
            context.load_verify_locations(cafile=self.ca_file)
        return context

    @property
    def domain(self) -> str:
        return self.address.rsplit("@", 1)[-1]

    @classmethod
    def from_urls(
        cls, address: str | None, imap_url: str | None, smtp_url: str | None, **limits: object
    ) -> EmailConfig | None:
        """None when the channel is not configured (all three are needed)."""
        if not (address and imap_url and smtp_url):
            return None
        return cls(
            address=address.strip().lower(),
            imap=server(imap_url, "imap"),
            smtp=server(smtp_url, "smtp"),
            **limits,  # type: ignore[arg-type]
        )
