"""A tiny IMAP4rev1 server for the sandbox's support mailbox: what the bot's mailbox reader
needs of RFC 3501 and nothing more (no TLS: loopback only, a demo password).

CAPABILITY, LOGIN, SELECT/EXAMINE, UID SEARCH (UNSEEN or ALL), UID FETCH of RFC822.SIZE,
BODY.PEEK[] and BODY.PEEK[HEADER], UID STORE of flags, IDLE (RFC 2177: a new message is pushed
as `* n EXISTS`), NOOP, CHECK, LOGOUT. Anything else is answered BAD, as a real server would.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import shlex

from loguru import logger

from sandbox.mail.store import MailStore

CAPABILITIES = "IMAP4rev1 IDLE"
HEADER_END_RE = re.compile(rb"\r?\n\r?\n")


class ImapSession:
    def __init__(
        self, store: MailStore, user: str, password: str,
        reader: asyncio.StreamReader, writer: asyncio.StreamWriter,
    ) -> None:  # fmt: skip
        self.store, self.user, self.password = store, user, password
        self.reader, self.writer = reader, writer
        self.logged_in = False
        self.selected = False
        self.told = 0  # the message count this client was last told (SELECT, EXISTS)

    def send(self, line: str | bytes) -> None:
        self.writer.write(line if isinstance(line, bytes) else line.encode() + b"\r\n")

    async def run(self) -> None:
        self.send(f"* OK [CAPABILITY {CAPABILITIES}] QuickCart sandbox mail ready")
        while True:
            raw = await self.reader.readline()
            if not raw:
                return
            line = raw.decode("utf-8", "replace").rstrip("\r\n")
            tag, _, rest = line.partition(" ")
            command, _, args = rest.partition(" ")
            if not tag or not command:
                self.send("* BAD empty command")
                continue
            if not await self.command(tag, command.upper(), args):
                await self.writer.drain()
                return
            await self.writer.drain()

    async def command(self, tag: str, command: str, args: str) -> bool:
        """Answer one command; False: the session ends."""
        if command == "CAPABILITY":
            self.send(f"* CAPABILITY {CAPABILITIES}")
        elif command in ("NOOP", "CHECK"):
            self.tell_exists()
        elif command == "LOGOUT":
            self.send("* BYE logging out")
            self.send(f"{tag} OK LOGOUT completed")
            return False
        elif command == "LOGIN":
            try:
                user, password = shlex.split(args)
            except ValueError:
                self.send(f"{tag} BAD LOGIN user password")
                return True
            if (user, password) != (self.user, self.password):
                self.send(f"{tag} NO [AUTHENTICATIONFAILED] wrong user or password")
                return True
            self.logged_in = True
        elif not self.logged_in:
            self.send(f"{tag} BAD log in first")
            return True
        elif command in ("SELECT", "EXAMINE"):
            self.selected = True
            count = self.told = len(self.store.inbox)
            self.send("* FLAGS (\\Seen \\Answered \\Flagged \\Deleted \\Draft)")
            self.send(f"* {count} EXISTS")
            self.send("* 0 RECENT")
            self.send("* OK [UIDVALIDITY 1] UIDs valid")
            self.send(f"* OK [UIDNEXT {self.store.next_uid}] predicted next UID")
            mode = "READ-WRITE" if command == "SELECT" else "READ-ONLY"
            self.send(f"{tag} OK [{mode}] {command} completed")
            return True
        elif not self.selected:
            self.send(f"{tag} BAD select a mailbox first")
            return True
        elif command == "UID":
            return self.uid(tag, args)
        elif command == "IDLE":
            await self.idle(tag)
            return True
        else:
            self.send(f"{tag} BAD {command} is not supported here")
            return True
        self.send(f"{tag} OK {command} completed")
        return True

    def tell_exists(self) -> None:
        if self.selected and len(self.store.inbox) != self.told:
            self.told = len(self.store.inbox)
            self.send(f"* {self.told} EXISTS")

    def uid(self, tag: str, args: str) -> bool:
        sub, _, rest = args.partition(" ")
        sub = sub.upper()
        if sub == "SEARCH":
            unseen = "UNSEEN" in rest.upper()
            uids = [m.uid for m in self.store.inbox if not (unseen and "\\Seen" in m.flags)]
            self.send("* SEARCH" + "".join(f" {u}" for u in uids))
        elif sub == "FETCH":
            uid_text, _, items = rest.partition(" ")
            for uid in _uids(uid_text):
                found = self.store.find(uid)
                if found is not None:
                    self.fetch(found.seq, found.uid, found.raw, items.upper())
        elif sub == "STORE":
            uid_text, _, change = rest.partition(" ")
            for uid in _uids(uid_text):
                found = self.store.find(uid)
                if found is not None and "+FLAGS" in change.upper():
                    found.flags.update(re.findall(r"\\\w+", change))
        else:
            self.send(f"{tag} BAD UID {sub} is not supported here")
            return True
        self.send(f"{tag} OK UID {sub} completed")
        return True

    def fetch(self, seq: int, uid: int, raw: bytes, items: str) -> None:
        if "RFC822.SIZE" in items:
            self.send(f"* {seq} FETCH (UID {uid} RFC822.SIZE {len(raw)})")
            return
        if "BODY.PEEK[HEADER]" in items or "BODY[HEADER]" in items:
            parts = HEADER_END_RE.split(raw, maxsplit=1)
            data, name = parts[0] + b"\r\n\r\n", "BODY[HEADER]"
        else:
            data, name = raw, "BODY[]"
        self.send(f"* {seq} FETCH (UID {uid} {name} {{{len(data)}}}".encode() + b"\r\n")
        self.send(data + b")\r\n")

    async def idle(self, tag: str) -> None:
        """RFC 2177: wait for DONE; a message that arrives meanwhile is told at once."""
        self.send("+ idling")
        self.tell_exists()  # what arrived since the client last looked
        await self.writer.drain()
        done = asyncio.ensure_future(self.reader.readline())
        try:
            while not done.done():
                changed = asyncio.ensure_future(self.store.changed.wait())
                await asyncio.wait({done, changed}, return_when=asyncio.FIRST_COMPLETED)
                changed.cancel()
                self.tell_exists()
                await self.writer.drain()
        finally:
            if not done.done():
                done.cancel()
        self.send(f"{tag} OK IDLE terminated")


def _uids(text: str) -> list[int]:
    found: list[int] = []
    for part in text.split(","):
        if part.isdigit():
            found.append(int(part))
    return found


class ImapServer:
    def __init__(self, store: MailStore, user: str, password: str) -> None:
        self.store, self.user, self.password = store, user, password
        self.server: asyncio.Server | None = None
        self.port = 0

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self.server = await asyncio.start_server(self._serve, host, port)
        self.port = self.server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        if self.server is not None:
            self.server.close()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self.server.wait_closed(), 2)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        session = ImapSession(self.store, self.user, self.password, reader, writer)
        try:
            await session.run()
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        except Exception:  # one broken session must not take the server down
            logger.exception("sandbox IMAP session failed")
        finally:
            writer.close()
