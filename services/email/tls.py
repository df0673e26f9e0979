"""TLS of the mail servers: imaps:// and smtps:// from the first byte, STARTTLS on imap:// and
smtp:// whenever the server offers it. A certificate is always checked (the CAs of the system
plus `EMAIL_CA_FILE`, and the host name); one that fails is refused, never used anyway, and the
log says why in words an operator can act on."""

from __future__ import annotations

import asyncio
import ssl

import aioimaplib

from services.email.config import Server


class StartTlsFailed(Exception):
    pass


def refusal(exc: BaseException, server: Server, what: str) -> str | None:
    """A sentence for the log when `exc` is a TLS failure (else None): which server, what is
    wrong with its certificate, what to do."""
    cause: BaseException | None = exc
    while cause is not None and not isinstance(cause, ssl.SSLError):
        cause = cause.__cause__ or cause.__context__
    if cause is None:
        return None
    where = f"{what} {server.host}:{server.port}"
    if isinstance(cause, ssl.SSLCertVerificationError):
        reason = cause.verify_message or cause.reason or str(cause)
        return (
            f"{where}: TLS certificate refused ({reason}); the connection was not used. Set "
            "EMAIL_CA_FILE to the CA that signed the server's certificate, or fix the host name "
            "in the URL to one the certificate names"
        )
    return f"{where}: TLS handshake failed ({cause.reason or cause}); the connection was not used"


async def imap_starttls(
    client: aioimaplib.IMAP4, server: Server, context: ssl.SSLContext, timeout: float
) -> None:
    """RFC 3501 STARTTLS: the command, the handshake on the same connection (certificate and
    host name checked), then the capabilities asked again (they may change under TLS)."""
    protocol = client.protocol
    command = aioimaplib.Command("STARTTLS", protocol.new_tag(), loop=protocol.loop)
    response = await asyncio.wait_for(protocol.execute(command), timeout)
    if response.result != "OK":
        raise StartTlsFailed(f"STARTTLS: {response.result} {response.lines[-1:]!r}")
    loop = asyncio.get_running_loop()
    protocol.transport = await asyncio.wait_for(
        loop.start_tls(protocol.transport, protocol, context, server_hostname=server.host),
        timeout,
    )
    await asyncio.wait_for(protocol.capability(), timeout)
