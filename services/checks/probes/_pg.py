"""A short-lived, read-only connection to a database the bot watches."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable
from contextlib import asynccontextmanager
from typing import TypeVar

import asyncpg

from services.checks.model import Sentence, Status
from services.checks.probe import NotConfigured, ProbeFailed
from services.checks.probes._common import Findings
from services.i18n import N_

APPLICATION_NAME = "quickcart-ops-check"
T = TypeVar("T")


def describe_error(exc: BaseException) -> str:
    """A short reason without the connection string (which may hold a password)."""
    if isinstance(exc, asyncpg.PostgresError):
        return f"{type(exc).__name__}: {exc}"[:300]
    if isinstance(exc, TimeoutError):
        return "timeout"
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    return type(exc).__name__


async def answer(
    found: Findings, query: Awaitable[T], failed: str, *, optional: bool = False
) -> T | None:
    """What a query of the watched database returns; None when it fails, and `failed` (a
    sentence with {reason}) is found: unknown, or only a note when the figure is `optional`."""
    try:
        return await query
    except asyncpg.PostgresError as exc:
        if optional:
            found.note(failed, reason=describe_error(exc))
        else:
            found.add(Status.UNKNOWN, failed, reason=describe_error(exc))
        return None


@asynccontextmanager
async def monitor_connection(
    url: str | None, *, setting: str, timeout: float
) -> AsyncIterator[asyncpg.Connection]:
    """Connect read-only with statement and lock timeouts; unreachable means critical."""
    if not url:
        raise NotConfigured(setting)
    statement_ms = str(max(100, int(timeout * 1000)))
    try:
        conn: asyncpg.Connection = await asyncpg.connect(
            url,
            timeout=timeout,
            command_timeout=timeout,
            server_settings={
                "application_name": APPLICATION_NAME,
                "default_transaction_read_only": "on",
                "statement_timeout": statement_ms,
                "lock_timeout": "1000",
            },
        )
    except (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
        raise ProbeFailed(
            Sentence(
                N_("The database cannot be reached: {reason}"), {"reason": describe_error(exc)}
            ),
            Status.CRIT,
        ) from None
    try:
        yield conn
    except asyncio.CancelledError:
        conn.terminate()
        raise
    finally:
        if not conn.is_closed():
            try:
                await asyncio.wait_for(conn.close(), 1.0)
            except (TimeoutError, OSError, asyncpg.InterfaceError):
                conn.terminate()
