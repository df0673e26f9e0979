"""The support mailbox, read over IMAP (aioimaplib): every unseen message is stored whole in
PostgreSQL, and only then flagged \\Seen on the server, so a crash between the two fetches it
again (stored once: its Message-ID is unique) and nothing is lost. The desk takes the stored
messages in afterwards (intake.py).

The reader waits with IDLE when the server offers it (a new message is read at once), else
polls every `poll_seconds`; either way it looks again at least that often. A server that
hangs or drops the connection is retried with a growing pause.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import aioimaplib
import asyncpg
from loguru import logger

from services.clock import Clock
from services.email import store, tls
from services.email.config import EmailConfig
from services.email.parse import envelope, parse

FETCH_LITERAL_RE = re.compile(rb"UID (\d+)")
SIZE_RE = re.compile(rb"RFC822\.SIZE (\d+)")


class MailboxError(Exception):
    pass


@dataclass(frozen=True)
class Fetched:
    uid: str
    email_id: int | None  # None: stored before


async def connect(cfg: EmailConfig) -> aioimaplib.IMAP4:
    """Log in and select the mailbox: over TLS for imaps://, and for imap:// upgraded with
    STARTTLS before the password is sent whenever the server offers it (tls.py)."""
    server = cfg.imap
    context = cfg.tls_context()
    if server.tls:
        client: aioimaplib.IMAP4 = aioimaplib.IMAP4_SSL(
            host=server.host, port=server.port, timeout=cfg.timeout, ssl_context=context
        )
    else:
        client = aioimaplib.IMAP4(host=server.host, port=server.port, timeout=cfg.timeout)
    await asyncio.wait_for(client.wait_hello_from_server(), cfg.timeout)
    if not server.tls and client.has_capability("STARTTLS"):
        await tls.imap_starttls(client, server, context, cfg.timeout)
    _ok(await client.login(server.user or "", server.password or ""), "LOGIN")
    _ok(await client.select(server.path), "SELECT")
    return client


def _ok(response: aioimaplib.Response, what: str) -> aioimaplib.Response:
    if response.result != "OK":
        raise MailboxError(f"{what}: {response.result} {response.lines[-1:]!r}")
    return response


async def unseen(client: aioimaplib.IMAP4) -> list[str]:
    response = _ok(await client.uid_search("UNSEEN"), "SEARCH")
    return [uid for line in response.lines[:-1] for uid in line.decode().split() if uid.isdigit()]


async def fetch_new(pool: asyncpg.Pool, client: aioimaplib.IMAP4, cfg: EmailConfig,
                    clock: Clock) -> list[Fetched]:  # fmt: skip
    """Store every unseen message, then flag it seen: in that order, one by one."""
    done: list[Fetched] = []
    for uid in await unseen(client):
        done.append(await _take(pool, client, cfg, clock, uid))
    return done


async def _take(
    pool: asyncpg.Pool, client: aioimaplib.IMAP4, cfg: EmailConfig, clock: Clock, uid: str
) -> Fetched:
    size = await _size(client, uid)
    if size is not None and size > cfg.max_message_bytes:
        # the headers only, stored for the desk to refuse (and answer, and count) when it
        # takes the message in: the refusal is decided in one place for every kind
        raw = await _part(client, uid, "BODY.PEEK[HEADER]")
        reason: str | None = f"{store.TOO_LARGE}: {size} bytes (headers kept)"
    else:
        raw = await _part(client, uid, "BODY.PEEK[]")
        reason = None
    message_id, sender, subject = _headline(raw, f"<imap-{uid}-{size or len(raw)}@{cfg.domain}>")
    email_id = await store.store_incoming(
        pool, message_id=message_id, sender=sender, subject=subject, raw=raw,
        now=clock.now(), reason=reason,
    )  # fmt: skip
    # stored (now or before): only now may the server forget it is new
    _ok(await client.uid("store", uid, "+FLAGS.SILENT", r"(\Seen)"), "STORE")
    return Fetched(uid, email_id)


def _headline(raw: bytes, fallback_id: str) -> tuple[str, str, str]:
    """(Message-ID, sender, subject) to store it by; a message that cannot be parsed is stored
    all the same, by its headers read leniently (the desk refuses it as unreadable)."""
    try:
        mail = parse(raw, fallback_id=fallback_id)
    except Exception:  # nothing a sender wrote may keep the mailbox from moving
        found = envelope(raw)
        return fallback_id, found.sender, found.subject
    return mail.message_id, mail.sender, mail.subject


async def _size(client: aioimaplib.IMAP4, uid: str) -> int | None:
    response = _ok(await client.uid("fetch", uid, "(RFC822.SIZE)"), "FETCH")
    for line in response.lines:
        if isinstance(line, bytes | bytearray):
            found = SIZE_RE.search(bytes(line))
            if found:
                return int(found.group(1))
    return None


async def _part(client: aioimaplib.IMAP4, uid: str, part: str) -> bytes:
    response = _ok(await client.uid("fetch", uid, f"({part})"), "FETCH")
    for line in response.lines:
        if isinstance(line, bytearray):  # the literal: the message itself
            return bytes(line)
    raise MailboxError(f"FETCH {uid} {part}: no message in the answer")


class MailboxReader:
    """The worker: connect, store what is new, take it in, wait (IDLE or a pause), again."""

    def __init__(
        self, pool: asyncpg.Pool, cfg: EmailConfig, clock: Clock,
        take_in: Callable[[], Awaitable[object]],
    ) -> None:  # fmt: skip
        self.pool, self.cfg, self.clock, self.take_in = pool, cfg, clock, take_in
        self.stopping = asyncio.Event()
        self.looked = asyncio.Event()  # set after every look at the mailbox (tests wait on it)
        self.idle_supported: bool | None = None

    async def stop(self) -> None:
        self.stopping.set()

    async def run(self) -> None:
        pause = 1.0
        await self.take_in()  # what was stored before a restart
        while not self.stopping.is_set():
            try:
                await self._session()
                pause = 1.0
            except (TimeoutError, OSError, MailboxError, aioimaplib.Abort,
                    aioimaplib.CommandTimeout, tls.StartTlsFailed) as exc:  # fmt: skip
                told = tls.refusal(exc, self.cfg.imap, "support mailbox")
                if told is not None:  # a certificate is not a passing fault: said plainly
                    logger.error("{}; again in {:.0f}s", told, pause)
                else:
                    logger.warning("support mailbox: {}; again in {:.0f}s", exc, pause)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self.stopping.wait(), pause)
                pause = min(pause * 2, 300.0)

    async def _session(self) -> None:
        client = await connect(self.cfg)
        try:
            self.idle_supported = client.has_capability("IDLE")
            while not self.stopping.is_set():
                fetched = await fetch_new(self.pool, client, self.cfg, self.clock)
                if fetched:
                    logger.info("support mailbox: {} new message(s) stored", len(fetched))
                await self.take_in()
                self.looked.set()
                await self._wait(client)
        finally:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(client.logout(), 5)

    async def _wait(self, client: aioimaplib.IMAP4) -> None:
        """Until the server says something changed (IDLE), the pause ends, or we stop."""
        if not self.idle_supported:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.stopping.wait(), self.cfg.poll_seconds)
            return
        idle = await client.idle_start(timeout=self.cfg.poll_seconds + 30)
        push = asyncio.ensure_future(client.wait_server_push(timeout=self.cfg.poll_seconds))
        stop = asyncio.ensure_future(self.stopping.wait())
        try:
            await asyncio.wait({push, stop}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in (push, stop):
                task.cancel()
            if push.done() and not push.cancelled():
                push.exception()  # a quiet pause ends in TimeoutError: just look again
            if client.has_pending_idle():
                client.idle_done()
            await asyncio.wait_for(idle, self.cfg.timeout)
