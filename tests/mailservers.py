"""Real mail servers for the e-mail channel's tests: Debian's Dovecot (IMAP, from a temporary
config: a passwd-file user, a maildir, a free loopback port; TLS with a certificate the test
makes, or none) and aiosmtpd (SMTP, plain, smtps or STARTTLS) with an inbox the tests read.
Used by tests/integration/email and tests/e2e."""

from __future__ import annotations

import asyncio
import imaplib
import os
import pwd
import shutil
import socket
import ssl
import subprocess
import tempfile
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from tests.net import free_port

DOVECOT = next(
    (p for p in ("/usr/sbin/dovecot", shutil.which("dovecot")) if p and Path(p).exists()), None
)
NO_DOVECOT = "Dovecot (Debian package dovecot-imapd) is not installed"

SUPPORT = "support@quickcart.test"
MAILBOXES = 500
PASSWORD = "s3cret-pass"


def _users() -> tuple[str, str, str]:
    """(mail uid, internal user, login user): Dovecot's own users when run as root (it will not
    run mail processes as root), else whoever runs the tests."""
    if os.geteuid() == 0:
        try:
            pwd.getpwnam("dovecot")
            pwd.getpwnam("dovenull")
            return "dovecot", "dovecot", "dovenull"
        except KeyError:
            return "nobody", "nobody", "nobody"
    me = pwd.getpwuid(os.geteuid()).pw_name
    return me, me, me


OPENSSL = shutil.which("openssl")
NO_OPENSSL = "openssl (Debian package openssl) is not installed: no test certificates"


@dataclass(frozen=True)
class Certs:
    """A test CA, a server certificate it signed (for 127.0.0.1 and localhost), and a second CA
    that signed nothing of this server (trusting it instead must get the server refused)."""

    ca: Path
    cert: Path
    key: Path
    other_ca: Path
    foreign_cert: Path  # signed by `ca` for another host name only (mail.example.org)
    foreign_key: Path


def _openssl(*args: str) -> None:
    assert OPENSSL is not None
    subprocess.run([OPENSSL, *args], check=True, capture_output=True)


def _ca(root: Path, name: str) -> tuple[Path, Path]:
    key, cert = root / f"{name}.key", root / f"{name}.pem"
    _openssl(
        "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
        "-keyout", str(key), "-out", str(cert), "-days", "2", "-subj", f"/CN={name}",
        "-addext", "basicConstraints=critical,CA:TRUE",
        "-addext", "keyUsage=critical,keyCertSign,cRLSign",
    )  # fmt: skip
    return cert, key


def _leaf(root: Path, name: str, ca: tuple[Path, Path], alt_names: str) -> tuple[Path, Path]:
    key, csr, cert = root / f"{name}.key", root / f"{name}.csr", root / f"{name}.pem"
    _openssl(
        "req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
        "-keyout", str(key), "-out", str(csr), "-subj", f"/CN={name}",
    )  # fmt: skip
    ext = root / f"{name}.ext"
    ext.write_text(
        f"subjectAltName={alt_names}\nbasicConstraints=critical,CA:FALSE\n"
        "keyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\n"
        "subjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid,issuer\n"
    )
    _openssl(
        "x509", "-req", "-in", str(csr), "-CA", str(ca[0]), "-CAkey", str(ca[1]),
        "-CAcreateserial", "-out", str(cert), "-days", "2", "-extfile", str(ext),
    )  # fmt: skip
    return cert, key


def make_certs(root: Path) -> Certs:
    """Made fresh by the test run (openssl): nothing secret is checked in."""
    root.mkdir(parents=True, exist_ok=True)
    ca = _ca(root, "QuickCart Test CA")
    other = _ca(root, "Somebody Else CA")
    cert, key = _leaf(root, "server", ca, "IP:127.0.0.1,DNS:localhost")
    foreign_cert, foreign_key = _leaf(root, "foreign", ca, "DNS:mail.example.org")
    for path in (key, foreign_key):
        os.chmod(path, 0o644)  # Dovecot's config process reads it as another user under root
    return Certs(ca[0], cert, key, other[0], foreign_cert, foreign_key)


def server_tls(certs: Certs, *, foreign: bool = False) -> ssl.SSLContext:
    """The server side of TLS, for aiosmtpd."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    if foreign:
        context.load_cert_chain(certs.foreign_cert, certs.foreign_key)
    else:
        context.load_cert_chain(certs.cert, certs.key)
    return context


TLS_OFF = "ssl = no\n"
TLS_ON = """ssl = yes
ssl_cert = <{cert}
ssl_key = <{key}
ssl_min_protocol = TLSv1.2
"""

CONFIG = """
protocols = imap
listen = 127.0.0.1
base_dir = {root}/run
log_path = {root}/dovecot.log
{tls}disable_plaintext_auth = no
auth_mechanisms = plain login
default_internal_user = {internal}
default_login_user = {login}
first_valid_uid = 0
mail_location = maildir:{root}/mail/%u
passdb {{
  driver = passwd-file
  args = scheme=PLAIN {root}/passwd
}}
userdb {{
  driver = static
  args = uid={uid} gid={gid} home={root}/mail/%u
}}
service imap-login {{
  chroot =
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    address = 127.0.0.1
    port = {tls_port}
  }}
}}
service anvil {{
  chroot =
}}
"""


@dataclass
class Dovecot:
    """One server per test session; each test gets a mailbox of its own (`mailbox()`)."""

    port: int
    root: Path
    user: str = SUPPORT
    tls_port: int = 0  # imaps://, when started with certificates

    @property
    def url(self) -> str:
        return f"imap://{self.user.replace('@', '%40')}:{PASSWORD}@127.0.0.1:{self.port}/INBOX"

    @property
    def imaps_url(self) -> str:
        assert self.tls_port, "this Dovecot was started without TLS"
        user = self.user.replace("@", "%40")
        return f"imaps://{user}:{PASSWORD}@127.0.0.1:{self.tls_port}/INBOX"

    def mailbox(self) -> Dovecot:
        """A new, empty mailbox on the same server (its users are written at start: Dovecot
        would miss a passwd-file changed twice within a second)."""
        taken = self.root / "taken"
        n = int(taken.read_text()) + 1 if taken.exists() else 1
        if n >= MAILBOXES:
            raise RuntimeError("no free mailbox left on the test Dovecot")
        taken.write_text(str(n))
        return Dovecot(self.port, self.root, f"box{n}@quickcart.test", self.tls_port)

    def client(self) -> imaplib.IMAP4:
        imap = imaplib.IMAP4("127.0.0.1", self.port, timeout=10)
        imap.login(self.user, PASSWORD)
        imap.select("INBOX")
        return imap

    def deliver(self, raw: bytes) -> None:
        """A message arrives in the support mailbox (as the MTA would put it there)."""
        imap = self.client()
        try:
            status, _ = imap.append("INBOX", None, None, raw)
            assert status == "OK"
        finally:
            imap.logout()

    def flags(self) -> list[str]:
        """Each message's flags, in mailbox order."""
        imap = self.client()
        try:
            _, data = imap.fetch("1:*", "(FLAGS)")
            return [str(item) for item in data if item]
        finally:
            imap.logout()


@contextmanager
def dovecot(certs: Certs | None = None) -> Iterator[Dovecot]:
    """`certs`: TLS on (imaps on a port of its own, STARTTLS offered on the plain one)."""
    assert DOVECOT is not None
    root = Path(tempfile.mkdtemp(prefix="qc-dovecot-"))
    uid, internal, login = _users()
    (root / "run").mkdir()
    (root / "mail").mkdir()
    users = [SUPPORT, *(f"box{n}@quickcart.test" for n in range(1, MAILBOXES))]
    (root / "passwd").write_text("".join(f"{user}:{{PLAIN}}{PASSWORD}\n" for user in users))
    os.chmod(root, 0o755)
    entry = pwd.getpwnam(uid)
    os.chown(root / "mail", entry.pw_uid, entry.pw_gid)
    port = free_port()
    tls_port = free_port() if certs is not None else 0
    tls = TLS_ON.format(cert=certs.cert, key=certs.key) if certs is not None else TLS_OFF
    conf = root / "dovecot.conf"
    conf.write_text(
        CONFIG.format(
            root=root,
            port=port,
            tls=tls,
            tls_port=tls_port,
            uid=entry.pw_uid,
            gid=entry.pw_gid,
            internal=internal,
            login=login,
        )
    )
    # it forks a daemon that keeps any pipe open: no output is captured
    subprocess.run(
        [DOVECOT, "-c", str(conf)], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        for listening in (port, tls_port) if tls_port else (port,):
            for _ in range(100):
                try:
                    with socket.create_connection(("127.0.0.1", listening), timeout=1):
                        break
                except OSError:
                    time.sleep(0.05)
        yield Dovecot(port, root, tls_port=tls_port)
    finally:
        pid_file = root / "run" / "master.pid"
        if pid_file.exists():
            pid = int(pid_file.read_text().strip())
            os.kill(pid, 15)
            for _ in range(100):
                try:
                    os.kill(pid, 0)
                except ProcessLookupError:
                    break
                time.sleep(0.05)
        shutil.rmtree(root, ignore_errors=True)


@dataclass
class SmtpInbox:
    """What aiosmtpd received: each message parsed, with its envelope."""

    port: int
    scheme: str = "smtp"  # smtps: TLS from the first byte
    messages: list[EmailMessage] = field(default_factory=list)
    envelopes: list[tuple[str, list[str]]] = field(default_factory=list)
    # aiosmtpd runs its own loop in a thread: it wakes the test's loop through this
    loop: asyncio.AbstractEventLoop = field(default_factory=asyncio.get_running_loop)
    arrived: asyncio.Event = field(default_factory=asyncio.Event)

    @property
    def url(self) -> str:
        return f"{self.scheme}://127.0.0.1:{self.port}"

    refuse: set[str] = field(default_factory=set)  # recipients answered 550

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, options: list[str]
    ) -> str:
        if address in self.refuse:
            return "550 5.1.1 No such user here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = message_from_bytes(envelope.content, policy=policy.default)
        assert isinstance(message, EmailMessage)
        self.messages.append(message)
        self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
        self.loop.call_soon_threadsafe(self.arrived.set)
        return "250 Message accepted for delivery"

    async def wait_for(self, count: int, timeout: float = 20.0) -> list[EmailMessage]:
        async def enough() -> None:
            while len(self.messages) < count:
                await self.arrived.wait()
                self.arrived.clear()

        await asyncio.wait_for(enough(), timeout)
        return self.messages


@asynccontextmanager
async def smtp_inbox(
    tls: ssl.SSLContext | None = None, *, starttls: bool = False
) -> AsyncIterator[SmtpInbox]:
    """`tls`: smtps (TLS from the first byte), or with `starttls` a plain port that requires
    STARTTLS before it takes any mail."""
    from aiosmtpd.controller import Controller

    inbox = SmtpInbox(free_port(), scheme="smtps" if tls is not None and not starttls else "smtp")
    options: dict[str, Any] = {}
    if tls is not None and starttls:
        options = {"tls_context": tls, "require_starttls": True}
    elif tls is not None:
        options = {"ssl_context": tls}
    controller = Controller(inbox, hostname="127.0.0.1", port=inbox.port, **options)
    controller.start()
    try:
        yield inbox
    finally:
        controller.stop()
